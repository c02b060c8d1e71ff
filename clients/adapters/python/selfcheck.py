"""selfcheck: protocol.py answers every case of ../testdata/outcomes.json
(the outcome table of clients/adapters/README.md) as the case says. Run by
conform-all before the adapters; needs Debian's python3 and python3-requests.

Run: /usr/bin/python3 clients/adapters/python/selfcheck.py
"""

import json
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)

import protocol  # noqa: E402


def main():
    with open(os.path.join(here, "..", "testdata", "outcomes.json"), encoding="utf-8") as f:
        cases = json.load(f)
    failed = 0
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
    total = len(cases["token"]) + len(cases["api"])
    print("python/protocol.py: %d of %d outcome cases as the table says" % (total - failed, total), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
