# SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors.
"""0330: ACME features Debian's Pebble 2.4 lacks (profiles, ARI, Retry-After),
end to end through our proxy (mdtest/acmeproxy.py) in front of a real Pebble.

Which part is whose: Pebble issues the certificates and validates (real
http-01); the proxy is ours and adds meta.profiles and renewalInfo to the
directory, answers renewalInfo, checks "profile" and "replaces" in newOrder
(invalidProfile / alreadyReplaced), and injects 429/503 with Retry-After.
"""
import base64
import email.utils
import json
import time

import pytest
from cryptography import x509


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def ari_cert_id(cert):
    """RFC 9773: base64url(AKI keyIdentifier) "." base64url(serial DER content)."""
    aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    n = cert.serial_number
    return _b64(aki.key_identifier) + "." + _b64(n.to_bytes(n.bit_length() // 8 + 1, "big"))


def _job(apache, md):
    with open(apache.store_path("staging", md, "job.json")) as f:
        return json.load(f)


def _setup(apache, domain, extra=""):
    apache.add(f"""
        <MDomain {domain}>
            MDCAChallenges http-01
            {extra}
        </MDomain>
    """)
    apache.add_vhost(domain)
    if "3650d" in extra:   # the window that makes every renewal due at once, warned about
        apache.expect_log(r"MD4012: .*MDRenewWindow 3650d is not shorter", required=False)


def test_0330_profile_offered(acmeproxy_factory, apache_factory, domain):
    """MDProfile names an offered profile (case-insensitively): the order
    carries it as the CA spells it."""
    proxy = acmeproxy_factory()
    proxy.profiles = {"classic": "90 days", "shortlived": "6 days"}
    apache = apache_factory(ca=proxy)
    _setup(apache, domain, "MDProfile ShortLived")
    apache.start()
    apache.wait_for_cert(domain, timeout=60)
    assert [o.get("profile") for o in proxy.orders()] == ["shortlived"]


def test_0331_profile_mandatory_not_offered(acmeproxy_factory, apache_factory, domain):
    """MDProfileMandatory on and the profile is not offered: no order is
    made, and the failure names the profile and what the CA offers."""
    proxy = acmeproxy_factory()
    proxy.profiles = {"classic": "90 days"}
    apache = apache_factory(ca=proxy)
    _setup(apache, domain, "MDProfile tlsserver\nMDProfileMandatory on")
    apache.expect_log(rf"MD1102: {domain}: renewal failed", required=True)
    apache.start()
    apache.wait_for_log(rf"MD1102: {domain}: renewal failed")
    last = _job(apache, domain)["last"]
    assert "does not offer the profile 'tlsserver'" in last["detail"], last
    assert "classic" in last["detail"]
    assert proxy.orders() == []


def test_0332_profile_not_offered_optional(acmeproxy_factory, apache_factory, domain):
    """Without MDProfileMandatory an unknown profile is left out."""
    proxy = acmeproxy_factory()
    proxy.profiles = {"classic": "90 days"}
    apache = apache_factory(ca=proxy)
    _setup(apache, domain, "MDProfile tlsserver")
    apache.start()
    apache.wait_for_cert(domain, timeout=60)
    assert [o.get("profile") for o in proxy.orders()] == [None]


def test_0333_retry_after_short(acmeproxy_factory, apache_factory, domain):
    """A 503 with Retry-After: 1 on newOrder is waited out and retried in the
    same run; the retry comes no earlier than asked."""
    proxy = acmeproxy_factory()
    proxy.add_fault(r"^/order-plz", "status", method="POST", status=503,
                    headers={"Retry-After": "1", "Content-Type": "text/plain"}, body="busy")
    apache = apache_factory(ca=proxy)
    _setup(apache, domain)
    apache.start()
    apache.wait_for_cert(domain, timeout=60)
    reqs = proxy.requests_to(r"^/order-plz", "POST")
    assert [r["status"] for r in reqs] == [503, 201], reqs
    assert reqs[1]["time"] - reqs[0]["time"] >= 0.9


def test_0334_retry_after_long(acmeproxy_factory, apache_factory, domain):
    """A 429 rateLimited with a long Retry-After (HTTP-date form): the run
    fails, keeps the problem, and the next attempt is not before that time."""
    proxy = acmeproxy_factory()
    until = time.time() + 3 * 3600
    proxy.add_fault(r"^/order-plz", "status", method="POST", status=429, count=None,
                    headers={"Retry-After": email.utils.formatdate(until, usegmt=True),
                             "Content-Type": "application/problem+json"},
                    body=json.dumps({"type": "urn:ietf:params:acme:error:rateLimited",
                                     "detail": "too many new orders"}))
    apache = apache_factory(ca=proxy)
    _setup(apache, domain)
    apache.expect_log(rf"MD1102: {domain}: renewal failed", required=True)
    apache.start()
    apache.wait_for_log(rf"MD1102: {domain}: renewal failed")
    time.sleep(0.5)
    job = _job(apache, domain)
    assert job["last"]["problem"].endswith(":rateLimited"), job
    next_run = email.utils.parsedate_to_datetime(job["next-run"]).timestamp()
    assert next_run >= until - 5, (job["next-run"], until)
    assert len(proxy.requests_to(r"^/order-plz", "POST")) == 1


def _wait_renewed(apache, domain, served, timeout=60):
    """Wait until a certificate other than `served` is staged."""
    path = apache.store_path("staging", domain, "pubcert.pem")
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with open(path, "rb") as f:
                staged = x509.load_pem_x509_certificate(f.read())
            if staged.serial_number != served.serial_number and _job(apache, domain).get("finished"):
                return staged
        except (OSError, ValueError):
            pass
        time.sleep(0.25)
    raise TimeoutError(f"no renewed certificate for {domain}\n{apache.log_tail(4000)}")


def _first_then_renewal(apache, proxy, domain):
    """Issue a first certificate, activate it, and let the renewal (due at
    once: the window is longer than Pebble's 5-year lifetime) get another."""
    _setup(apache, domain, "MDRenewWindow 3650d")
    apache.start()
    apache.wait_for_cert(domain, timeout=60)
    apache.graceful()
    cert = apache.verify_cert(domain, cafile=proxy.root_path)
    _wait_renewed(apache, domain, cert)
    return cert


def test_0335_ari_replaces(acmeproxy_factory, apache_factory, domain):
    """With renewalInfo offered (and MDRenewViaARI on by default) the renewal
    order names the certificate it replaces by its ARI id."""
    proxy = acmeproxy_factory()
    proxy.ari = True
    apache = apache_factory(ca=proxy)
    cert = _first_then_renewal(apache, proxy, domain)
    orders = proxy.orders()
    assert len(orders) == 2, orders
    assert "replaces" not in orders[0]
    assert orders[1].get("replaces") == ari_cert_id(cert), orders


def test_0336_already_replaced(acmeproxy_factory, apache_factory, domain):
    """The CA says the certificate was replaced already: the order is made
    once more without "replaces", and the renewal succeeds."""
    proxy = acmeproxy_factory()
    proxy.ari = True
    apache = apache_factory(ca=proxy)
    _setup(apache, domain, "MDRenewWindow 3650d")
    apache.start()
    apache.wait_for_cert(domain, timeout=60)
    # the staged certificate goes live at the graceful restart; mark it replaced first
    with open(apache.store_path("staging", domain, "pubcert.pem"), "rb") as f:
        cert = x509.load_pem_x509_certificate(f.read())
    proxy.replaced.add(ari_cert_id(cert))
    apache.graceful()
    _wait_renewed(apache, domain, cert)
    orders = proxy.orders()
    assert len(orders) == 3, orders
    assert orders[1]["replaces"] == ari_cert_id(cert)
    assert "replaces" not in orders[2]
    statuses = [r["status"] for r in proxy.requests_to(r"^/order-plz", "POST")]
    assert statuses[1] == 409 and statuses[2] == 201, statuses


def test_0337_no_ari_when_off(acmeproxy_factory, apache_factory, domain):
    """MDRenewViaARI off: renewal orders carry no "replaces"."""
    proxy = acmeproxy_factory()
    proxy.ari = True
    apache = apache_factory(ca=proxy)
    apache.add("MDRenewViaARI off")
    _first_then_renewal(apache, proxy, domain)
    orders = proxy.orders()
    assert len(orders) >= 2 and all("replaces" not in o for o in orders), orders


def test_0338_ari_window_via_mdctl(acmeproxy_factory, apache_factory, domain):
    """The renewal information of an issued certificate, fetched from the
    proxy's renewalInfo with mdctl (the same core call the renewal scheduler
    makes): the renewal time lies inside the suggested window, a window in the
    past means now, and the Retry-After of the answer says when to ask again."""
    import datetime
    import email.utils
    import subprocess
    from mdtest.env import MDCTL

    proxy = acmeproxy_factory()
    proxy.ari = True
    proxy.ari_retry_after = 21600
    apache = apache_factory(ca=proxy)
    _setup(apache, domain)
    apache.start()
    apache.wait_for_cert(domain, timeout=60)
    apache.graceful()
    cert = apache.verify_cert(domain, cafile=proxy.root_path)
    cid = ari_cert_id(cert)
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)

    def ari(start, end):
        proxy.ari_windows[cid] = (start, end)
        r = subprocess.run([MDCTL, "-d", apache.store_dir,
                            "ari", "-c", proxy.ca_file, domain], capture_output=True, text=True,
                           timeout=30)
        assert r.returncode == 0, r.stdout + r.stderr
        lines = dict(line.split(None, 1) for line in r.stdout.splitlines()[1:])
        assert cid in r.stdout
        return {k: email.utils.parsedate_to_datetime(v) for k, v in lines.items()
                if k in ("renew-at", "ask-again")}

    start, end = now + datetime.timedelta(days=10), now + datetime.timedelta(days=12)
    got = ari(start, end)
    assert start <= got["renew-at"] <= end, got
    assert abs((got["ask-again"] - now).total_seconds() - 21600) < 120, got
    got = ari(now - datetime.timedelta(days=3), now - datetime.timedelta(days=2))
    assert abs((got["renew-at"] - now).total_seconds()) < 120, got
    assert len(proxy.requests_to(r"^/ari/" + cid.replace(".", r"\."), "GET")) >= 2


@pytest.mark.parametrize("kind", ["drop", "reset", "garble", "truncate", "delay"])
def test_0339_faults_on_new_order(acmeproxy_factory, apache_factory, domain, kind):
    """The proxy's scripted faults (ours) on the first newOrder answer: the
    connection dropped or reset, the body garbled or cut, or a 2 s delay. The
    module fails that run at most, says what went wrong, and the next run
    (MDRetryDelay 1s) gets the certificate."""
    proxy = acmeproxy_factory()
    proxy.add_fault(r"^/order-plz", kind, method="POST", delay=2.0)
    apache = apache_factory(ca=proxy)
    apache.add("MDRetryDelay 1s")
    _setup(apache, domain)
    if kind != "delay":
        apache.expect_log(rf"MD1102: {domain}: renewal failed", required=True)
    apache.start()
    apache.wait_for_cert(domain, timeout=60)
    reqs = proxy.requests_to(r"^/order-plz", "POST")
    assert len(reqs) == (1 if kind == "delay" else 2), reqs
