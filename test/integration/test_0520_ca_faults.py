# SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors.
"""0520: a CA that misbehaves during a renewal, end to end through our proxy
(mdtest/acmeproxy.py) in front of a real Pebble.

Each case renews an MD that already has a certificate (MDRenewWindow 3650d makes the
renewal due at once) while the proxy injects one fault: the CA's port closed, a CA
that accepts and never answers (MDCATimeout fires), 500 without Retry-After, 429 with
Retry-After, a 5 MB authorization, invalid JSON, a certificate for another key, a
redirect to another host. For each, what an administrator would see:

  * the server keeps serving the certificate it has;
  * staging/<md>/job.json records the error in words that name the fault;
  * the retries follow MDRetryDelay doubling (with its +-50 % jitter), or the CA's
    Retry-After when that is later: in the log's "next try in" and in the times the
    proxy sees the attempts;
  * once the fault is gone the renewal completes and the new certificate is served.
"""
import json
import os
import re
import time

import pytest

from mdtest.procs import wait_until
from mdtest.selfsigned import make_self_signed

RETRY_DELAY = 1.0           # MDRetryDelay, seconds
CA_TIMEOUT = 2              # MDCATimeout, seconds, for the hanging CA
RETRY_AFTER = 12            # seconds: longer than the client waits inline (10 s)
UNITS = {"ms": 0.001, "s": 1, "mi": 60, "h": 3600, "d": 86400}


def _other_key_chain(domain):
    """A transform for the certificate download: the CA's chain with its leaf replaced
    by a certificate for the same name and another key."""
    def transform(data):
        pem = data.decode()
        cut = pem.index("-----END CERTIFICATE-----") + len("-----END CERTIFICATE-----\n")
        return make_self_signed([domain])[0] + pem[cut:].encode()
    return transform


def _invalid_json(data):
    return data.replace(b'"status"', b"status", 1)


def _oversized(data):
    return data + b" " * (5 * 1024 * 1024)


# name: (fault(proxy, domain) or None for a closed port, faulted path, expected detail,
#        seconds a faulted attempt itself takes at most before it fails)
CASES = {
    "refused": (None, None, r"no answer from the CA: the connection was refused", 0),
    "hang": (lambda p, d: p.add_fault(r"^/order-plz", "hang", method="POST", count=None),
             r"^/order-plz", rf"no answer from the CA within {CA_TIMEOUT}s \(MDCATimeout\)",
             CA_TIMEOUT),
    "500": (lambda p, d: p.add_fault(r"^/order-plz", "status", method="POST", count=None,
                                     status=500, body="internal trouble"),
            r"^/order-plz", r"the CA answered HTTP 500 to \S+/order-plz without a problem "
            r"document", 0),
    "429": (lambda p, d: p.add_fault(
                r"^/order-plz", "status", method="POST", count=1, status=429,
                headers={"Retry-After": str(RETRY_AFTER),
                         "Content-Type": "application/problem+json"},
                body=json.dumps({"type": "urn:ietf:params:acme:error:rateLimited",
                                 "detail": "too many new orders"})),
            r"^/order-plz", r"too many new orders \(the CA's rate limit", 0),
    "oversize": (lambda p, d: p.add_fault(r"^/authZ/", "transform", method="POST", count=None,
                                          transform=_oversized),
                 r"^/authZ/", r"the CA's answer is larger than the limit of 1048576 bytes", 0),
    "badjson": (lambda p, d: p.add_fault(r"^/order-plz", "transform", method="POST",
                                         count=None, transform=_invalid_json),
                r"^/order-plz", r"answer to the new order at \S+ is not valid JSON", 0),
    "wrongkey": (lambda p, d: p.add_fault(r"^/certZ/", "transform", method="POST", count=None,
                                          transform=_other_key_chain(d)),
                 r"^/certZ/", r"the certificate from \S+ does not match the key of our "
                 r"request: it is not staged", 0),
    "redirect": (lambda p, d: p.add_fault(
                     r"^/order-plz", "status", method="POST", count=None, status=307,
                     headers={"Location": f"https://localhost:{p.port}/elsewhere"}),
                 r"^/order-plz", r"the CA redirected \(HTTP 307\) to https://localhost:\d+/"
                 r"elsewhere, another host; redirects are not followed", 0),
}


