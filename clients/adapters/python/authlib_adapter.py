"""oauthsim adapter for Authlib's requests OAuth2Session
(authlib.integrations.requests_client.OAuth2Session), wired as Authlib's
client documentation shows:

- authorization code with PKCE: OAuth2Session(..., code_challenge_method="S256"),
  create_authorization_url(url, code_verifier=generate_token(48)), then
  fetch_token(token_endpoint, authorization_response=..., code_verifier=...);
- automatic refresh: the session gets token_endpoint (as metadata) and an
  update_token callback; OAuth2Auth refreshes an expired token before a
  request and calls update_token with the new one;
- API calls through the session (session.get);
- logout: revoke_token(revocation_endpoint) (RFC 7009).

Persisting the token is left to the application: it saves the token that
fetch_token returns, and update_token saves refreshed ones (Authlib's
"Auto Update Token" example saves it to a database; this saves it to a
JSON file in OAUTHSIM_STATE_DIR). A restart builds the session with the
stored token, as the docs' OAuth2Session(token=token) does.

Run: /usr/bin/python3 clients/adapters/python/authlib_adapter.py
"""

import os
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import protocol  # noqa: E402


import authlib  # noqa: E402
import requests  # noqa: E402
from authlib.common.errors import AuthlibBaseError  # noqa: E402
from authlib.common.security import generate_token  # noqa: E402
from authlib.integrations.requests_client import OAuth2Session  # noqa: E402
from authlib.integrations.base_client import InvalidTokenError, MissingTokenError  # noqa: E402

log = protocol.log

# Every HTTP request the session makes (token endpoint and API) gets this
# timeout (OAuth2Session's documented default_timeout); requests has none by
# default and would wait forever on a hung endpoint.
TIMEOUT = 10


class Adapter:
    def __init__(self, env):
        self.env = env
        self.meta = protocol.discover(env)
        self.store = protocol.TokenStore(env, "authlib-token.json")
        stored = self.store.load() or {}
        self.granted_at = stored.get("granted_at")
        self.mu = threading.Lock()  # guards the pending authorization only
        self.pending_state = None
        self.pending_verifier = None
        self.session = OAuth2Session(
            client_id=env.client_id,
            client_secret=env.secret(),  # None for a public client: auth method "none"
            scope=" ".join(env.scope_list()),
            redirect_uri=env.redirect_uri,
            code_challenge_method="S256",
            token=stored.get("token"),
            token_endpoint=self.meta["token_endpoint"],
            update_token=self.update_token,
            default_timeout=TIMEOUT,
        )

    def update_token(self, token, refresh_token=None, access_token=None):
        """Authlib calls this after it refreshed the token: the application
        persists it (the simplest thing Authlib's docs show: save the new
        token where the old one was)."""
        self.store.save(token, self.granted_at)

    # --- ops ---------------------------------------------------------------

    def handle(self, req):
        op = req["op"]
        if op == "authorize":
            return self.authorize()
        if op == "callback":
            return self.callback(req.get("url", ""))
        if op == "call":
            return self.call()
        if op == "logout":
            return self.logout()
        if op == "reload":
            # The operator changed the client secret in its file: give the
            # session the new one (it builds its client auth from
            # session.client_secret for every token request).
            self.session.client_secret = self.env.secret()
            return {}
        if op == "time":
            return {}  # clock:faketime: the process's clock already moved
        return {"error": "unknown op %r" % op}

    def authorize(self):
        verifier = generate_token(48)
        url, state = self.session.create_authorization_url(
            self.meta["authorization_endpoint"], code_verifier=verifier, **self.env.extra_authorize_params())
        with self.mu:
            self.pending_state, self.pending_verifier = state, verifier
        return {"url": url}

    def callback(self, url):
        with self.mu:
            state, verifier = self.pending_state, self.pending_verifier
        try:
            # fetch_token checks the state and redeems the code.
            token = self.session.fetch_token(
                self.meta["token_endpoint"], authorization_response=url, state=state, code_verifier=verifier)
        except Exception as exc:
            return self.failure(exc)
        self.granted_at = time.time()
        # The docs leave saving the first token to the application.
        self.store.save(token, self.granted_at)
        return protocol.outcome("ok")

    def call(self):
        try:
            resp = self.session.get(self.env.resource)
        except Exception as exc:
            return self.failure(exc)
        return protocol.api_response_outcome(resp)

    def logout(self):
        if not self.session.token:
            self.store.clear()
            return protocol.outcome("ok")
        endpoint = self.meta.get("revocation_endpoint")
        if not endpoint:
            return protocol.outcome("error", None, "the provider has no revocation_endpoint")
        try:
            # With no token given, revoke_token revokes the refresh token
            # (or the access token when there is none).
            resp = self.session.revoke_token(endpoint)
        except Exception as exc:
            return self.failure(exc)
        if not 200 <= resp.status_code < 300:
            msg = "revocation answered HTTP %d" % resp.status_code
            return protocol.http_status_outcome(resp.status_code, msg) or protocol.outcome("error", None, msg)
        # Forget the tokens.
        self.session.token = None
        self.store.clear()
        return protocol.outcome("ok")

    def failure(self, exc):
        """Maps what Authlib raised to an outcome."""
        msg = protocol.describe(exc)
        if isinstance(exc, MissingTokenError):
            # OAuth2Session.request: no token at all.
            return protocol.outcome("reauthorize", "no_grant", msg)
        if isinstance(exc, InvalidTokenError):
            # OAuth2Auth.ensure_active_token: the token expired and the
            # session has no refresh token to renew it with.
            return protocol.outcome("reauthorize", "no_refresh_token", msg)
        if isinstance(exc, AuthlibBaseError):
            # An OAuth error from the token endpoint (OAuthError with the
            # provider's error and error_description), or a callback error.
            return protocol.oauth_error_outcome(exc.error, exc.description, self.granted_at, msg)
        # parse_response_token raises for a 5xx token answer: requests_outcome reads its status.
        return protocol.requests_outcome(exc, msg)


def main():
    protocol.setup_logging("authlib-adapter")
    env = protocol.Env()
    adapter = Adapter(env)
    caps = ["refresh", "restart", "concurrency", "logout", "secret_rotation", "clock:faketime"]
    log.info("Authlib %s, requests %s, profile %s, public client: %s, %s", authlib.__version__,
             requests.__version__, env.profile, env.public, protocol.faketime_note())
    return protocol.Server("authlib", authlib.__version__, caps, adapter.handle).run()


if __name__ == "__main__":
    sys.exit(main())
