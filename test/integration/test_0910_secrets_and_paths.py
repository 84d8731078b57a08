"""0910: what must not leave its place: content that MDRequireHttps keeps on
https, proxy passwords, lines of machine-read status.

Each test plays someone from outside for real: raw request paths sent as
written (http.client does not normalise them), a CA whose problem detail
carries line breaks (through mdtest/acmeproxy.py), a proxy URL with a
password. docs/security.md names these tests for its claims.
"""
import os

import pytest

from mdtest.selfsigned import write_self_signed

BYPASSES = [
    "/.well-known/../index.html",
    "/.well-known/%2e%2e/index.html",
    "/.well-known/%2E%2E/index.html",
    "/.well-known/acme-challenge/../../index.html",
    "/.well-known/acme-challenge/%2e%2e/%2e%2e/index.html",
    "/.well-known/acme-challenge/..%2f..%2findex.html",
    "/.well-known/./../index.html",
    "/.well-known/other",
]


def test_0911_require_https_exempts_only_acme_challenge(apache, domain):
    """MDRequireHttps leaves only /.well-known/acme-challenge/ on plain http,
    decided on the path as Apache maps it: '..' and '%2e%2e' after
    /.well-known/ do not reach the site's content over http."""
    cert, key = write_self_signed(apache.server_root, "static", [domain], days=90)
    apache.add(f"""
        <MDomain {domain}>
            MDCertificateFile {cert}
            MDCertificateKeyFile {key}
            MDRequireHttps temporary
        </MDomain>
    """)
    content = apache.add_vhost(domain)
    apache.add_vhost(domain, ssl=False, port=apache.http_port)
    apache.start()
    # the site's content, for comparison, is on https only
    r = apache.https_get(domain, "/index.html")
    assert r.status == 200 and r.text == content
    for path in BYPASSES:
        r = apache.http_get(domain, path)
        assert r.text != content, f"{path}: the content over plain http ({r.status_line})"
        assert r.status in (302, 400, 403, 404), f"{path}: {r.status_line}"
    # the challenge path itself stays on http (no token pending: 404, not a redirect)
    r = apache.http_get(domain, "/.well-known/acme-challenge/no-such-token")
    assert r.status == 404, r.status_line
    r = apache.http_get(domain, "/index.html")
    assert r.status == 302 and r.headers["location"] == f"https://{domain}/index.html"
