"""The client side of clients/PROTOCOL.md (version 1) for Python adapters.

It reads the OAUTHSIM_* environment, writes the hello, reads requests as
JSON lines from stdin, serves each in its own thread and writes the
responses, one JSON line each, under a lock. It also keeps the adapter's
tokens in OAUTHSIM_STATE_DIR, and turns what a library reports (an OAuth
error code and description, an HTTP status) into the protocol's outcomes
by the table of clients/adapters/README.md.

Nothing here touches a library's refresh logic: the adapters hand every
token decision to the library under test.

Run with Debian's /usr/bin/python3 (3.11) and the python3-* packages.
"""

import json
import logging
import os
import sys
import tempfile
import threading
import time

import requests

PROTOCOL_VERSION = 1

log = logging.getLogger("oauthsim.adapter")


def faketime_note():
    """A line for the log: which libfaketime this process runs under."""
    preload = os.environ.get("LD_PRELOAD", "")
    return "LD_PRELOAD=%s" % (preload or "(none)")


def setup_logging(name):
    """Logs go to stderr, which the harness keeps and searches for leaked
    tokens. The libraries stay at WARNING: requests-oauthlib logs whole
    tokens at DEBUG, and urllib3 logs request lines."""
    logging.basicConfig(stream=sys.stderr, level=logging.INFO,
                        format="%(asctime)s " + name + " %(levelname)s %(message)s")
    for noisy in ("requests_oauthlib", "oauthlib", "authlib", "urllib3", "requests"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


class Env:
    """The configuration the harness passes in OAUTHSIM_* variables."""

    def __init__(self):
        get = lambda k: os.environ.get("OAUTHSIM_" + k, "")
        if get("PROTOCOL") != str(PROTOCOL_VERSION):
            raise SystemExit("OAUTHSIM_PROTOCOL is %r; this adapter speaks %d" % (get("PROTOCOL"), PROTOCOL_VERSION))
        for k in ("ISSUER", "RESOURCE", "CLIENT_ID", "REDIRECT_URI", "STATE_DIR"):
            if not get(k):
                raise SystemExit("OAUTHSIM_%s is not set" % k)
        self.issuer = get("ISSUER").rstrip("/")
        self.resource = get("RESOURCE")
        self.client_id = get("CLIENT_ID")
        self.secret_file = get("CLIENT_SECRET_FILE") or None
        self.redirect_uri = get("REDIRECT_URI")
        self.scopes = get("SCOPES").split()
        # "scope": add the offline_access scope; "access_type": add
        # access_type=offline to the authorization request (Google).
        self.offline_access = get("OFFLINE_ACCESS") or "scope"
        self.profile = get("PROFILE")
        self.rotation = get("REFRESH_ROTATION")
        self.grace = int(get("REFRESH_GRACE") or "0")
        self.state_dir = get("STATE_DIR")
        self.start = get("TIME")

    @property
    def public(self):
        """A public client has no secret file, and must use PKCE."""
        return self.secret_file is None

    def secret(self):
        """The current client secret (the harness rewrites the file when it
        rotates the secret); None for a public client."""
        if self.secret_file is None:
            return None
        with open(self.secret_file, encoding="utf-8") as f:
            return f.read().strip()

    def scope_list(self):
        """The scopes to ask for, with offline_access when the provider
        wants offline access asked as a scope."""
        scopes = list(self.scopes)
        if self.offline_access == "scope" and "offline_access" not in scopes:
            scopes.append("offline_access")
        return scopes

    def extra_authorize_params(self):
        """Extra authorization request parameters: Google's access_type."""
        return {"access_type": "offline"} if self.offline_access == "access_type" else {}


def discover(env, timeout=10):
    """The provider's OpenID discovery document."""
    import requests
    r = requests.get(env.issuer + "/.well-known/openid-configuration", timeout=timeout)
    r.raise_for_status()
    return r.json()


# The adapter's code, not its library, writes what is kept in
# OAUTHSIM_STATE_DIR (PROTOCOL.md, the hello's glue).
GLUE_STORAGE = "storage"

# The files TokenStores keep, by name: the hello's glue lists storage once
# there is one.
_token_files = set()


class TokenStore:
    """A JSON file in OAUTHSIM_STATE_DIR holding the token dict the library
    works with, and when the user granted it. Writes are atomic (a temporary
    file renamed over the old one), so that a reader never sees half a file;
    concurrent writers each win whole. The JSON is plain, as both libraries'
    docs show their token dicts: a TokenStore is the adapter's glue storing
    tokens, and the hello says so (hello_line)."""

    def __init__(self, env, name):
        self.path = os.path.join(env.state_dir, name)
        _token_files.add(name)

    def load(self):
        """The stored record {"token": {...}, "granted_at": epoch}, or None."""
        try:
            with open(self.path, encoding="utf-8") as f:
                return json.load(f)
        except FileNotFoundError:
            return None

    def save(self, token, granted_at):
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(self.path), prefix=".tokens-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump({"token": dict(token), "granted_at": granted_at}, f)
            os.replace(tmp, self.path)
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise

    def clear(self):
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


# --- the adapters' common part ----------------------------------------------

class Adapter:
    """What both adapters share: the provider's endpoints, the token file
    and when the user granted, and the dispatch of requests to the ops a
    subclass defines (authorize, callback, call, reload; logout when its
    library can). A subclass keeps its library's session in self.session."""

    def __init__(self, env, store_name):
        self.env = env
        self.meta = discover(env)
        self.store = TokenStore(env, store_name)
        stored = self.store.load() or {}
        # The token the library had, for the session it is built with.
        self.stored_token = stored.get("token")
        self.granted_at = stored.get("granted_at")
        self.mu = threading.Lock()  # guards the authorization under way only

    def granted(self, token):
        """The user authorized: keep the library's first token, and when.
        Both libraries leave saving it to the application."""
        self.granted_at = time.time()
        self.store.save(token, self.granted_at)
        return outcome("ok")

    def save_refreshed(self, token, *args, **kwargs):
        """The library's refresh hook: save the new token where the old one
        was (Authlib's update_token, requests-oauthlib's token_updater)."""
        self.store.save(token, self.granted_at)

    def token_error(self, exc, code, description):
        """The outcome of an OAuth error the provider answered and the
        library raised with this code and description."""
        return oauth_error_outcome(code, description, self.granted_at, describe(exc))

    def handle(self, req):
        op = req["op"]
        if op == "time":
            return {}  # clock:faketime: the process's clock already moved
        if op == "callback":
            return self.callback(req.get("url", ""))
        handler = getattr(self, op, None) if op in ("authorize", "call", "logout", "reload") else None
        if handler is None:
            return {"error": "op %r is not one this adapter serves" % op}
        return handler()


# --- outcomes -------------------------------------------------------------

def outcome(name, reason=None, detail=None):
    r = {"outcome": name}
    if reason:
        r["reason"] = reason
    if detail:
        r["detail"] = detail[:500]
    return r


DAY = 24 * 3600

# Error codes that mean the grant is dead: RFC 6749's, GitHub's and Slack's.
DEAD_GRANT = ("invalid_grant", "bad_refresh_token", "invalid_refresh_token", "token_revoked")
STEP_UP = ("interaction_required", "login_required", "consent_required")


def dead_reason(description, age):
    """Why a grant died, read from the provider's error_description that the
    library passes on; age (the grant's, in seconds, or None) tells a testing
    app's seventh day. The decision that it died rests on the error code; the
    reason is what the application tells its user."""
    d = (description or "").lower()
    if "reuse" in d:
        return "reuse_detected"
    if age is not None and 7 * DAY <= age < 8 * DAY and "expired or revoked" in d:
        # Google says only "Token has been expired or revoked."; a grant
        # dying in its eighth day is a testing app's.
        return "testing_app_expired"
    if "aadsts700082" in d or "aadsts700084" in d or "inactiv" in d:
        return "expired"
    if "aadsts50173" in d or "revoked" in d:
        return "revoked"
    if "expired" in d:
        return "expired"
    return "unknown"


def token_error_outcome(status, body, age):
    """(outcome, reason) for a token endpoint's error answer, as far as the
    library passed it on: status (0 when it did not), body (the parsed JSON
    object, or None) and age, the grant's in seconds (or None). The table of
    clients/adapters/README.md, the rows in its order."""
    fields = body if isinstance(body, dict) else None
    text = lambda k: fields.get(k) if fields is not None and isinstance(fields.get(k), str) else ""
    code, desc = text("error"), text("error_description")
    # Entra puts throttling and step-up inside invalid_grant, as AADSTS codes.
    entra = lambda *codes: any("AADSTS%s:" % c in desc for c in codes)
    if (status == 429 or status >= 500 or code in ("temporarily_unavailable", "slow_down")
            or entra("50196", "90055") or (status == 403 and fields is None)):
        # A 403 that is not JSON is Google's rate-limit page.
        return "temporary_error", None
    # Google's step-up is invalid_grant with error_subtype invalid_rapt, which
    # its description repeats ("reauth related error (invalid_rapt)"): Authlib
    # and oauthlib pass on only the error and its description.
    if (code in STEP_UP or text("error_subtype") == "invalid_rapt" or "invalid_rapt" in desc
            or text("suberror") != "" or (fields is not None and fields.get("claims") is not None)
            or entra("50076", "50079")):
        return "interaction_required", None
    if code in DEAD_GRANT:
        return "reauthorize", dead_reason(desc, age)
    if code:
        return "configuration_error", None
    return "temporary_error", None


def oauth_error_outcome(code, description, granted_at, message, status=0):
    """The outcome for an OAuth error the provider answered and the library
    raised with this code and description (Python libraries pass on no
    other field of the answer, and seldom its status)."""
    age = time.time() - granted_at if granted_at else None
    name, reason = token_error_outcome(status, {"error": code, "error_description": description}, age)
    return outcome(name, reason, message)


def unreadable_answer_outcome(granted_at, message):
    """The outcome when the library read the token endpoint's answer and found
    neither a token nor an OAuth error in it (an HTML page, an empty body, JSON
    cut short), and says so in words of its own, without the status: the
    table's last row, an answer with no error."""
    age = time.time() - granted_at if granted_at else None
    name, reason = token_error_outcome(0, None, age)
    return outcome(name, reason, message)


def api_outcome(status):
    """The outcome name for the API's HTTP status."""
    if 200 <= status < 300:
        return "ok"
    if status == 401:
        return "unauthorized"
    if status == 429 or status >= 500:
        return "temporary_error"
    return "error"


def api_response_outcome(resp):
    """The outcome of a GET of the protected resource."""
    name = api_outcome(resp.status_code)
    return outcome(name, None, None if name == "ok" else "the API answered HTTP %d" % resp.status_code)


def requests_outcome(exc, granted_at, message):
    """The outcome of a failure both libraries leave to requests, under
    them: an HTTP error status of the token endpoint (whose body the
    library did not read), a transport failure, or anything else."""
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        age = time.time() - granted_at if granted_at else None
        name, reason = token_error_outcome(exc.response.status_code, None, age)
        return outcome(name, reason, message)
    if isinstance(exc, (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)):
        return outcome("temporary_error", None, message)
    return outcome("error", None, message)


def describe(exc):
    """A library exception as text for `detail` and the log: its class and
    message (OAuth error code and description; never a token)."""
    return "%s: %s" % (type(exc).__name__, exc)


# --- the request loop -----------------------------------------------------

def hello_line(name, version, capabilities, glue=()):
    """The first line the adapter writes. Neither library writes a file: once
    the adapter has a TokenStore, it writes what is kept, so the hello's glue
    lists storage, and what the harness finds there is reported as the
    glue's, not the library's."""
    glue = list(glue)
    if _token_files and GLUE_STORAGE not in glue:
        glue.append(GLUE_STORAGE)
    hello = {"protocol": PROTOCOL_VERSION, "name": name, "version": version, "capabilities": list(capabilities)}
    if glue:
        hello["glue"] = glue
    return {"hello": hello}


class Server:
    """Writes the hello, then serves requests from stdin until shutdown or
    EOF, each in its own thread (so that concurrent `call`s run at once),
    writing responses to stdout under a lock. The adapter (and its
    TokenStore) is made first, so that the hello can say what it keeps."""

    def __init__(self, name, version, capabilities, handler):
        self.hello = hello_line(name, version, capabilities)
        if _token_files:
            log.info("the adapter's glue keeps %s in OAUTHSIM_STATE_DIR, plain JSON", ", ".join(sorted(_token_files)))
        self.handler = handler
        self._out = sys.stdout
        self._lock = threading.Lock()
        self._threads = []

    def write(self, obj):
        line = json.dumps(obj, separators=(",", ":")) + "\n"
        with self._lock:
            self._out.write(line)
            self._out.flush()

    def _serve_one(self, req):
        rid = req.get("id")
        try:
            resp = self.handler(req)
        except Exception as exc:  # an adapter bug: the harness ends the run as an error
            log.exception("op %s failed", req.get("op"))
            resp = {"error": "adapter failure in %s: %s" % (req.get("op"), describe(exc))}
        resp = dict(resp or {})
        resp["id"] = rid
        if "outcome" in resp:
            log.info("op %s id %s -> %s %s %s", req.get("op"), rid, resp["outcome"], resp.get("reason", ""),
                     resp.get("detail", ""))
        self.write(resp)

    def run(self):
        self.write(self.hello)
        stdin = sys.stdin.buffer
        while True:
            raw = stdin.readline()
            if not raw:
                break
            raw = raw.strip()
            if not raw:
                continue
            req = None
            try:
                req = json.loads(raw)
                if not isinstance(req, dict) or not isinstance(req.get("id"), str) or not req.get("op"):
                    raise ValueError("a request needs a string id and an op")
            except ValueError as exc:
                rid = req.get("id") if isinstance(req, dict) else None
                self.write({"id": rid, "error": "not a request: %s" % exc})
                continue
            if req["op"] == "shutdown":
                self._join()
                self.write({"id": req["id"]})
                return 0
            self._threads = [t for t in self._threads if t.is_alive()]
            t = threading.Thread(target=self._serve_one, args=(req,), name="req-" + req["id"])
            t.start()
            self._threads.append(t)
        self._join()
        return 0

    def _join(self):
        for t in self._threads:
            t.join()
        self._threads = []
