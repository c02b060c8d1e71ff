"""selfcheck: protocol.py answers every case of ../testdata/outcomes.json
(the outcome table of clients/adapters/README.md) as the case says, and each
adapter reads what its library raises for a token endpoint's answer (the
library's own parsing of it, no network) as the table does. Run by
conform-all before the adapters; needs Debian's python3, python3-requests,
python3-authlib and python3-requests-oauthlib.

Run: /usr/bin/python3 clients/adapters/python/selfcheck.py
"""

import json
import os
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)

import protocol  # noqa: E402


# Token endpoint answers as a library meets them: status, content type, body,
# and the outcome the table gives them.
GOOGLE_RAPT = json.dumps({"error": "invalid_grant", "error_description": "reauth related error (invalid_rapt)",
                          "error_uri": "https://support.google.com/a/answer/9368756", "error_subtype": "invalid_rapt"})
ANSWERS = [
    (200, "text/html; charset=utf-8", "<html><head><title>200 OK</title></head><body><h1>OK</h1></body></html>\n",
     "temporary_error"),
    (200, "application/json", "", "temporary_error"),
    (200, "application/json", '{"access_token":"abc","token_ty', "temporary_error"),
    (403, "text/html; charset=utf-8", "<html><title>403 Rate Limit Exceeded</title></html>", "temporary_error"),
    (429, "text/plain", "Too Many Requests", "temporary_error"),
    (400, "application/json", GOOGLE_RAPT, "interaction_required"),
    (400, "application/json", '{"error":"invalid_grant","error_description":"Token has been expired or revoked."}',
     "reauthorize"),
]


def answer(status, content_type, body):
    """A requests.Response as requests hands it to the library."""
    import requests
    r = requests.Response()
    r.status_code = status
    r.headers["Content-Type"] = content_type
    r._content = body.encode("utf-8")
    r.encoding = "utf-8"
    r.url = "http://127.0.0.1/token"
    return r


def adapter_cases():
    """(what, got, want) for each answer as each adapter reads what its
    library raised on it: Authlib's parse_response_token, and oauthlib's
    parse_request_body_response, which requests-oauthlib's fetch_token and
    refresh_token hand the body to, each on the answer alone."""
    import authlib_adapter
    import requests_oauthlib_adapter
    from authlib.integrations.requests_client import OAuth2Session
    from oauthlib.oauth2 import WebApplicationClient

    def stub(cls):
        a = cls.__new__(cls)  # failure reads only when the user granted
        a.granted_at = time.time() - 2 * 3600
        return a

    def authlib_reads(status, content_type, body):
        OAuth2Session(client_id="demo").parse_response_token(answer(status, content_type, body))

    def oauthlib_reads(status, content_type, body):
        WebApplicationClient("demo").parse_request_body_response(answer(status, content_type, body).text)

    for name, cls, reads in (("authlib", authlib_adapter.Adapter, authlib_reads),
                             ("requests-oauthlib", requests_oauthlib_adapter.Adapter, oauthlib_reads)):
        for status, content_type, body, want in ANSWERS:
            what = "%s: a token answer HTTP %d %s %r" % (name, status, content_type, body[:40])
            try:
                reads(status, content_type, body)
            except Exception as exc:  # what the library raised, as the adapter meets it
                yield what, stub(cls).failure(exc)["outcome"], want
            else:
                yield what, "(the library took it as a token)", want


def main():
    with open(os.path.join(here, "..", "testdata", "outcomes.json"), encoding="utf-8") as f:
        cases = json.load(f)
    failed = 0
    adapters = 0
    for what, got, want in adapter_cases():
        adapters += 1
        if got != want:
            failed += 1
            print("python adapters: %s: got %s, want %s" % (what, got, want), file=sys.stderr)
    for c in cases["token"]:
        # A library passes a body on as the dict it parsed; text is no OAuth body.
        body = c["body"] if isinstance(c["body"], dict) else None
        got = protocol.token_error_outcome(c["status"], body, c["age_hours"] * 3600)
        want = (c["outcome"], c.get("reason"))
        if got != want:
            failed += 1
            print("python/protocol.py: HTTP %d %s, a %s h old grant: got %s, want %s"
                  % (c["status"], json.dumps(c["body"]), c["age_hours"], got, want), file=sys.stderr)
    for c in cases["api"]:
        got = protocol.api_outcome(c["status"])
        if got != c["outcome"]:
            failed += 1
            print("python/protocol.py: the API's HTTP %d: got %s, want %s" % (c["status"], got, c["outcome"]),
                  file=sys.stderr)
    total = len(cases["token"]) + len(cases["api"]) + adapters
    print("python/protocol.py and the adapters: %d of %d outcome cases as the table says" % (total - failed, total),
          file=sys.stderr)
    hello_failed = hello_checks()
    return 1 if failed or hello_failed else 0


def hello_checks():
    """The hello of an adapter with a TokenStore lists its storage as glue
    and claims no encryption: the token file is plain JSON, which is the
    finding to report as the glue's. Returns how many checks failed."""
    class FakeEnv:
        state_dir = "/nonexistent"
    saved = set(protocol._token_files)
    protocol._token_files.clear()
    try:
        before = protocol.hello_line("authlib", "0", ["refresh", "clock:faketime"])["hello"]
        protocol.TokenStore(FakeEnv(), "authlib-token.json")  # writes nothing until save
        after = protocol.hello_line("authlib", "0", ["refresh", "clock:faketime"])["hello"]
    finally:
        protocol._token_files.clear()
        protocol._token_files.update(saved)
    checks = [
        ("without a TokenStore: no glue", before.get("glue"), None),
        ("with a TokenStore: glue", after.get("glue"), [protocol.GLUE_STORAGE]),
        ("with a TokenStore: encrypts_at_rest", "encrypts_at_rest" in after["capabilities"], False),
        ("the protocol", after["protocol"], 1),
    ]
    failed = 0
    for what, got, want in checks:
        if got != want:
            failed += 1
            print("python/protocol.py: the hello %s: got %r, want %r" % (what, got, want), file=sys.stderr)
    print("python/protocol.py: %d of %d hello checks (glue storage declared)" % (len(checks) - failed, len(checks)),
          file=sys.stderr)
    return failed


if __name__ == "__main__":
    sys.exit(main())
