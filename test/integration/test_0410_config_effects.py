# SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors.
"""0410: what valid configuration does - seen in the store and on the wire.

domains/<md>/md.json is written at every start from the merged
configuration; the merge rule is: <MDomain> section > the server where the
MD was defined > the main server > the defaults (docs/configuration.md).
Redirects and HSTS are checked with real requests, static certificates by
the certificate the server hands out.
"""
import hashlib
import json
import os

from mdtest import tlsclient
from mdtest.selfsigned import write_self_signed


def _md_json(apache, name):
    with open(apache.store_path("domains", name, "md.json")) as f:
        return json.load(f)


def test_0410_merge_and_members(apache, domain):
    """Settings merge in one order; names are lower case; auto adds vhost
    names, manual keeps the list (and warns about the vhost's extra name)."""
    d = domain
    apache.add(f"""
        MDRenewMode manual
        MDRenewWindow 11d
        MDWarnWindow 3d
        MDRequireHttps temporary
        MDomain Main.{d}
        <MDomain sec.{d} manual>
            MDRenewWindow 20%
            MDPrivateKeys secp384r1 rsa3072
            MDMustStaple on
            MDMember extra.sec.{d}
        </MDomain>
        <VirtualHost *:{apache.https_port}>
            ServerName vh.{d}
            ServerAlias alias.vh.{d}
            SSLEngine on
            MDRenewWindow 22d
            MDRequireHttps permanent
            MDomain vh.{d}
        </VirtualHost>
        MDomain man.{d} manual
    """)
    apache.add_vhost(f"man.{d}", aliases=[f"www.man.{d}"])
    apache.expect_log(r"MD4002: the VirtualHost man\.", required=True)
    apache.start()
    main = _md_json(apache, f"main.{d}")
    assert main["domains"] == [f"main.{d}"]
    assert (main["renew-window"], main["warn-window"], main["renew-mode"]) == ("11d", "3d", 0)
    assert main["require-https"] == "temporary"
    sec = _md_json(apache, f"sec.{d}")
    assert sec["domains"] == [f"sec.{d}", f"extra.sec.{d}"] and sec["transitive"] == 0
    assert (sec["renew-window"], sec["warn-window"]) == ("20%", "3d")
    assert sec["privkey"] == [{"type": "EC", "curve": "secp384r1"}, {"type": "RSA", "bits": 3072}]
    assert sec["must-staple"] is True
    vh = _md_json(apache, f"vh.{d}")
    assert vh["domains"] == [f"vh.{d}", f"alias.vh.{d}"] and vh["transitive"] == 1
    assert (vh["renew-window"], vh["warn-window"], vh["require-https"]) == ("22d", "3d", "permanent")
    man = _md_json(apache, f"man.{d}")
    assert man["domains"] == [f"man.{d}"]


def test_0411_contact_and_storedir(apache_factory, domain):
    """MDStoreDir relative to ServerRoot; without MDContactEmail the contact
    is ServerAdmin, with it MDContactEmail wins."""
    a = apache_factory()
    a.md_defaults = False
    a.add(f"""
        MDStoreDir md-relative
        MDCertificateAuthority {a.ca.url}
        MDCACertificateFile "{a.ca.ca_file}"
        MDCertificateAgreement accepted
        MDRenewMode manual
        ServerAdmin hostmaster@{domain}
        MDomain {domain}
        <MDomain other.{domain}>
            MDContactEmail other@{domain}
        </MDomain>
    """)
    a.store_dir = os.path.join(a.server_root, "md-relative")
    a.start()
    assert _md_json(a, domain)["contacts"] == [f"mailto:hostmaster@{domain}"]
    assert _md_json(a, f"other.{domain}")["contacts"] == [f"mailto:other@{domain}"]
    assert _md_json(a, domain)["ca"]["agreement"] == "accepted"


def _static(apache, domain, require, days=90):
    cert, key = write_self_signed(apache.server_root, "static", [domain], days=days)
    apache.add(f"""
        <MDomain {domain}>
            MDCertificateFile {cert}
            MDCertificateKeyFile {key}
            MDRequireHttps {require}
        </MDomain>
    """)
    content = apache.add_vhost(domain)
    return cert, content


