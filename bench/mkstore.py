#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors.
"""Write a mod_md store with N complete MDs, without any CA.

md_store.json (version 3, a random key) and
domains/m<i>.bench.test/ gets md.json (the fields of md_to_json, as today's
module also writes them), privkey.secp256r1.pem (unencrypted PKCS#8) and
pubcert.secp256r1.pem (leaf + issuer), the leaf signed by a throw-away
local CA (with authority and subject key identifiers, as CAs issue them).  Keys are EC P-256 to keep generation fast.  The same files serve
as static certificates for a mod_ssl-only server.

Usage: mkstore.py STORE_DIR N [CA_URL]
"""
import base64
import datetime
import json
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CURVE = "secp256r1"
KEY_FILE = f"privkey.{CURVE}.pem"
CERT_FILE = f"pubcert.{CURVE}.pem"


def md_name(i):
    return f"m{i}.bench.test"


def md_json(name, ca_url):
    return {
        "name": name,
        "domains": [name],
        "contacts": [],
        "transitive": 1,
        "ca": {"urls": [ca_url], "proto": "ACME"},
        "privkey": {"type": "EC", "curve": CURVE},
        "state": 2,
        "renew-mode": 0,
        "renew-window": "33%",
        "warn-window": "10%",
        "must-staple": False,
        "stapling": False,
    }


def _write(path, data, mode=0o600):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def make_ca():
    now = datetime.datetime.now(datetime.timezone.utc)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bench throw-away CA")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .sign(key, hashes.SHA256()))
    return key, cert


def make_leaf(ca_key, ca_cert, name, now):
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=365))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            # RFC 5280 4.2.1.1: a CA's certificates name the key that signed them
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    return key, cert


def make_store(store_dir, n, ca_url="https://127.0.0.1:1/dir"):
    """Create store_dir/domains/<md>/... for m0..m<n-1>; returns the CA cert path."""
    domains = os.path.join(store_dir, "domains")
    os.makedirs(domains, exist_ok=True)
    # as every store written by a module has it: the layout version and the
    # key that encrypts private keys outside domains/
    key = base64.urlsafe_b64encode(os.urandom(48)).decode().rstrip("=")
    _write(os.path.join(store_dir, "md_store.json"),
           json.dumps({"store": {"version": 3}, "key": key}).encode())
    ca_key, ca_cert = make_ca()
    ca_pem = ca_cert.public_bytes(serialization.Encoding.PEM)
    ca_path = os.path.join(store_dir, "bench-ca.pem")
    _write(ca_path, ca_pem, 0o644)
    now = datetime.datetime.now(datetime.timezone.utc)
    for i in range(n):
        name = md_name(i)
        d = os.path.join(domains, name)
        os.makedirs(d, mode=0o700, exist_ok=True)
        key, cert = make_leaf(ca_key, ca_cert, name, now)
        _write(os.path.join(d, KEY_FILE), key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
        _write(os.path.join(d, CERT_FILE), cert.public_bytes(serialization.Encoding.PEM) + ca_pem)
        _write(os.path.join(d, "md.json"), json.dumps(md_json(name, ca_url), indent=2).encode())
    return ca_path


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        raise SystemExit(__doc__)
    make_store(sys.argv[1], int(sys.argv[2]), *sys.argv[3:])
