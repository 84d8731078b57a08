# SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors.
"""TLS and HTTP client helpers that talk to 127.0.0.1 with a chosen SNI/Host.

Test domains (x.test) do not resolve on this machine, so every connection
goes to 127.0.0.1:<port> and the name is given as SNI and Host header.
"""
import http.client
import socket
import ssl
import subprocess
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtensionOID


def _context(cafile=None, alpn=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if cafile:
        ctx.load_verify_locations(cafile=cafile)
        ctx.check_hostname = True
        ctx.verify_mode = ssl.CERT_REQUIRED
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if alpn:
        ctx.set_alpn_protocols(list(alpn))
    return ctx


def _connect(port, sni, cafile=None, alpn=None, host="127.0.0.1", timeout=10):
    raw = socket.create_connection((host, port), timeout=timeout)
    try:
        return _context(cafile, alpn).wrap_socket(raw, server_hostname=sni)
    except Exception:
        raw.close()
        raise


def get_served_cert(port, sni, alpn=None, host="127.0.0.1", timeout=10):
    """The leaf certificate served for `sni`, without any verification."""
    with _connect(port, sni, None, alpn, host, timeout) as s:
        return x509.load_der_x509_certificate(s.getpeercert(binary_form=True))


def verify_served_cert(port, sni, cafile, host="127.0.0.1", timeout=10):
    """Handshake that verifies the served chain against `cafile` only, and
    that `sni` matches the certificate.  The server must send every
    intermediate.  Raises ssl.SSLCertVerificationError on failure and
    returns the verified leaf certificate."""
    with _connect(port, sni, cafile, None, host, timeout) as s:
        return x509.load_der_x509_certificate(s.getpeercert(binary_form=True))


def get_served_chain(port, sni, host="127.0.0.1", timeout=20):
    """All certificates the server sends, leaf first (via openssl s_client)."""
    out = subprocess.run(
        ["openssl", "s_client", "-connect", f"{host}:{port}", "-servername", sni, "-showcerts"],
        input=b"", capture_output=True, timeout=timeout).stdout
    return load_pem_certs(out)


def load_pem_certs(data):
    """Every PEM certificate in `data` (bytes or str), in order."""
    if isinstance(data, str):
        data = data.encode()
    marker_end = b"-----END CERTIFICATE-----"
    certs = []
    for chunk in data.split(marker_end)[:-1]:
        start = chunk.find(b"-----BEGIN CERTIFICATE-----")
        if start >= 0:
            certs.append(x509.load_pem_x509_certificate(chunk[start:] + marker_end + b"\n"))
    return certs


def cert_dns_names(cert):
    """dNSName entries of the subjectAltName extension (empty if none)."""
    try:
        ext = cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
    except x509.ExtensionNotFound:
        return []
    return ext.value.get_values_for_type(x509.DNSName)


def is_self_signed(cert):
    """True if cert names itself as issuer and its own key verifies its signature."""
    if cert.issuer != cert.subject:
        return False
    key = cert.public_key()
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(),
                       cert.signature_hash_algorithm)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(cert.signature, cert.tbs_certificate_bytes,
                       ec.ECDSA(cert.signature_hash_algorithm))
        else:
            return False
    except Exception:
        return False
    return True


def describe_cert(cert):
    """A dict with issuer, subject, SAN names and validity (for printing)."""
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "dns_names": cert_dns_names(cert),
        "not_before": cert.not_valid_before.isoformat() + "Z",
        "not_after": cert.not_valid_after.isoformat() + "Z",
        "serial": format(cert.serial_number, "x"),
    }


@dataclass
class Response:
    status: int
    reason: str
    version: str
    headers: dict = field(default_factory=dict)
    body: bytes = b""

    @property
    def status_line(self):
        return f"{self.version} {self.status} {self.reason}"

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")


def _request(conn, name, path, method, headers, body):
    hdrs = {"Host": name, "Connection": "close"}
    hdrs.update(headers or {})
    conn.request(method, path, body=body, headers=hdrs)
    r = conn.getresponse()
    data = r.read()
    version = {10: "HTTP/1.0", 11: "HTTP/1.1"}.get(r.version, str(r.version))
    return Response(r.status, r.reason, version, {k.lower(): v for k, v in r.getheaders()}, data)


def https_get(port, name, path="/", cafile=None, method="GET", headers=None, body=None,
              host="127.0.0.1", timeout=10):
    """HTTPS request to host:port with SNI and Host `name`.

    With `cafile`, the served chain is verified against it (and the name
    checked); without, any certificate is accepted.  Redirects are not
    followed."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    conn.sock = _connect(port, name, cafile, ["http/1.1"], host, timeout)
    try:
        return _request(conn, name, path, method, headers, body)
    finally:
        conn.close()


def http_get(port, name, path="/", method="GET", headers=None, body=None, host="127.0.0.1",
             timeout=10):
    """Plain HTTP request to host:port with Host header `name`."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        return _request(conn, name, path, method, headers, body)
    finally:
        conn.close()
