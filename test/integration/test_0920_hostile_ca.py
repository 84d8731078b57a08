# SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors.
"""0920: a hostile CA. What the CA sends is checked before it can replace anything.

Each case renews an MD whose first certificate is live (MDRenewWindow 3650d makes the
renewal due at once) through our proxy (mdtest/acmeproxy.py) in front of Pebble, which
plays the attacker:

  * certificates: the issued leaf is replaced by one the test makes for the key of our
    request (the CSR's public key), issued by Pebble's own intermediate, with other
    names, an extra name, dates in the past, an end before the served certificate's, or
    a forged signature. A control case shows that such a certificate with nothing wrong
    is taken, so each refusal is for the fault it names;
  * URLs: finalize, the order's Location, the directory's newOrder, the certificate URL
    and an alternate link point at a plain http: listener on 127.0.0.1 that records
    what reaches it (a CA sending us to an internal service);
  * bounds: an order with more authorizations than the MD has names; 20 alternate
    chains;
  * a staged set changed after staging (the children own staging/): the parent checks
    it again before activating it.

For each, after a graceful restart: the old certificate is what a TLS client gets,
job.json and md-status name the problem in words, and nothing new is in domains/ or the
archive.
"""
import datetime
import hashlib
import json
import os
import re

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from mdtest.acmeproxy import HttpRecorder, split_pem
from mdtest.procs import wait_until

RETRY_DELAY = 1.0           # MDRetryDelay, seconds
NOW = datetime.datetime.now(datetime.timezone.utc)
DAY = datetime.timedelta(days=1)


def _certs_in_store(apache, domain):
    """Every certificate and key file of the MD in domains/ and archive/ with its digest:
    what serving is made of (md.json changes with the configuration, and is left out)."""
    found = {}
    for top in ("domains", "archive"):
        base = apache.store_path(top)
        for d in sorted(os.listdir(base)) if os.path.isdir(base) else []:
            if d != domain and not d.startswith(domain + "."):
                continue
            for name in sorted(os.listdir(os.path.join(base, d))):
                if name.endswith(".pem"):
                    with open(os.path.join(base, d, name), "rb") as f:
                        found[f"{top}/{d}/{name}"] = hashlib.sha256(f.read()).hexdigest()
    return found


def _first_cert(apache, domain, retry_delay=RETRY_DELAY):
    """An MD with its first certificate live, md-status on; returns the served serial
    and the store's certificates."""
    apache.add(f"MDRetryDelay {retry_delay:g}s")
    apache.add_status_vhost()
    serial = apache.serve_first_cert(domain)
    return serial, _certs_in_store(apache, domain)


def _wait_staged(apache, domain):
    """Until the renewal has staged a set (apache.wait_for_cert is content with the one in
    domains/)."""
    wait_until(lambda: os.path.exists(apache.store_path("staging", domain, "pubcert.pem"))
               and apache.staging_job(domain).get("finished"), 60, interval=0.1,
               what="a staged renewal")


def _wait_outcome(apache, domain, other=lambda: False):
    """Until the renewal failed, or (what must not happen) staged a set, or `other`."""
    wait_until(lambda: apache.staging_job(domain).get("errors", 0) >= 1
               or apache.staging_job(domain).get("finished") or other(), 60, interval=0.1,
               what="the renewal's outcome")
    assert not apache.staging_job(domain).get("finished"), "the renewal staged a set"


def _renew_now(apache):
    apache.add("MDRenewWindow 3650d")
    apache.expect_log(r"MD4012: .*MDRenewWindow 3650d is not shorter", required=True)
    apache.graceful()


def _assert_old_kept(apache, domain, serial, stored, detail):
    """After a graceful restart: the old certificate served, the problem named in
    job.json and md-status, nothing new in domains/ or the archive."""
    apache.graceful()
    assert apache.verify_cert(domain).serial_number == serial
    job = apache.staging_job(domain)
    assert re.search(detail, job["last"]["detail"]), job["last"]
    assert not job.get("finished"), job
    status = apache.md_status(domain)
    assert re.search(detail, status["renewal"]["last"]["detail"]), status["renewal"]
    assert _certs_in_store(apache, domain) == stored


# ---- certificates ------------------------------------------------------------------

CERT_CASES = {
    "othername": (dict(names=["other.test"]),
                  r"the certificate from \S+/certZ/\S+ names other\.test, which was not asked "
                  r"for: it is not staged"),
    "extraname": (dict(extra_names=["evil.test"]),
                  r"the certificate from \S+ names evil\.test, which was not asked for: it is "
                  r"not staged"),
    "expired": (dict(not_before=NOW - 10 * DAY, not_after=NOW - DAY),
                r"the certificate from \S+ expired on .*: it is not staged"),
    "shortlived": (dict(not_after=NOW + 2 * DAY),
                   r"the certificate from \S+ ends on .*, before the certificate it replaces "
                   r"\(.*\): it is not staged"),
    "brokenchain": (dict(bad_signature=True),
                    r"the certificate from \S+ has a broken chain: the signature of "
                    r"certificate 1 \(.*\) does not verify with the key of certificate 2"),
}


