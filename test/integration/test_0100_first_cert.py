# SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors.
"""0100: a managed domain gets its first certificate from the CA.

A new MD first serves a self-signed fallback certificate and answers 503.
The module then obtains a certificate from Pebble (with real validation),
and after a graceful restart the vhost serves it: the chain verifies
against Pebble's root alone and the page answers 200.
"""
import json
import os
import ssl
import stat

import pytest
from cryptography.hazmat.primitives import serialization

from mdtest import tlsclient


def _assert_fallback(apache, pebble, domain):
    """Before the first certificate: a self-signed placeholder, and 503."""
    cert = apache.get_cert(domain)
    with open(pebble.intermediate_path) as f:
        pebble_issuer = tlsclient.load_pem_certs(f.read())[0].subject
    assert cert.issuer != pebble_issuer, "served a Pebble certificate before any restart"
    assert tlsclient.is_self_signed(cert), \
        f"fallback certificate is not self-signed: {tlsclient.describe_cert(cert)}"
    with pytest.raises(ssl.SSLCertVerificationError):
        apache.verify_cert(domain)
    r = apache.https_get(domain)
    assert r.status == 503, f"{r.status_line}\n{r.text}"


def _assert_issued(apache, pebble, domain, content):
    """After activation: Pebble's certificate for the domain, and 200."""
    cert = apache.verify_cert(domain)       # root only: server sends the intermediate
    assert domain in tlsclient.cert_dns_names(cert)
    r = apache.https_get(domain, verify=True)
    assert r.status == 200, f"{r.status_line}\n{r.text}"
    assert r.text == content


def _assert_store(apache, domain):
    key = apache.store_path("domains", domain, "privkey.pem")
    assert os.path.isfile(key)
    mode = stat.S_IMODE(os.stat(key).st_mode)
    assert mode == 0o600, f"{key} has mode {mode:o}"
    assert os.path.isfile(apache.store_path("domains", domain, "pubcert.pem"))
    with open(apache.store_path("md_store.json")) as f:
        assert json.load(f)["store"]["version"] == 3


def _first_cert(apache, pebble, domain, content):
    apache.start()
    # 1. the module has no certificate yet: placeholder and 503
    _assert_fallback(apache, pebble, domain)
    # 2. the renewal job gets one from Pebble
    apache.wait_for_cert(domain, timeout=60)
    # 3. a graceful restart activates it
    apache.graceful()
    _assert_issued(apache, pebble, domain, content)
    _assert_store(apache, domain)


def test_0100_http01(apache, pebble, domain):
    """http-01 through the http port (public port 80 mapped to it)."""
    apache.add(f"""
        MDomain {domain}
        MDCAChallenges http-01
    """)
    content = apache.add_vhost(domain)
    _first_cert(apache, pebble, domain, content)


def test_0101_tls_alpn01(apache, pebble, domain):
    """tls-alpn-01 picked automatically: port 80 is not reachable (MDPortMap
    http:-, and Apache does not even listen on the http port, so an http-01
    attempt would fail validation) and the vhost offers acme-tls/1."""
    apache.listen_http = False
    apache.port_map = f"http:- https:{apache.https_port}"
    apache.add(f"MDomain {domain}")
    content = apache.add_vhost(domain, extra="Protocols h2 http/1.1 acme-tls/1")
    _first_cert(apache, pebble, domain, content)


def _spki(cert):
    return cert.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)


def test_0102_fallback_files(apache, pebble, domain):
    """The placeholder's files: one key for all MDs and a certificate per MD in
    DefaultRuntimeDir/md-fallback/ (root only). A restart uses them again
    without writing; a key that is replaced (here: damaged) outdates the
    certificates, which are made again for the new key, and the server starts."""
    other = f"b.{domain}"
    apache.add(f"""
        MDRenewMode manual
        MDomain {domain}
        MDomain {other}
    """)
    apache.add_vhost(domain)
    apache.add_vhost(other)
    apache.start()
    fb_dir = os.path.join(apache.server_root, "run", "md-fallback")
    key_file = os.path.join(fb_dir, "key.pem")
    cert_files = {d: os.path.join(fb_dir, f"{d}.cert.pem") for d in (domain, other)}
    assert stat.S_IMODE(os.stat(fb_dir).st_mode) == 0o700
    for f in [key_file, *cert_files.values()]:
        assert stat.S_IMODE(os.stat(f).st_mode) == 0o600, f
    served = {d: apache.get_cert(d) for d in (domain, other)}
    for d, cert in served.items():
        assert tlsclient.is_self_signed(cert)
        assert d in tlsclient.cert_dns_names(cert), tlsclient.describe_cert(cert)
    assert _spki(served[domain]) == _spki(served[other])
    # 1. a restart (both passes) reads the times only: nothing written again
    written = {f: os.stat(f).st_mtime_ns for f in [key_file, *cert_files.values()]}
    apache.restart()
    assert {f: os.stat(f).st_mtime_ns for f in written} == written
    assert apache.get_cert(domain) == served[domain]
    # 2. a damaged key is made anew, and with it every certificate
    with open(key_file, "w") as f:
        f.write("-----BEGIN PRIVATE KEY-----\ncut off")
    apache.restart()
    for d in (domain, other):
        cert = apache.get_cert(d)
        assert cert != served[d] and tlsclient.is_self_signed(cert)
        assert _spki(cert) != _spki(served[d])
        assert os.stat(cert_files[d]).st_mtime_ns >= os.stat(key_file).st_mtime_ns
    r = apache.https_get(domain)
    assert r.status == 503, f"{r.status_line}\n{r.text}"
