# SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors.
"""0306: dns-01 against a real BIND 9.

Debian's named is the authoritative server of the test's zone on a free
127.0.0.1 port, accepting RFC 2136 updates signed with a TSIG key; Pebble
resolves every name through it. The dns-01 program is the shipped
contrib/dns01-nsupdate.sh (nsupdate -k), configured as docs/dns01-program.md
shows: its settings file named with -c, the key file owned by the server's User,
mode 0600. The base name is validated by http-01 (the zone's A records point at
127.0.0.1), the wildcard by dns-01.
"""
import os
import shutil

import pytest

from mdtest import bind9, tlsclient

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "..", "..", "contrib", "dns01-nsupdate.sh")

pytestmark = pytest.mark.skipif(bind9.available() is not None,
                                reason=f"BIND 9: {bind9.available()}")


@pytest.fixture
def named(env, domain):
    server = bind9.Bind9(env.run_dir, domain, key_owner="www-data")
    server.start()
    yield server
    server.stop()


def _program(env, named, domain, key_file=None):
    """The script copied where www-data may run it, and its settings file."""
    script = os.path.join(env.run_dir, "dns01-nsupdate.sh")
    shutil.copy(SCRIPT, script)
    os.chmod(script, 0o755)
    conf = os.path.join(named.dir, "dns01-nsupdate.conf")
    with open(conf, "w") as f:
        f.write(f"NS_SERVER=127.0.0.1\nNS_PORT={named.port}\n"
                f"NS_KEYFILE={key_file or named.key_file}\nNS_ZONE={domain}\nNS_TTL=5\n")
    os.chmod(conf, 0o644)
    return f"MDChallengeDns01 {script} -c {conf}"


def test_0306_wildcard_through_bind9(apache_factory, pebble_factory, named, env, domain):
    """x.test and *.x.test from Pebble resolving through BIND 9: the TXT
    records are added by nsupdate with the TSIG key and removed afterwards; the
    certificate covers the wildcard and is served."""
    pebble = pebble_factory(dns_port=named.port)
    apache = apache_factory(ca=pebble)
    apache.add(f"""
        {_program(env, named, domain)}
        MDChallengeDns01Version 2
        <MDomain {domain} *.{domain}>
        </MDomain>
    """)
    apache.add_vhost(domain, aliases=[f"*.{domain}"])
    apache.start()
    apache.wait_for_cert(domain, timeout=90)
    apache.graceful()
    for name in (domain, f"www.{domain}"):
        cert = apache.verify_cert(name)
        names = tlsclient.cert_dns_names(cert)
        assert domain in names and f"*.{domain}" in names, names
    # BIND took the signed updates, and the teardown removed the record
    log = named.log_text()
    assert f"_acme-challenge.{domain}" in log and "signer \"mdtest-update\"" in log, log[-3000:]
    assert "adding an RR" in log and "deleting an RR" in log, log[-3000:]
    assert named.query(f"_acme-challenge.{domain}", "TXT") == 0


def test_0307_key_readable_by_others_refused(apache_factory, pebble_factory, named, env, domain):
    """A TSIG key file others can read is refused by the script with a message
    saying what to do; the renewal fails with that message and nothing reaches
    BIND."""
    loose = os.path.join(named.dir, "loose.key")
    shutil.copy(named.key_file, loose)
    os.chmod(loose, 0o644)
    pebble = pebble_factory(dns_port=named.port)
    apache = apache_factory(ca=pebble)
    apache.add(f"""
        {_program(env, named, domain, key_file=loose)}
        <MDomain *.{domain}>
            MDCAChallenges dns-01
        </MDomain>
    """)
    apache.add_vhost(f"x.{domain}", aliases=[f"*.{domain}"])
    apache.expect_log(r"MD1102: .*renewal failed", required=True)
    apache.expect_log(r"MD3002|MD3001|dns-01", required=False)
    apache.start()
    apache.wait_for_log(r"chmod 600 it", timeout=60)
    assert "signer \"mdtest-update\"" not in named.log_text()