@pytest.mark.parametrize("name", list(CERT_CASES))
def test_0920_hostile_certificate_not_staged(acmeproxy_factory, apache_factory, domain, name):
    """A certificate for our key that is useless for the MD is not staged; the renewal
    fails with the reason and backs off."""
    forged, detail = CERT_CASES[name]
    proxy = acmeproxy_factory()
    apache = apache_factory(ca=proxy)
    serial, stored = _first_cert(apache, domain)
    proxy.add_fault(r"^/certZ/", "transform", method="POST", count=None,
                    transform=proxy.forged_chain(**forged))
    apache.expect_log(rf"MD1102: {domain}: renewal failed", required=True)
    _renew_now(apache)
    _wait_outcome(apache, domain)
    assert not os.path.exists(apache.store_path("staging", domain, "pubcert.pem"))
    _assert_old_kept(apache, domain, serial, stored, detail)


def test_0920_forged_but_good_certificate_is_taken(acmeproxy_factory, apache_factory, domain):
    """The control: the test's certificate with nothing wrong with it (our names, valid
    now, ending after the served one, signed by the intermediate) is staged and served,
    so the cases above are refused for their fault alone."""
    proxy = acmeproxy_factory()
    apache = apache_factory(ca=proxy)
    serial, _ = _first_cert(apache, domain)
    proxy.add_fault(r"^/certZ/", "transform", method="POST", count=None,
                    transform=proxy.forged_chain())
    _renew_now(apache)
    _wait_staged(apache, domain)
    apache.graceful()
    cert = apache.verify_cert(domain)
    assert cert.serial_number != serial
    assert cert.not_valid_after.year >= NOW.year + 5


# ---- URLs --------------------------------------------------------------------------

def _json_rewrite(key, url):
    def transform(data):
        try:
            d = json.loads(data)
        except ValueError:
            return data
        if isinstance(d, dict) and key in d:
            d[key] = url
        return json.dumps(d).encode()
    return transform


def _location(url):
    def header_transform(headers, path):
        headers["Location"] = url
        return headers
    return header_transform


# name: (add the fault(proxy, recorder)), the refused request in the detail)
URL_CASES = {
    "finalize": (lambda p, r: p.add_fault(r"^/(order-plz|my-order/)", "transform",
                                          method="POST", count=None,
                                          transform=_json_rewrite("finalize",
                                                                  r.url("/internal/admin"))),
                 r"POST http://127\.0\.0\.1:\d+/internal/admin"),
    "location": (lambda p, r: p.add_fault(r"^/order-plz", "transform", method="POST", count=None,
                                          header_transform=_location(r.url("/order/1"))),
                 r"POST http://127\.0\.0\.1:\d+/order/1"),
    "directory": (lambda p, r: p.add_fault(r"^/dir$", "transform", method="GET", count=None,
                                           transform=_json_rewrite("newOrder", r.url("/new"))),
                  r"POST http://127\.0\.0\.1:\d+/new"),
    "certificate": (lambda p, r: p.add_fault(r"^/(my-order|finalize-order)/", "transform",
                                             method="POST",
                                             count=None,
                                             transform=_json_rewrite("certificate",
                                                                     r.url("/cert"))),
                    r"POST http://127\.0\.0\.1:\d+/cert"),
}


@pytest.mark.parametrize("name", list(URL_CASES))
def test_0920_http_url_from_ca_not_used(acmeproxy_factory, apache_factory, domain, name):
    """A URL from the CA that is not https: fails the renewal; nothing reaches it."""
    fault, request = URL_CASES[name]
    recorder = HttpRecorder().start()
    try:
        proxy = acmeproxy_factory()
        apache = apache_factory(ca=proxy)
        serial, stored = _first_cert(apache, domain)
        fault(proxy, recorder)
        apache.expect_log(rf"MD1102: {domain}: renewal failed", required=True)
        _renew_now(apache)
        _wait_outcome(apache, domain, lambda: recorder.requests)
        assert recorder.requests == []
        _assert_old_kept(apache, domain, serial, stored,
                         request + r": refused, the URL from the CA is not https: \(http: only "
                         r"with an http: MDCertificateAuthority\); nothing was sent to it")
    finally:
        recorder.stop()


def _links(urls):
    def header_transform(headers, path):
        headers["Link"] = ", ".join(f'<{u}>;rel="alternate"' for u in urls(path))
        return headers
    return header_transform


def test_0920_http_alternate_not_followed(acmeproxy_factory, apache_factory, domain):
    """An alternate chain at an http: URL is not fetched: the default chain is used."""
    recorder = HttpRecorder().start()
    try:
        proxy = acmeproxy_factory()
        apache = apache_factory(ca=proxy)
        apache.add('MDPreferredChain "No Such Root"')
        serial, _ = _first_cert(apache, domain)
        proxy.add_fault(r"^/certZ/", "transform", method="POST", count=None,
                        header_transform=_links(lambda path: [recorder.url("/alt")]))
        _renew_now(apache)
        _wait_staged(apache, domain)
        apache.graceful()
        assert apache.verify_cert(domain).serial_number != serial
        assert recorder.requests == []
    finally:
        recorder.stop()


