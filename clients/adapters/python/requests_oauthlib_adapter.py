"""oauthsim adapter for requests-oauthlib's OAuth2Session
(requests_oauthlib.OAuth2Session, on oauthlib's WebApplicationClient),
wired as requests-oauthlib's "OAuth 2 workflow" documentation shows:

- web application flow: authorization_url(authorization_endpoint), then
  fetch_token(token_endpoint, authorization_response=..., client_secret=...);
- "Refreshing tokens", the automatic way: OAuth2Session(token=...,
  auto_refresh_url=token_endpoint, auto_refresh_kwargs={client_id,
  client_secret}, token_updater=saver): on TokenExpiredError the session
  refreshes, hands the new token to token_updater, and retries the request;
- API calls through the session (session.get).

PKCE: requests-oauthlib 1.3.0 has none (OAuth2Session(pkce="S256") came in
2.0.0). The simulator's confidential client does not need it, so a
confidential client runs the flow without PKCE, as the 1.3.0 docs show. A
public client (no secret file) must use PKCE: it takes it from oauthlib 3.2
(WebApplicationClient.create_code_verifier / create_code_challenge), passing
code_challenge to authorization_url and code_verifier to fetch_token as the
"extra parameters" both accept.

No logout: the library has no token revocation.

Persisting the token is left to the application: it saves what fetch_token
returns, and token_updater saves refreshed tokens (the docs' token_saver)
to a JSON file in OAUTHSIM_STATE_DIR; a restart builds the session with the
stored token.

Run: /usr/bin/python3 clients/adapters/python/requests_oauthlib_adapter.py
"""

import importlib.metadata
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import protocol  # noqa: E402


# The simulator is plain HTTP on loopback; oauthlib refuses http:// unless
# told otherwise, as the requests-oauthlib docs do for local testing.
os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")

import requests  # noqa: E402
from oauthlib.oauth2 import OAuth2Error, WebApplicationClient  # noqa: E402
from oauthlib.oauth2.rfc6749.errors import (  # noqa: E402
    InsecureTransportError, MismatchingStateError, MissingCodeError, MissingTokenError, MissingTokenTypeError,
    TokenExpiredError)
from requests_oauthlib import OAuth2Session  # noqa: E402

log = protocol.log

# The timeout of every request through the session; a request's kwargs go
# on to the refresh it triggers, so it bounds the automatic refresh too.
TIMEOUT = 10


# Errors oauthlib raises of itself, not from a provider's answer: its own
# words, whatever error code they carry. MissingTokenError is not one: see
# failure.
OWN_ERRORS = (TokenExpiredError, InsecureTransportError, MismatchingStateError, MissingCodeError,
              MissingTokenTypeError)


class Adapter(protocol.Adapter):
    def __init__(self, env):
        super().__init__(env, "requests-oauthlib-token.json")
        self.verifier = None
        # The docs' "extra" for the refresh request: client credentials in
        # its body (client_secret_post).
        refresh_kwargs = {"client_id": env.client_id}
        if not env.public:
            refresh_kwargs["client_secret"] = env.secret()
        self.session = OAuth2Session(
            client_id=env.client_id,
            scope=env.scope_list(),
            redirect_uri=env.redirect_uri,
            token=self.stored_token,
            auto_refresh_url=self.meta["token_endpoint"],
            auto_refresh_kwargs=refresh_kwargs,
            # The docs' token_saver: save the refreshed token.
            token_updater=self.save_refreshed,
        )

    # --- ops (no logout: the library has no token revocation) ---------------

    def reload(self):
        # The operator changed the client secret in its file: the next
        # refresh sends the new one.
        if not self.env.public:
            self.session.auto_refresh_kwargs["client_secret"] = self.env.secret()
        return {}

    def authorize(self):
        extra = self.env.extra_authorize_params()
        if self.env.public:
            pkce = WebApplicationClient(self.env.client_id)
            verifier = pkce.create_code_verifier(64)
            extra.update(code_challenge=pkce.create_code_challenge(verifier, "S256"), code_challenge_method="S256")
            with self.mu:
                self.verifier = verifier
        # authorization_url makes the state and keeps it in the session.
        url, _state = self.session.authorization_url(self.meta["authorization_endpoint"], **extra)
        return {"url": url}

    def callback(self, url):
        kwargs = {"timeout": TIMEOUT}
        if self.env.public:
            with self.mu:
                kwargs["code_verifier"] = self.verifier
            kwargs["include_client_id"] = True  # no client secret: client_id in the body
        else:
            kwargs["client_secret"] = self.env.secret()  # HTTP Basic with client_id
        try:
            # fetch_token checks the state against the session's.
            token = self.session.fetch_token(self.meta["token_endpoint"], authorization_response=url, **kwargs)
        except Exception as exc:
            return self.failure(exc)
        return self.granted(token)

    def call(self):
        # The docs' own test: `authorized` is False when the user has not
        # been through the authorization dance yet.
        if not self.session.authorized:
            return protocol.outcome("reauthorize", "no_grant", "the session holds no token")
        try:
            resp = self.session.get(self.env.resource, timeout=TIMEOUT)
        except Exception as exc:
            return self.failure(exc)
        return protocol.api_response_outcome(resp)

    def failure(self, exc):
        """Maps what requests-oauthlib / oauthlib raised to an outcome."""
        msg = protocol.describe(exc)
        if isinstance(exc, MissingTokenError):
            # oauthlib's validate_token_parameters, on a token answer with
            # neither an error nor an access_token: what parse_token_response
            # makes of a body that is not JSON (an HTML 500, an empty or cut
            # answer) or of JSON without a token. fetch_token and the refresh
            # pass it the body whatever the status; the answer was unreadable.
            return protocol.unreadable_answer_outcome(self.granted_at, msg)
        if isinstance(exc, OAuth2Error) and not isinstance(exc, OWN_ERRORS):
            # oauthlib raises the error of the token answer's body as an
            # OAuth2Error subclass carrying error and description (and no
            # HTTP status: it never looks at the status).
            return self.token_error(exc, exc.error, exc.description)
        if isinstance(exc, OAuth2Error):
            return protocol.outcome("error", None, msg)
        return protocol.requests_outcome(exc, self.granted_at, msg)


def main():
    protocol.setup_logging("requests-oauthlib-adapter")
    env = protocol.Env()
    adapter = Adapter(env)
    version = importlib.metadata.version("requests-oauthlib")
    caps = ["refresh", "restart", "concurrency", "secret_rotation", "clock:faketime"]
    log.info("requests-oauthlib %s, oauthlib %s, requests %s, profile %s, public client: %s, %s", version,
             importlib.metadata.version("oauthlib"), requests.__version__, env.profile, env.public,
             protocol.faketime_note())
    return protocol.Server("requests-oauthlib", version, caps, adapter.handle).run()


if __name__ == "__main__":
    sys.exit(main())
