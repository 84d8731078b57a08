# SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors.
"""0390: the preflight (MDPreflight): before an order the module checks what it
can see itself (a name without an address in DNS, CAA records that do not
allow the CA, port 80 of the name's address not reaching this server) and does
not spend one of the CA's attempts on a name that would fail; the status and
the log name the name and the fix; the usual backoff applies.

Each test has a DNS server of its own (pebble-challtestsrv without a default
address: a name has an address only when the test gives it one), a Pebble
resolving through it (Debian's Pebble 2.4 does not check CAA itself) and our
proxy in front of that Pebble, which counts the orders. The module asks the
same DNS server (MDPreflightResolver, set by the harness to the CA's).
"""
import json
import os
import re
import subprocess

import pytest

from mdtest.env import MDCTL
from mdtest.pebble import ChallTestSrv
from mdtest.procs import wait_until

PREFLIGHT = "urn:org:apache:httpd:preflight:"


@pytest.fixture
def world(env, pebble_factory, acmeproxy_factory, apache_factory, request):
    """(dns, proxy, apache): DNS without default addresses, Pebble resolving
    through it behind the order-counting proxy, an Apache using that CA."""
    dns = ChallTestSrv(env.run_dir, name=f"challtestsrv-{request.node.name}"[:60],
                       default_ipv4="")
    dns.start()
    try:
        pebble = pebble_factory(dns_port=dns.dns_port)
        proxy = acmeproxy_factory(upstream=pebble)
        apache = apache_factory(ca=proxy)
        apache.add_status_vhost()
        yield dns, proxy, apache
    finally:
        dns.stop()


def _md(apache, domain, extra="", retry="1h"):
    apache.add(f"""
        MDRetryDelay {retry}
        <MDomain {domain}>
            MDCAChallenges http-01
            {extra}
        </MDomain>
    """)
    apache.add_vhost(domain)


def _renewal(apache, domain):
    return apache.md_status(domain).get("renewal", {})


def _wait_failed(apache, domain, errors=1, timeout=30):
    return wait_until(lambda: _renewal(apache, domain).get("errors", 0) >= errors
                      and _renewal(apache, domain), timeout, interval=0.25,
                      what=f"{errors} failed attempt(s) of {domain}")


def _job(apache, domain):
    with open(apache.store_path("staging", domain, "job.json")) as f:
        return json.load(f)


def test_0390_no_dns_answer(world, domain):
    """A name without an address in DNS: no order reaches the CA; status, job and
    log name the name and the fix; the attempts back off as failed renewals do;
    once the name has an address, the next attempt orders and gets the
    certificate."""
    dns, proxy, apache = world
    _md(apache, domain, retry="1s")
    apache.expect_log(rf"MD1102: {re.escape(domain)}: renewal failed .*preflight:dns",
                      required=True)
    apache.start()
    renewal = _wait_failed(apache, domain, errors=2)
    last = renewal["last"]
    assert last["problem"] == PREFLIGHT + "dns", last
    assert f"{domain}: the name has no A or AAAA record" in last["detail"], last
    assert "Add an A or AAAA record" in last["detail"], last
    assert "nothing was sent to the CA" in last["detail"], last
    assert _job(apache, domain)["last"]["problem"] == PREFLIGHT + "dns"
    assert renewal.get("next-run"), renewal        # backing off, not given up
    assert proxy.orders() == []
    # mdctl check says the same, from the configuration and the store (exit 4)
    rc, out, err = _mdctl("-f", apache.conf_path, "check", domain)
    assert rc == 4, out + err
    assert f"{domain}: preflight FAILS ({PREFLIGHT}dns)" in out, out
    assert "the name has no A or AAAA record" in out, out
    rc, out, err = _mdctl("-f", apache.conf_path, "check", "nosuch.test")
    assert rc == 1 and "no MD has the name nosuch.test" in err, out + err
    # fixed in DNS: the next try (backoff of a few seconds) orders and succeeds
    dns.add_a(domain, ["127.0.0.1"])
    apache.wait_for_cert(domain, timeout=60)
    assert len(proxy.orders()) == 1


