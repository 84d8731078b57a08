# SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors.
"""0900: security review (docs/security.md), one test per property.

- http-01 answers the exact stored token of a name, nothing for path tricks,
  other tokens, other names, overlong tokens, odd Host headers;
- tls-alpn-01 certificates are served only on acme-tls/1 connections;
- no private key, store key or EAB HMAC in the error log (at trace level),
  in status output, or in any file of the store others can read;
- ACME connections verify the CA's certificate: a wrong MDCACertificateFile
  fails the renewal with a clear error and nothing is issued;
- store files and directories have the documented owners and modes after
  start, after a renewal, and after activation (mdtest.storecheck).
"""
import base64
import json
import os
import re
import secrets
import subprocess

import pytest

from mdtest import storecheck, tlsclient
from mdtest.selfsigned import make_self_signed
from mdtest.certs import make_ca_and_server

PREFIX = "/.well-known/acme-challenge/"


def _put_http01(apache, name, token, thumb="xSJ0L8yUZtAc4Y36lHGoP0iZ1xBdl4xvqK0jd1EA2r0"):
    """A pending http-01 answer as the renewal writes it: challenges/<name>/."""
    d = apache.store_path("challenges", name)
    os.makedirs(d, exist_ok=True)
    os.chmod(d, 0o755)
    path = os.path.join(d, "acme-http-01.txt")
    with open(path, "w") as f:
        f.write(f"{token}.{thumb}")
    os.chmod(path, 0o644)
    return f"{token}.{thumb}"


def test_0900_http01_exact_token_only(apache, domain):
    other = "other-" + domain
    apache.add(f"""
        MDomain {domain}
        MDomain {other}
        MDRenewMode manual
    """)
    apache.add_vhost(domain)
    apache.add_vhost(other)
    apache.start()
    token = "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0"
    token2 = "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA"
    authz = _put_http01(apache, domain, token)
    authz2 = _put_http01(apache, other, token2)

    # 1. the exact token of the exact name: the key authorization, nothing else
    r = apache.http_get(domain, PREFIX + token)
    assert r.status == 200 and r.text == authz, r.status_line
    r = apache.http_get(other, PREFIX + token2)
    assert r.status == 200 and r.text == authz2, r.status_line
    # a Host with the port or a trailing dot is the same name (Apache strips both)
    for host in (f"{domain}:{apache.http_port}", f"{domain}.", domain.upper()):
        r = apache.http_get(domain, PREFIX + token, headers={"Host": host})
        assert r.status == 200 and r.text == authz, f"Host {host}: {r.status_line}"

    # 2. everything else: no answer, and no key authorization in whatever comes back
    tricks = [
        (domain, PREFIX + token[:-1]),                    # a prefix of the token
        (domain, PREFIX + token + "x"),                   # longer
        (domain, PREFIX + token + "." + "x"),             # token.thumbprint-ish
        (domain, PREFIX + token.lower()),                 # case matters
        (domain, PREFIX + token2),                        # the other name's token
        (other, PREFIX + token),                          # our token, other name
        (domain, PREFIX + "A" * 200),                     # overlong
        (domain, PREFIX),                                 # empty
        (domain, PREFIX + token + "/"),
        (domain, PREFIX + token + "%2F"),
        (domain, PREFIX + "..%2F..%2Fmd_store.json"),
        (domain, PREFIX + "%2e%2e/%2e%2e/md_store.json"),
        (domain, PREFIX + "../challenges/" + domain + "/acme-http-01.txt"),
        (domain, PREFIX.rstrip("/") + token),
        (domain, "/.well-known/acme-challenge%2F" + token),
    ]
    for host, path in tricks:
        r = apache.http_get(host, path)
        assert r.status != 200, f"{host} {path}: {r.status_line}"
        assert token not in r.text and "xSJ0L8yU" not in r.text, f"{host} {path}: {r.text}"
    for host in (f"{domain}..", f".{domain}", "..", f"{domain}%2F..", "unmanaged.test"):
        r = apache.http_get(domain, PREFIX + token, headers={"Host": host})
        assert r.status != 200, f"Host {host}: {r.status_line}"
    # other methods get no answer either
    r = apache.http_get(domain, PREFIX + token, method="POST", body=b"x")
    assert r.status != 200 and "xSJ0L8yU" not in r.text, r.status_line
    apache.expect_log(r"AH00126|AH10244|Invalid URI")


def _s_client_subject(port, name, alpn=None):
    """The subject of what `openssl s_client` gets for SNI name (and ALPN)."""
    argv = ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername", name]
    if alpn:
        argv += ["-alpn", alpn]
    p = subprocess.run(argv, input=b"", capture_output=True, timeout=20)
    out = p.stdout.decode("utf-8", "replace")
    m = re.search(r"^subject=(.*)$", out, re.M)
    return m.group(1) if m else ""


