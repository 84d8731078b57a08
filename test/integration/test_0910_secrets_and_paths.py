# SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors.
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


def _readable_by_others(path):
    st = os.stat(path)
    return st.st_mode & 0o044 or st.st_uid != 0


def test_0912_proxy_password_stays_secret(apache, domain):
    """The password of MDHttpProxy is in no status output, no log line (at
    md:trace8), and no file that is not root's 0600: a failing renewal's
    job.json and the status snapshot show the URL with '***'. The status
    snapshot is 0640."""
    from mdtest.forwardproxy import ForwardProxy
    secret = "s3cr3t-proxy-pw"
    proxy = ForwardProxy()          # never started: the renewal fails at the proxy
    url = proxy.url.replace("://", f"://md-user:{secret}@")
    apache.log_level = "info md:trace8"
    apache.add(f"""
        MDHttpProxy {url}
        MDomain {domain}
        MDCAChallenges http-01
    """)
    apache.add_vhost(domain)
    apache.add_status_vhost()
    apache.expect_log(rf"MD1102: {domain}: renewal failed", required=True)
    apache.start()
    apache.wait_for_log(rf"MD1102: {domain}: renewal failed.*through the proxy .*md-user:\*\*\*@")
    texts = {
        "md-status": apache.status_get("/md-status").text,
        "md-status/<md>": apache.status_get(f"/md-status/{domain}").text,
        "metrics": apache.status_get("/metrics").text,
        "server-status": apache.server_status("auto") or "",
        "server-status html": apache.server_status("") or "",
        "error log": apache.log_text(),
    }
    assert "md-user:***@" in texts["md-status"]
    for where, text in texts.items():
        assert secret not in text, f"the proxy password is in {where}"
    # every file of the server's tree that anyone but root may read
    found, snapshot = [], None
    for top in (apache.server_root, apache.store_dir):
        for dirpath, _, files in os.walk(top):
            for name in files:
                path = os.path.join(dirpath, name)
                if os.path.islink(path) or not os.path.isfile(path):
                    continue
                if name == "status.json" and "md-status" in dirpath:
                    snapshot = path
                if name.endswith(".conf") or not _readable_by_others(path):
                    continue     # the configuration holds it, as the administrator wrote it
                with open(path, "rb") as f:
                    if secret.encode() in f.read():
                        found.append(path)
    assert not found, f"the proxy password is in: {found}"
    assert snapshot, "no status snapshot found"
    assert os.stat(snapshot).st_mode & 0o777 == 0o640


def test_0913_ca_text_forges_no_status_line(acmeproxy_factory, apache_factory, domain):
    """A CA's problem detail with line breaks shows up in server-status?auto
    (ActivityLastDetail) as one line: it cannot add lines a monitoring script
    would read as the server's own."""
    import json
    from mdtest.procs import wait_until
    proxy = acmeproxy_factory()
    apache = apache_factory(ca=proxy)
    detail = "no order today\nForged-Line: 1\r\nManagedDomain[0]Status: ok\x07"
    proxy.add_fault(r"^/order-plz", "status", method="POST", count=None, status=400,
                    headers={"Content-Type": "application/problem+json"},
                    body=json.dumps({"type": "urn:ietf:params:acme:error:malformed",
                                     "detail": detail}))
    apache.add(f"MDomain {domain}\nMDCAChallenges http-01\nMDRetryDelay 30s")
    apache.add_vhost(domain)
    apache.expect_log(rf"MD1102: {domain}: renewal failed", required=True)
    apache.start()
    text = wait_until(lambda: (lambda t: t if t and "ActivityLastDetail" in t else None)(
        apache.server_status("auto")), 30, what="the renewal's failure in server-status")
    lines = text.splitlines()
    assert not [x for x in lines if x.startswith("Forged-Line")], text
    assert len([x for x in lines if x.startswith("ManagedDomain[0]Status:")]) == 1, text
    assert [x for x in lines if x.startswith("ManagedDomain[0]ActivityLastDetail:")
            and "Forged-Line: 1" in x], text