def test_0391_caa_forbids_the_ca(world, domain):
    """A CAA record up the tree (on 'test') that allows another CA: no order; the
    problem names the record's owner, the record and the record to add."""
    dns, proxy, apache = world
    dns.add_a(domain, ["127.0.0.1"])
    dns.add_caa("test", [("issue", "letsencrypt.org")])
    _md(apache, domain, "MDPreflight on caa=pebble.test")
    apache.expect_log(rf"MD1102: {re.escape(domain)}: renewal failed .*preflight:caa",
                      required=True)
    apache.start()
    last = _wait_failed(apache, domain)["last"]
    assert last["problem"] == PREFLIGHT + "caa", last
    assert (f'{domain}: the CAA records of test (issue "letsencrypt.org") do not allow '
            f"the CA (pebble.test)") in last["detail"], last
    assert "test. CAA 0 issue \"pebble.test\"" in last["detail"], last
    assert proxy.orders() == []


def test_0392_preflight_off_orders(world, domain):
    """MDPreflight off: the same CAA record, and the order goes to the CA (which,
    being Pebble, ignores CAA and issues)."""
    dns, proxy, apache = world
    dns.add_a(domain, ["127.0.0.1"])
    dns.add_caa("test", [("issue", "letsencrypt.org")])
    _md(apache, domain, "MDPreflight off caa=pebble.test")
    apache.start()
    apache.wait_for_cert(domain, timeout=60)
    assert len(proxy.orders()) == 1


def test_0393_name_points_elsewhere(world, domain):
    """The name's address is another machine's (127.0.0.2: nothing of ours listens
    there): the http-01 probe does not reach this server, no order is made, the
    detail says where the probe went and what to do."""
    dns, proxy, apache = world
    dns.add_a(domain, ["127.0.0.2"])
    _md(apache, domain)
    apache.expect_log(rf"MD1102: {re.escape(domain)}: renewal failed .*preflight:http",
                      required=True)
    apache.start()
    last = _wait_failed(apache, domain)["last"]
    assert last["problem"] == PREFLIGHT + "http", last
    assert f"{domain}: http-01 would fail" in last["detail"], last
    assert "127.0.0.2 port 80" in last["detail"], last          # as the CA: port 80
    assert "Point the name's A/AAAA records at this server" in last["detail"], last
    assert proxy.orders() == []
    rc, out, err = _mdctl("-f", apache.conf_path, "check", domain)
    assert rc == 4 and f"{domain}: http-01 would fail" in out, out + err


def test_0394_good_name_passes(world, domain):
    """A name with an address of this server and a CAA record allowing the CA:
    the preflight passes (the probe reached this server through the port
    MDPortMap maps 80 to) and the certificate is issued with one order."""
    dns, proxy, apache = world
    dns.add_a(domain, ["127.0.0.1"])
    dns.add_caa(domain, [("issue", "other.example"), ("issue", "pebble.test")])
    _md(apache, domain, "MDPreflight on caa=pebble.test")
    apache.log_level = "info md:debug"
    apache.start()
    apache.wait_for_cert(domain, timeout=60)
    assert apache.log_lines(rf"MD1601: {re.escape(domain)}: preflight passed "
                            r"\(CAA identities: pebble.test\)")
    assert apache.log_lines(rf"MD1201: answering http-01 for {re.escape(domain)}")
    assert len(proxy.orders()) == 1
    assert not _renewal(apache, domain).get("errors")
    # mdctl check: the same checks pass, its probe answered by the running server
    rc, out, err = _mdctl("-f", apache.conf_path, "check", domain)
    assert rc == 0, out + err
    assert f"{domain}: preflight passed" in out and "CAA pebble.test" in out, out
    assert not os.path.exists(apache.store_path("challenges", domain, "acme-http-01.txt"))


def _mdctl(*args):
    r = subprocess.run([MDCTL, *args], capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout, r.stderr
