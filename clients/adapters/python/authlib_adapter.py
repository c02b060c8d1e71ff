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

import json
import os
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import protocol  # noqa: E402


import authlib  # noqa: E402
import requests  # noqa: E402
from authlib.common.security import generate_token  # noqa: E402
from authlib.integrations.requests_client import OAuth2Session  # noqa: E402
from authlib.integrations.base_client import InvalidTokenError, MissingTokenError, OAuthError  # noqa: E402

log = protocol.log

# Every HTTP request the session makes (token endpoint and API) gets this
# timeout (OAuth2Session's documented default_timeout); requests has none by
# default and would wait forever on a hung endpoint.
TIMEOUT = 10


class Adapter(protocol.Adapter):
    def __init__(self, env):
        super().__init__(env, "authlib-token.json")
        self.pending_state = None
        self.pending_verifier = None
        self.session = OAuth2Session(
            client_id=env.client_id,
            client_secret=env.secret(),  # None for a public client: auth method "none"
            scope=" ".join(env.scope_list()),
            redirect_uri=env.redirect_uri,
            code_challenge_method="S256",
            token=self.stored_token,
            token_endpoint=self.meta["token_endpoint"],
            # Authlib calls it after it refreshed the token: the docs' "Auto
            # Update Token" saves it where the old one was.
            update_token=self.save_refreshed,
            default_timeout=TIMEOUT,
        )

    # --- ops ---------------------------------------------------------------

    def reload(self):
        # The operator changed the client secret in its file: give the
        # session the new one (it builds its client auth from
        # session.client_secret for every token request).
        self.session.client_secret = self.env.secret()
        return {}

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
        return self.granted(token)

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
        finally:
            # Logged out whatever the answer (clients/PROTOCOL.md, logout):
            # the tokens are forgotten, as every adapter forgets them.
            self.session.token = None
            self.store.clear()
        if not 200 <= resp.status_code < 300:
            # Authlib hands the revocation endpoint's answer back as it came:
            # an OAuth error answer (RFC 7009 section 2.2.1), read by the table.
            try:
                body = resp.json()
            except ValueError:
                body = None
            age = time.time() - self.granted_at if self.granted_at else None
            name, reason = protocol.token_error_outcome(resp.status_code, body, age)
            return protocol.outcome(name, reason, "revocation answered HTTP %d" % resp.status_code)
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
        if type(exc) is OAuthError:
            # The token endpoint's OAuth error: parse_response_token raises
            # OAuthError itself with the answer's error and error_description
            # (Authlib's own failures are its subclasses, and other errors).
            return self.token_error(exc, exc.error, exc.description)
        if isinstance(exc, (requests.exceptions.JSONDecodeError, json.JSONDecodeError)):
            # parse_response_token reads any answer below 500 with
            # resp.json(), which raises this bare when the body is not JSON
            # (a 429's text, Google's 403 page, a 200 cut short or empty):
            # the token endpoint's answer, unreadable.
            return protocol.unreadable_answer_outcome(self.granted_at, msg)
        # parse_response_token raises for a 5xx token answer: requests_outcome reads its status.
        return protocol.requests_outcome(exc, self.granted_at, msg)


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
