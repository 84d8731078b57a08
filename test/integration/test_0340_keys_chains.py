# SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors.
"""0340: key types, alternate chains, and a CA that rejects many nonces.

All against Pebble with validation on; the variants are Pebble's own knobs
(PEBBLE_ALTERNATE_ROOTS, PEBBLE_WFE_NONCEREJECT) on a Pebble of the test's own.
"""
import base64
import os
import subprocess

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from mdtest import tlsclient


def _served_with_sigalgs(port, name, sigalgs):
    """The leaf the server picks for a client that offers only these sigalgs."""
    out = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}",
                          "-servername", name, "-sigalgs", sigalgs, "-tls1_2"],
                         input=b"", capture_output=True, timeout=20).stdout
    return tlsclient.load_pem_certs(out)[0]


def test_0340_rsa_and_ec(apache, domain):
    """MDPrivateKeys RSA secp384r1: one certificate per key, stored under
    today's names, and each served to a client that asks for its key type."""
    apache.add(f"""
        <MDomain {domain}>
            MDCAChallenges http-01
            MDPrivateKeys RSA 3072 secp384r1
        </MDomain>
    """)
    apache.add_vhost(domain)
    apache.start()
    apache.wait_for_cert(domain, timeout=90, cert_file="pubcert.secp384r1.pem")
    apache.wait_for_cert(domain, timeout=90)
    apache.graceful()
    for f in ("privkey.pem", "pubcert.pem", "privkey.secp384r1.pem", "pubcert.secp384r1.pem"):
        assert os.path.isfile(apache.store_path("domains", domain, f)), f
    rsa_cert = _served_with_sigalgs(apache.https_port, domain, "RSA+SHA256:RSA-PSS+SHA256")
    ec_cert = _served_with_sigalgs(apache.https_port, domain, "ECDSA+SHA384")
    assert isinstance(rsa_cert.public_key(), rsa.RSAPublicKey)
    assert rsa_cert.public_key().key_size == 3072
    assert isinstance(ec_cert.public_key(), ec.EllipticCurvePublicKey)
    assert ec_cert.public_key().curve.name == "secp384r1"
    for c in (rsa_cert, ec_cert):
        assert domain in tlsclient.cert_dns_names(c)
    apache.verify_cert(domain)


def test_0341_nonce_reject_50(apache_factory, pebble_factory, domain):
    """Pebble rejects half of all nonces (badNonce): every request is retried
    with a fresh nonce, and the certificate is issued in the first run."""
    ca = pebble_factory(env_vars={"PEBBLE_WFE_NONCEREJECT": "50"})
    apache = apache_factory(ca=ca)
    apache.add(f"""
        MDomain {domain}
        MDCAChallenges http-01
    """)
    apache.add_vhost(domain)
    apache.start()
    apache.wait_for_cert(domain, timeout=90)
    assert "MD1102" not in apache.log_text(), "a renewal run failed"
    assert "MD0301: badNonce" in apache.log_text(), "Pebble rejected no nonce?"


def _cn(cert):
    return cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value


def test_0342_preferred_chain(apache_factory, pebble_factory, domain):
    """PEBBLE_ALTERNATE_ROOTS=2: the CA offers chains to three roots (Link
    rel="alternate"). MDPreferredChain names the second root's CN: the served
    chain leads to that root and verifies against it alone."""
    ca = pebble_factory(env_vars={"PEBBLE_ALTERNATE_ROOTS": "2"})
    roots = [x509.load_pem_x509_certificate(ca.root_pem(i).encode()) for i in range(3)]
    want = roots[1]
    root_file = os.path.join(ca.dir, "root-1.pem")
    with open(root_file, "w") as f:
        f.write(ca.root_pem(1))
    os.chmod(root_file, 0o644)
    apache = apache_factory(ca=ca)
    apache.add(f"""
        <MDomain {domain}>
            MDCAChallenges http-01
            MDPreferredChain "{_cn(want)}"
        </MDomain>
    """)
    apache.add_vhost(domain)
    apache.start()
    apache.wait_for_cert(domain, timeout=60)
    apache.graceful()
    chain = tlsclient.get_served_chain(apache.https_port, domain)
    assert len(chain) >= 2
    assert chain[-1].issuer == want.subject, [c.issuer.rfc4514_string() for c in chain]
    apache.verify_cert(domain, cafile=root_file)


def test_0343_preferred_chain_unknown(apache_factory, pebble_factory, domain):
    """A preferred issuer no chain has: the default chain is used."""
    ca = pebble_factory(env_vars={"PEBBLE_ALTERNATE_ROOTS": "1"})
    apache = apache_factory(ca=ca)
    apache.add(f"""
        <MDomain {domain}>
            MDCAChallenges http-01
            MDPreferredChain "No Such Root"
        </MDomain>
    """)
    apache.add_vhost(domain)
    apache.start()
    apache.wait_for_cert(domain, timeout=60)
    apache.graceful()
    apache.verify_cert(domain, cafile=ca.root_path)


def test_0344_must_staple(acmeproxy_factory, apache_factory, domain):
    """MDMustStaple on: the CSR asks for the TLS feature status_request.
    Pebble 2.4 does not copy that extension into the certificate, so the CSR
    is checked where our proxy (mdtest/acmeproxy.py) sees the finalize call."""
    proxy = acmeproxy_factory()
    apache = apache_factory(ca=proxy)
    apache.add(f"""
        <MDomain {domain}>
            MDCAChallenges http-01
            MDMustStaple on
        </MDomain>
    """)
    apache.add_vhost(domain)
    apache.start()
    apache.wait_for_cert(domain, timeout=60)
    finals = [e["payload"] for e in proxy.requests_to(r"^/finalize-order/", "POST")]
    assert len(finals) == 1, finals
    der = base64.urlsafe_b64decode(finals[0]["csr"] + "=" * (-len(finals[0]["csr"]) % 4))
    csr = x509.load_der_x509_csr(der)
    feats = csr.extensions.get_extension_for_oid(x509.oid.ExtensionOID.TLS_FEATURE).value
    assert x509.TLSFeatureType.status_request in list(feats)


def test_0345_long_first_name(apache, domain):
    """A first name longer than 63 bytes cannot be the subject CN: the CSR
    has none, and the certificate is still issued for all names."""
    long_name = ("a" * 50) + "." + ("b" * 20) + "." + domain
    apache.add(f"""
        MDomain {long_name} {domain}
        MDCAChallenges http-01
    """)
    apache.add_vhost(long_name, aliases=[domain])
    apache.start()
    apache.wait_for_cert(long_name, timeout=60)
    with open(apache.store_path("staging", long_name, "pubcert.pem"), "rb") as f:
        cert = x509.load_pem_x509_certificate(f.read())
    assert set(tlsclient.cert_dns_names(cert)) == {long_name, domain}