def test_0412_static_cert_and_permanent_redirect(apache, domain):
    """A static certificate is served and not renewed; MDRequireHttps
    permanent redirects with 301 (GET) / 308 (POST), never /.well-known/,
    and https answers carry HSTS for half a year."""
    cert, content = _static(apache, domain, "permanent")
    apache.start()
    with open(cert, "rb") as f:
        static = tlsclient.load_pem_certs(f.read())[0]
    assert apache.get_cert(domain).serial_number == static.serial_number
    md = _md_json(apache, domain)
    assert md["cert-files"] == [cert]
    assert not os.path.exists(apache.store_path("staging", domain))
    r = apache.http_get(domain, "/page?q=1")
    assert r.status == 301 and r.headers["location"] == f"https://{domain}/page?q=1", r.status_line
    r = apache.http_get(domain, "/form", method="POST", body=b"x=1")
    assert r.status == 308 and r.headers["location"] == f"https://{domain}/form", r.status_line
    r = apache.http_get(domain, "/.well-known/acme-challenge/nothing")
    assert r.status == 404, r.status_line
    r = apache.https_get(domain, "/")
    assert r.status == 200 and r.text == content
    assert r.headers.get("strict-transport-security") == "max-age=15768000"
    r = apache.http_get(f"not-managed.{domain}", "/")
    assert r.status != 301 and "location" not in r.headers


def test_0413_temporary_redirect(apache, domain):
    """temporary: 302 (GET) / 307 (other methods), no HSTS."""
    _static(apache, domain, "temporary")
    apache.start()
    r = apache.http_get(domain, "/x")
    assert r.status == 302 and r.headers["location"] == f"https://{domain}/x", r.status_line
    r = apache.http_get(domain, "/x", method="PUT", body=b"")
    assert r.status == 307, r.status_line
    r = apache.https_get(domain, "/")
    assert r.status == 200 and "strict-transport-security" not in r.headers


def test_0414_static_cert_near_expiry(apache, domain):
    """A static certificate inside its warn window is reported at start."""
    _static(apache, domain, "off", days=5)
    apache.add("MDWarnWindow 10d")
    apache.expect_log(rf"MD4013: {domain}: the static certificate .* expires", required=True)
    apache.start()


def _tree(path):
    """Every file and directory below `path` with its mode and checksum."""
    out = {}
    for root, dirs, files in os.walk(path):
        for n in dirs + files:
            p = os.path.join(root, n)
            st = os.lstat(p)
            digest = None
            if os.path.isfile(p):
                with open(p, "rb") as f:
                    digest = hashlib.sha256(f.read()).hexdigest()
            out[os.path.relpath(p, path)] = (st.st_mode, st.st_size, digest)
    return out


def _seed_store(apache, name, domains, days=90):
    """A stored MD as a previous configuration left it, with a certificate."""
    d = apache.store_path("domains", name)
    os.makedirs(d, exist_ok=True)
    cert, key = write_self_signed(d, "x", domains, days=days)
    os.rename(cert, os.path.join(d, "pubcert.pem"))
    os.rename(key, os.path.join(d, "privkey.pem"))
    with open(os.path.join(d, "md.json"), "w") as f:
        json.dump({"name": name, "domains": domains, "transitive": 1, "renew-mode": 0}, f)
    with open(os.path.join(d, "pubcert.pem"), "rb") as f:
        return f.read()


def test_0415_rename_keeps_certificate(apache, domain):
    """A renamed MD takes over the store entry with the most names in
    common, certificate included; `apache2 -t` changes nothing in the store."""
    apache.add("MDRenewMode manual")
    apache.start()                              # a store of our own making
    apache.stop()
    pem = _seed_store(apache, f"old.{domain}", [f"old.{domain}", domain, f"www.{domain}"])
    _seed_store(apache, f"unrelated.{domain}", [f"unrelated.{domain}"])
    apache.add(f"MDomain {domain} www.{domain} old.{domain}")
    # 1. a configuration test leaves the store as it is
    before = _tree(apache.store_dir)
    rc, out = apache.configtest()
    assert rc == 0, out
    assert _tree(apache.store_dir) == before
    # 2. the serving start renames old.<d> to <d>
    apache.expect_log(rf"MD4011: {domain}: renamed from 'old\.{domain}'")
    apache.start()
    assert not os.path.exists(apache.store_path("domains", f"old.{domain}"))
    with open(apache.store_path("domains", domain, "pubcert.pem"), "rb") as f:
        assert f.read() == pem
    assert _md_json(apache, domain)["name"] == domain
    assert os.path.exists(apache.store_path("domains", f"unrelated.{domain}", "pubcert.pem"))


def test_0416_absolute_window_longer_than_lifetime(apache, domain):
    """An absolute MDRenewWindow not shorter than the certificate's life is
    reported at start (a renewal would always be due)."""
    apache.add("MDRenewMode manual")
    apache.start()
    apache.stop()
    _seed_store(apache, domain, [domain], days=30)
    apache.add(f"MDomain {domain}\nMDRenewWindow 40d")
    apache.expect_log(rf"MD4012: {domain}: MDRenewWindow 40d is not shorter", required=True)
    apache.start()
