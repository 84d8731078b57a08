# SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors.
"""0310: certificates for IP addresses (RFC 8738).

The order carries an identifier of type "ip", the CSR an iPAddress SAN, and
Pebble (validation on) checks http-01 with "Host: 127.0.0.1:<port>": the
module's http-01 handler answers for IP hosts.  TLS clients send no SNI for
an IP address, so the vhost for the address is the default one of the port.
"""
import ipaddress

from cryptography import x509


def _ip_sans(cert):
    ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return [str(ip) for ip in ext.get_values_for_type(x509.IPAddress)]


def test_0310_ip_http01(apache):
    ip = "127.0.0.1"
    apache.add(f"""
        MDomain {ip}
        MDCAChallenges http-01
    """)
    content = apache.add_vhost(ip)
    apache.start()
    apache.wait_for_cert(ip, timeout=60)
    apache.graceful()
    cert = apache.verify_cert(ip)          # checks the IP SAN against the address
    assert _ip_sans(cert) == [ip]
    r = apache.https_get(ip, verify=True)
    assert r.status == 200, r.status_line
    assert r.text == content


def test_0311_dns_and_ip(apache, domain):
    """One MD with a DNS name and an IP address: one certificate with both."""
    ip = "127.0.0.1"
    apache.add(f"""
        MDomain {domain} {ip}
        MDCAChallenges http-01
    """)
    apache.add_vhost(domain, aliases=[ip])
    apache.start()
    apache.wait_for_cert(domain, timeout=60)
    apache.graceful()
    cert = apache.verify_cert(domain)
    assert _ip_sans(cert) == [ip]
    assert ipaddress.ip_address(ip)
