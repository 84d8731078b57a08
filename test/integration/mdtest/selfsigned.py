# SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors.
"""Self-signed certificates for static-certificate tests (MDCertificateFile)."""
import datetime
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def make_self_signed(names, days=90, not_before_days=1, cn=None):
    """(cert_pem, key_pem) for `names` (the CN is `cn`, by default the first
    name), valid `days` days from `not_before_days` ago."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn or names[0])])
    start = now - datetime.timedelta(days=not_before_days)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(start + datetime.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def write_self_signed(directory, stem, names, days=90, not_before_days=1):
    """Write <stem>.pem and <stem>.key into `directory`; return both paths.
    An existing pair is reused."""
    cert_path = os.path.join(directory, f"{stem}.pem")
    key_path = os.path.join(directory, f"{stem}.key")
    if not (os.path.exists(cert_path) and os.path.exists(key_path)):
        cert_pem, key_pem = make_self_signed(names, days, not_before_days)
        with open(cert_path, "wb") as f:
            f.write(cert_pem)
        with open(key_path, "wb") as f:
            f.write(key_pem)
        os.chmod(cert_path, 0o644)
        os.chmod(key_path, 0o600)
    return cert_path, key_path
