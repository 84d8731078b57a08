#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors.
"""A dns-01 program for the tests (MDChallengeDns01): sets and clears TXT records
in pebble-challtestsrv through its management API.

    dns01_challtestsrv.py <mgmt-url> <log-file> setup <domain> <txt-value>
    dns01_challtestsrv.py <mgmt-url> <log-file> teardown <domain> [<txt-value>]

Every call is appended to <log-file> as one JSON line (argv after the log file,
the time and the MD_* environment), so that a test can see how the module called it.
The environment variable MD_TEST_DNS01_FAIL is not used: a test that wants a
failing program uses another program.
"""
import json
import os
import sys
import time
import urllib.request


def post(url, body):
    req = urllib.request.Request(url, data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=5) as r:
        r.read()


def main(argv):
    if len(argv) < 5:
        print("usage: dns01_challtestsrv.py mgmt-url log setup|teardown domain [value]")
        return 2
    mgmt, log, action, domain = argv[1:5]
    value = argv[5] if len(argv) > 5 else None
    with open(log, "a") as f:
        f.write(json.dumps({"args": argv[3:], "time": time.time(),
                            "env": {k: v for k, v in os.environ.items() if k.startswith("MD_")}})
                + "\n")
    host = f"_acme-challenge.{domain}."
    if action == "setup":
        post(mgmt + "/set-txt", {"host": host, "value": value})
    elif action == "teardown":
        post(mgmt + "/clear-txt", {"host": host})
    else:
        print(f"unknown action {action}")
        return 2
    print(f"{action} {host} done")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