def _retries(apache, domain):
    """(attempt, seconds) of every 'renewal failed ... next try in X' in the log."""
    out = []
    for line in apache.log_lines(rf"MD1102: {re.escape(domain)}: renewal failed"):
        m = re.search(r"\(attempt (\d+)\), next try in (\d+)([a-z]+)", line)
        out.append((int(m.group(1)), int(m.group(2)) * UNITS[m.group(3)]))
    return out


def _backoff(k):
    """The documented delay after the k-th error in a row: MDRetryDelay doubled
    (k-1) times, +-50 % jitter, as (min, max) seconds."""
    d = RETRY_DELAY * 2 ** (k - 1)
    return 0.5 * d, 1.5 * d


def _check_backoff(apache, proxy, domain, name, path, fault_time, since):
    retries = _retries(apache, domain)
    assert retries and [k for k, _ in retries] == list(range(1, len(retries) + 1)), retries
    for k, secs in retries:
        if name == "429":
            assert RETRY_AFTER - 1 <= secs <= RETRY_AFTER, retries
        else:
            lo, hi = _backoff(k)
            assert lo - 0.002 <= secs <= hi + 0.002, (k, secs, retries)
    if not path:
        return retries
    times = sorted(e["time"] for e in proxy.requests_to(path, "POST") if e["time"] >= since)
    gaps = [b - a for a, b in zip(times, times[1:])]
    for k, gap in enumerate(gaps[:len(retries)], start=1):
        lo, hi = (RETRY_AFTER, RETRY_AFTER + 3) if name == "429" else _backoff(k)
        # an attempt also takes its own time: the fault's, the watchdog's tick, the
        # requests before the faulted one (and for certZ a whole issuance)
        assert lo - 0.05 <= gap <= hi + fault_time + 3.0, (k, gap, gaps, retries)
    return retries


@pytest.mark.parametrize("name", list(CASES))
def test_0520_ca_fault_during_renewal(acmeproxy_factory, apache_factory, domain, name):
    fault, path, detail, fault_time = CASES[name]
    proxy = acmeproxy_factory()
    apache = apache_factory(ca=proxy)
    apache.add(f"MDRetryDelay {RETRY_DELAY:g}s\nMDCATimeout {CA_TIMEOUT}s")
    serial1 = apache.serve_first_cert(domain)

    # 1. the fault, and a renewal due at once
    since = time.time()
    if fault:
        fault(proxy, domain)
    else:
        proxy.pause()
    apache.add("MDRenewWindow 3650d")
    apache.expect_log(r"MD4012: .*MDRenewWindow 3650d is not shorter", required=True)
    apache.expect_log(rf"MD1102: {domain}: renewal failed", required=True)
    apache.graceful()
    errors = 1 if name == "429" else 2
    wait_until(lambda: apache.staging_job(domain).get("errors", 0) >= errors, 30 + 4 * fault_time,
               interval=0.1, what=f"{errors} failed renewals")

    # 2. what the administrator sees meanwhile
    job = apache.staging_job(domain)
    assert re.search(detail, job["last"]["detail"]), job["last"]
    assert job.get("next-run"), job
    if name == "429":
        assert job["last"]["problem"] == "urn:ietf:params:acme:error:rateLimited"
    assert not job.get("finished")
    assert apache.verify_cert(domain).serial_number == serial1
    assert apache.https_get(domain, verify=True).status == 200
    if name == "redirect":
        assert not proxy.requests_to(r"^/elsewhere")         # never followed

    # 3. the CA heals: the next attempt renews
    if fault:
        proxy.clear_faults()
    else:
        proxy.resume()
    wait_until(lambda: apache.staging_job(domain).get("finished") and os.path.exists(
               apache.store_path("staging", domain, "pubcert.pem")), RETRY_AFTER + 30, interval=0.1,
               what="the renewal once the fault is gone")
    retries = _check_backoff(apache, proxy, domain, name, path, fault_time, since)
    apache.graceful()
    cert = apache.verify_cert(domain)
    assert cert.serial_number != serial1
    print(f"{name}: retries {retries}")


@pytest.mark.parametrize("line,error", [
    ("MDCATimeout 0", r"MDCATimeout.*'0': must be"),
    ("MDCATimeout 5m", r"MDCATimeout.*'5m'"),
    ("<MDomain x.test>\nMDCATimeout 5s\n</MDomain>", r"MDCATimeout"),
])
def test_0521_ca_timeout_config(apache, line, error):
    """MDCATimeout takes a duration of at least 1s, for the whole server only."""
    apache.add(line)
    rc, out = apache.configtest()
    assert rc != 0 and re.search(error, out), out