# ---- bounds ------------------------------------------------------------------------

def _more_authorizations(data):
    d = json.loads(data)
    d["authorizations"] = d["authorizations"] * 3
    return json.dumps(d).encode()


def test_0920_more_authorizations_than_names(acmeproxy_factory, apache_factory, domain):
    """An order with 3 authorizations for an MD of one name is refused before any is
    fetched."""
    proxy = acmeproxy_factory()
    apache = apache_factory(ca=proxy)
    serial, stored = _first_cert(apache, domain)
    since = len(proxy.requests_to(r"^/authZ/"))
    proxy.add_fault(r"^/order-plz", "transform", method="POST", count=None,
                    transform=_more_authorizations)
    apache.expect_log(rf"MD1102: {domain}: renewal failed", required=True)
    _renew_now(apache)
    _wait_outcome(apache, domain)
    _assert_old_kept(apache, domain, serial, stored,
                     rf"the CA's order has 3 authorizations for the 1 name\(s\) of {domain}; "
                     r"it is refused")
    assert len(proxy.requests_to(r"^/authZ/")) == since


def test_0920_alternates_followed_at_most_8(acmeproxy_factory, apache_factory, domain):
    """20 alternate chains offered, none from the preferred issuer: 8 are fetched, then
    the default chain is used."""
    proxy = acmeproxy_factory()
    apache = apache_factory(ca=proxy)
    apache.add('MDPreferredChain "No Such Root"')
    serial, _ = _first_cert(apache, domain)
    since = len(proxy.requests_to(r"^/certZ/", "POST"))
    proxy.add_fault(r"^/certZ/", "transform", method="POST", count=None,
                    header_transform=_links(lambda path: [proxy.base + path] * 20))
    _renew_now(apache)
    _wait_staged(apache, domain)
    fetched = len(proxy.requests_to(r"^/certZ/", "POST")) - since
    assert fetched == 1 + 8, fetched
    assert apache.log_lines(r"MD3032: the CA offers 20 alternate chains; only the first 8")
    apache.graceful()
    assert apache.verify_cert(domain).serial_number != serial


# ---- activation --------------------------------------------------------------------

def _expired_for(pubcert_path, proxy):
    """The staged chain with its leaf replaced by an expired one for the same key and
    names, issued by Pebble's intermediate: what a child could put into staging/."""
    with open(pubcert_path, "rb") as f:
        pems = split_pem(f.read())
    leaf = x509.load_pem_x509_certificate(pems[0])
    issuer = x509.load_pem_x509_certificate(pems[1])
    expired = (
        x509.CertificateBuilder()
        .subject_name(leaf.subject).issuer_name(issuer.subject)
        .public_key(leaf.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - 10 * DAY).not_valid_after(NOW - DAY)
        .add_extension(leaf.extensions.get_extension_for_class(
            x509.SubjectAlternativeName).value, critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(
            issuer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value),
            critical=False)
        .sign(proxy.issuer_key(issuer), hashes.SHA256())
    )
    return expired.public_bytes(serialization.Encoding.PEM) + b"".join(pems[1:])


def test_0920_staged_set_checked_at_activation(acmeproxy_factory, apache_factory, domain):
    """A staged set changed after staging (an expired certificate for the staged key) is
    not activated at the next restart: it stays in staging, the log, job.json and
    md-status say why, and the renewal orders a good one after the backoff."""
    proxy = acmeproxy_factory()
    apache = apache_factory(ca=proxy)
    # a backoff long enough to look at the refused set before it is renewed again
    serial, stored = _first_cert(apache, domain, retry_delay=10)
    _renew_now(apache)
    pubcert = apache.store_path("staging", domain, "pubcert.pem")
    _wait_staged(apache, domain)
    with apache.md_locked(domain):
        expired = _expired_for(pubcert, proxy)
        with open(pubcert, "wb") as f:
            f.write(expired)
    apache.expect_log(rf"MD1013: {domain}: checking the staged certificate\(s\) of {domain} "
                      r"before activation: the staged rsa certificate expired on ", required=True)
    # the children check what they would serve live, too, and refuse it
    apache.expect_log(rf"MD1505: {domain}: the staged rsa certificate expired on .*; it is not "
                      r"served, the certificate in use stays")
    detail = (r"the staged rsa certificate expired on .*: it is not activated; the served "
              r"certificate stays")
    _assert_old_kept(apache, domain, serial, stored, detail)
    assert os.path.exists(pubcert)
    # another restart within the backoff: the same failure, counted once
    assert apache.staging_job(domain)["errors"] == 1
    apache.graceful()
    assert apache.staging_job(domain)["errors"] == 1
    assert apache.verify_cert(domain).serial_number == serial
    # the renewal is tried again after the backoff, and stages a good set
    wait_until(lambda: apache.staging_job(domain).get("finished"), 60, interval=0.1,
               what="a new renewal after the refused activation")
    apache.graceful()
    assert apache.verify_cert(domain).serial_number != serial
