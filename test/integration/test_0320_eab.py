# SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors.
"""0320: External Account Binding (RFC 8555 7.3.4) against a Pebble that
requires it (externalAccountBindingRequired, externalAccountMACKeys from
/usr/share/doc/pebble/examples/pebble-config-external-account-bindings.json).
"""
import json
import os

EAB_KEYS = {
    "kid-1": "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W",
    "kid-2": "b10lLJs8l1GPIzsLP0s6pMt8O0XVGnfTaCeROxQM0BIt2XrJMDHJZBM5NuQmQJQH",
}


def _eab_pebble(pebble_factory):
    return pebble_factory(config={"externalAccountBindingRequired": True,
                                  "externalAccountMACKeys": EAB_KEYS})


def _accounts(apache):
    """account.json of every account in the store (staged ones included)."""
    out = []
    for group in ("accounts", "staging"):
        base = apache.store_path(group)
        if not os.path.isdir(base):
            continue
        for d in sorted(os.listdir(base)):
            path = os.path.join(base, d, "account.json")
            if os.path.exists(path):
                with open(path) as f:
                    out.append(json.load(f))
    return out


def _job_last(apache, md):
    with open(apache.store_path("staging", md, "job.json")) as f:
        return json.load(f).get("last", {})


def test_0320_eab_kid_hmac(apache_factory, pebble_factory, domain):
    """MDExternalAccountBinding kid hmac: the account is created with the
    binding, the certificate is issued, and the account file names the kid
    but never holds the HMAC key."""
    ca = _eab_pebble(pebble_factory)
    apache = apache_factory(ca=ca)
    apache.add(f"""
        MDExternalAccountBinding kid-1 {EAB_KEYS['kid-1']}
        MDomain {domain}
        MDCAChallenges http-01
    """)
    apache.add_vhost(domain)
    apache.start()
    apache.wait_for_cert(domain, timeout=60)
    accts = _accounts(apache)
    assert len(accts) == 1 and accts[0]["eab"]["kid"] == "kid-1", accts
    assert EAB_KEYS["kid-1"] not in json.dumps(accts)
    apache.graceful()
    apache.verify_cert(domain, cafile=ca.root_path)


def test_0321_eab_json_file_and_sharing(apache_factory, pebble_factory, env, domain):
    """The JSON file form; two MDs with the same CA and binding share one
    account, an MD with another binding gets its own."""
    ca = _eab_pebble(pebble_factory)
    apache = apache_factory(ca=ca)
    path = os.path.join(env.run_dir, f"eab-{domain}.json")
    with open(path, "w") as f:
        json.dump({"kid": "kid-2", "hmac": EAB_KEYS["kid-2"]}, f)
    d2, d3 = f"two.{domain}", f"three.{domain}"
    apache.add(f"""
        MDCAChallenges http-01
        MDExternalAccountBinding "{path}"
        MDomain {domain}
        MDomain {d2}
        <MDomain {d3}>
            MDExternalAccountBinding kid-1 {EAB_KEYS['kid-1']}
        </MDomain>
    """)
    for d in (domain, d2, d3):
        apache.add_vhost(d)
    apache.start()
    for d in (domain, d2, d3):
        apache.wait_for_cert(d, timeout=90)
    kids = sorted(a["eab"]["kid"] for a in _accounts(apache))
    assert kids == ["kid-1", "kid-2"], _accounts(apache)


def test_0322_eab_missing(apache_factory, pebble_factory, domain):
    """The CA requires a binding and none is configured: the renewal fails
    with the CA's problem type and a hint at the directive."""
    ca = _eab_pebble(pebble_factory)
    apache = apache_factory(ca=ca)
    apache.add(f"""
        MDomain {domain}
        MDCAChallenges http-01
    """)
    apache.add_vhost(domain)
    apache.expect_log(rf"MD1102: {domain}: renewal failed", required=True)
    apache.start()
    apache.wait_for_log(rf"MD1102: {domain}: renewal failed")
    last = _job_last(apache, domain)
    assert last["problem"].endswith("externalAccountRequired"), last
    assert "MDExternalAccountBinding" in last["detail"], last


def test_0323_eab_wrong_hmac(apache_factory, pebble_factory, domain):
    """A binding with the wrong HMAC key is refused by the CA."""
    ca = _eab_pebble(pebble_factory)
    apache = apache_factory(ca=ca)
    apache.add(f"""
        MDExternalAccountBinding kid-1 {EAB_KEYS['kid-2']}
        MDomain {domain}
        MDCAChallenges http-01
    """)
    apache.add_vhost(domain)
    apache.expect_log(rf"MD1102: {domain}: renewal failed", required=True)
    apache.start()
    apache.wait_for_log(rf"MD1102: {domain}: renewal failed")
    last = _job_last(apache, domain)
    assert "problem" in last and last["problem"].startswith("urn:ietf:params:acme:error:"), last
    assert not _accounts(apache)
