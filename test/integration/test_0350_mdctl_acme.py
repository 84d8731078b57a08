# SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors.
"""0350: revocation and account management with mdctl (our command-line tool)
against Pebble; revocation is checked on Pebble's management API
(/cert-status-by-serial/<serial>)."""
import json
import os
import subprocess

import pytest

from cryptography import x509

from mdtest.env import MDCTL


def mdctl(apache, *args):
    r = subprocess.run([MDCTL, "-d", apache.store_dir, *args], capture_output=True, text=True,
                       timeout=60)
    return r.returncode, r.stdout + r.stderr


def _issued(apache, domain):
    apache.add(f"""
        MDomain {domain}
        MDCAChallenges http-01
    """)
    apache.add_vhost(domain)
    apache.start()
    apache.wait_for_cert(domain, timeout=60)
    apache.graceful()
    with open(apache.store_path("domains", domain, "pubcert.pem"), "rb") as f:
        return x509.load_pem_x509_certificate(f.read())


def _status(pebble, cert):
    return json.loads(pebble.mgmt_get(f"/cert-status-by-serial/{cert.serial_number:x}"))


def test_0350_revoke_with_account(apache, pebble, domain):
    cert = _issued(apache, domain)
    assert _status(pebble, cert)["Status"] == "Valid"
    rc, out = mdctl(apache, "revoke", "-c", pebble.ca_file, "-r", "4", domain)
    assert rc == 0, out
    assert "revoked" in out
    st = _status(pebble, cert)
    assert st["Status"] == "Revoked", st
    assert st.get("Reason") in (4, None), st


def test_0351_revoke_with_cert_key(apache, pebble, domain):
    cert = _issued(apache, domain)
    rc, out = mdctl(apache, "revoke", "-k", "-c", pebble.ca_file, domain)
    assert rc == 0, out
    assert _status(pebble, cert)["Status"] == "Revoked"


def test_0352_revoke_bad_reason(apache, pebble, domain):
    cert = _issued(apache, domain)
    rc, out = mdctl(apache, "revoke", "-c", pebble.ca_file, "-r", "7", domain)
    assert rc != 0 and "CRLReason" in out, out
    assert _status(pebble, cert)["Status"] == "Valid"


def _account_dir(apache):
    base = apache.store_path("accounts")
    names = sorted(os.listdir(base))
    assert len(names) == 1, names
    return os.path.join(base, names[0]), names[0]


@pytest.mark.parametrize("spec", ["secp384r1", "rsa3072"])
def test_0353_account_key_rollover(apache, pebble, domain, spec):
    """The account key is replaced by a new key (EC P-384, signing ES384, or
    RSA, signing RS256); the CA accepts requests signed with the new key (a
    contact update)."""
    _issued(apache, domain)
    path, acct = _account_dir(apache)
    with open(os.path.join(path, "account.pem"), "rb") as f:
        before = f.read()
    rc, out = mdctl(apache, "account-rollover", "-c", pebble.ca_file, "-t", spec, domain)
    assert rc == 0, out
    with open(os.path.join(path, "account.pem"), "rb") as f:
        after = f.read()
    assert after != before
    assert b"ENCRYPTED" in after, "the new account key is not encrypted at rest"
    rc, out = mdctl(apache, "account-contacts", "-c", pebble.ca_file, acct, "new@example.org")
    assert rc == 0, out
    with open(os.path.join(path, "account.json")) as f:
        assert json.load(f)["contact"] == ["mailto:new@example.org"]


def test_0354_account_deactivate(apache, pebble, domain):
    _issued(apache, domain)
    path, acct = _account_dir(apache)
    rc, out = mdctl(apache, "account-deactivate", "-c", pebble.ca_file, acct)
    assert rc == 0, out
    with open(os.path.join(path, "account.json")) as f:
        assert json.load(f)["status"] == "deactivated"
    rc, out = mdctl(apache, "account-contacts", "-c", pebble.ca_file, acct, "x@example.org")
    assert rc != 0, out
