# SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors.
"""A throw-away CA and a localhost/127.0.0.1 server certificate.

Debian's pebble package ships no test certificates, so every run makes its
own: Pebble serves its ACME directory over HTTPS with the server certificate,
and the module under test trusts the CA via MDCACertificateFile.
"""
import datetime
import ipaddress
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def _write(path, data, mode):
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)


def _key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def make_ca_and_server(out_dir, names=("localhost",), ips=("127.0.0.1",)):
    """Create ca.pem, ca-key.pem, server.pem and server-key.pem in out_dir.

    Returns a dict with the four paths.  Certificates are world readable
    (0644) because Apache's children (user www-data) read the CA file given
    with MDCACertificateFile; keys are 0600.
    """
    now = datetime.datetime.now(datetime.timezone.utc)
    start = now - datetime.timedelta(hours=1)
    end = now + datetime.timedelta(days=30)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mdtest CA for Pebble HTTPS")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                     content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    srv_key = ec.generate_private_key(ec.SECP256R1())
    san = [x509.DNSName(n) for n in names] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    srv_cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(ca_name)
        .public_key(srv_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(end)
        .add_extension(x509.SubjectAlternativeName(san), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    paths = {
        "ca": os.path.join(out_dir, "ca.pem"),
        "ca_key": os.path.join(out_dir, "ca-key.pem"),
        "server": os.path.join(out_dir, "server.pem"),
        "server_key": os.path.join(out_dir, "server-key.pem"),
    }
    _write(paths["ca"], ca_cert.public_bytes(serialization.Encoding.PEM), 0o644)
    _write(paths["ca_key"], _key_pem(ca_key), 0o600)
    _write(paths["server"], srv_cert.public_bytes(serialization.Encoding.PEM), 0o644)
    _write(paths["server_key"], _key_pem(srv_key), 0o600)
    return paths