def test_0901_tlsalpn01_only_on_acme_tls_1(apache, domain):
    apache.add(f"""
        MDomain {domain}
        MDRenewMode manual
    """)
    apache.add_vhost(domain, extra="Protocols h2 http/1.1 acme-tls/1")
    apache.start()
    marker = "tls-alpn-01-challenge-" + secrets.token_hex(4)
    cert_pem, key_pem = make_self_signed([domain], days=7, cn=marker)
    d = apache.store_path("challenges", domain)
    os.makedirs(d, exist_ok=True)
    for fn, data, mode in (("acme-tls-alpn-01-pubcert.secp256r1.pem", cert_pem, 0o644),
                           ("acme-tls-alpn-01-privkey.secp256r1.pem", key_pem, 0o600)):
        with open(os.path.join(d, fn), "wb") as f:
            f.write(data)
        os.chmod(os.path.join(d, fn), mode)
        os.chown(os.path.join(d, fn), *_www_data_ids())

    # 1. acme-tls/1 gets the challenge certificate
    assert marker in _s_client_subject(apache.https_port, domain, "acme-tls/1")
    # 2. anything else gets the server's own certificate
    assert marker not in _s_client_subject(apache.https_port, domain)
    assert marker not in _s_client_subject(apache.https_port, domain, "http/1.1")
    assert marker not in _s_client_subject(apache.https_port, domain, "h2,http/1.1")
    assert marker not in tlsclient.describe_cert(apache.get_cert(domain))
    r = apache.https_get(domain)
    assert r.status == 503, r.status_line  # the fallback, not the challenge certificate
    # 3. acme-tls/1 for a name without a pending challenge: not the challenge certificate
    assert marker not in _s_client_subject(apache.https_port, "other-" + domain, "acme-tls/1")
    apache.expect_log(r"AH02032|AH02042|SSL_accept|SSL Library Error|no application protocol")


def _www_data_ids():
    import pwd
    pw = pwd.getpwnam("www-data") if os.geteuid() == 0 else pwd.getpwuid(os.geteuid())
    return pw.pw_uid, pw.pw_gid


def _issue(apache, domain):
    apache.start()
    storecheck.assert_store(apache.store_dir, when="after start")
    apache.wait_for_cert(domain, timeout=60)
    storecheck.assert_store(apache.store_dir, when="after the renewal")
    apache.graceful()
    apache.verify_cert(domain)
    storecheck.assert_store(apache.store_dir, when="after activation")


EAB_KID = "kid-0902"
EAB_HMAC = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")


def test_0902_no_secrets_in_logs_status_or_readable_files(apache_factory, pebble_factory, domain):
    pebble = pebble_factory(config={"externalAccountBindingRequired": True,
                                    "externalAccountMACKeys": {EAB_KID: EAB_HMAC}})
    apache = apache_factory(ca=pebble)
    apache.log_level = "info md:trace8 ssl:info"
    apache.add(f"""
        MDomain {domain}
        MDCAChallenges http-01
        MDExternalAccountBinding {EAB_KID} {EAB_HMAC}
    """)
    apache.add_status_vhost()
    apache.add_vhost(domain)
    _issue(apache, domain)
    # a second start reads everything again (accounts, keys, md.json) at trace level
    apache.graceful()
    with open(apache.store_path("md_store.json")) as f:
        store_key = json.load(f)["key"]
    secrets_ = {"the store key": store_key, "the EAB HMAC": EAB_HMAC,
                "a PEM private key": "PRIVATE KEY"}
    def status_get(path):
        r = apache.status_get(path)
        assert r.status == 200, f"{path}: {r.status_line}"
        return r.text
    places = {"the error log": apache.log_text(),
              "server-status": apache.server_status(),
              "md-status": status_get("/md-status"),
              "md-status of the MD": status_get(f"/md-status/{domain}"),
              "metrics": status_get("/metrics"),
              "certificate-status": apache.https_get(domain, "/.httpd/certificate-status").text}
    assert '"***"' in places["md-status of the MD"], "the EAB hmac is shown masked"
    for path in storecheck.world_readable_files(apache.store_dir):
        with open(path, errors="replace") as f:
            places[path] = f.read()
    for what, secret in secrets_.items():
        for where, text in places.items():
            assert secret not in text, f"{what} appears in {where}"
    # and the key file of the certificate holds what it should
    key_path = apache.store_path("domains", domain, "privkey.pem")
    assert key_path not in storecheck.world_readable_files(apache.store_dir)


def test_0903_wrong_ca_certificate_fails_clearly(apache, pebble, domain, env):
    wrong_dir = os.path.join(env.run_dir, "wrong-ca-" + domain)
    os.makedirs(wrong_dir, exist_ok=True)
    os.chmod(wrong_dir, 0o755)
    wrong = make_ca_and_server(wrong_dir)
    apache.md_defaults = False
    apache.add(f"""
        MDStoreDir "{apache.store_dir}"
        MDCertificateAuthority {pebble.url}
        MDCACertificateFile "{wrong['ca']}"
        MDCertificateAgreement accepted
        MDContactEmail admin@example.org
        MDPortMap {apache.port_map}
        MDomain {domain}
    """)
    apache.add_vhost(domain)
    apache.expect_log(r"\[md:error\].*MD1102: " + re.escape(domain) + r": renewal failed.*"
                      r"TLS certificate could not be verified with .*check MDCACertificateFile",
                      required=True)
    apache.start()
    apache.wait_for_log(r"MD1102: " + re.escape(domain), timeout=60)
    assert not os.path.exists(apache.store_path("staging", domain, "pubcert.pem"))
    assert not os.path.exists(apache.store_path("domains", domain, "pubcert.pem"))
    assert not os.listdir(apache.store_path("accounts")), "an account was made over TLS we did not verify"


def test_0904_store_modes_after_every_step(apache, domain):
    apache.add(f"""
        MDomain {domain}
        MDCAChallenges http-01
    """)
    apache.add_vhost(domain)
    _issue(apache, domain)
