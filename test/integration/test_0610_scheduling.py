# SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors.
"""0610: when and where renewals happen - the CA's ARI window, CA failover, and a slow
CA that must not hold up the other MDs.

The ARI answers and the slow answer come from our ACME proxy (mdtest/acmeproxy.py) in
front of Pebble, which has neither; everything else is Pebble's, validation on.
"""
import datetime
import json
import os
import time

from mdtest.ports import free_ports
from mdtest.procs import wait_until


def _staged(apache, md):
    try:
        with open(apache.store_path("staging", md, "job.json")) as f:
            job = json.load(f)
        return bool(job.get("finished")) and os.path.exists(
            apache.store_path("staging", md, "pubcert.pem"))
    except (OSError, ValueError):
        return False


def test_0610_ari_window_renews_early(acmeproxy_factory, apache_factory, domain):
    """A certificate far from its renew window is renewed because the CA's
    renewalInfo window (served by our proxy) has opened; the order names the
    certificate it replaces."""
    proxy = acmeproxy_factory()
    apache = apache_factory(ca=proxy)
    apache.add(f"MDomain {domain}\nMDCAChallenges http-01")
    apache.add_vhost(domain)
    apache.start()
    apache.wait_for_cert(domain)
    # the CA now says: renew, the window is already open. Said before the certificate
    # goes live, so that one generation of the server sees it (a restart in the middle
    # of the ARI renewal would leave its order behind and make another)
    now = datetime.datetime.now(datetime.timezone.utc)
    proxy.ari = True
    proxy.ari_default = (now - datetime.timedelta(hours=2), now - datetime.timedelta(hours=1))
    apache.graceful()
    serial = apache.verify_cert(domain, cafile=proxy.root_path).serial_number
    apache.wait_for_log(r"MD1112: .*the CA suggests renewing", timeout=30)
    wait_until(lambda: _staged(apache, domain), 60, what="the renewal the ARI window asked for")
    orders = proxy.orders()
    assert len(orders) == 2 and orders[1].get("replaces"), orders
    apache.graceful()
    assert apache.verify_cert(domain, cafile=proxy.root_path).serial_number != serial


def test_0611_ca_failover(apache, pebble, domain):
    """The first CA of MDCertificateAuthority does not answer: after
    MDRetryFailover errors the next one is used and issues."""
    dead = f"https://127.0.0.1:{free_ports(1)[0]}/dir"
    apache.md_defaults = False
    apache.add(f"""
        MDStoreDir "{apache.store_dir}"
        MDCertificateAuthority {dead} {pebble.url}
        MDCACertificateFile "{pebble.ca_file}"
        MDCertificateAgreement accepted
        MDContactEmail admin@example.org
        MDPortMap {apache.port_map}
        MDRetryFailover 2
        MDRetryDelay 1s
        MDomain {domain}
        MDCAChallenges http-01
    """)
    apache.add_vhost(domain)
    apache.expect_log(r"MD1102: .*renewal failed", required=True)
    apache.expect_log(r"MD1110: .*2 errors in a row at " + dead, required=True)
    apache.start()
    apache.wait_for_cert(domain, timeout=90)
    assert len(apache.log_lines(r"MD1102: ")) == 2
    with open(apache.store_path("staging", domain, "md.json")) as f:
        assert json.load(f)["ca"]["url"] == pebble.url
    apache.graceful()
    apache.verify_cert(domain)


def test_0612_slow_ca_answer_holds_up_nobody(acmeproxy_factory, apache_factory):
    """Twenty MDs renew at once; the CA takes 25 seconds to answer one of the new
    orders (our proxy holds it). The other nineteen get their certificates
    meanwhile, and the slow one completes afterwards."""
    proxy = acmeproxy_factory()
    proxy.add_fault(r"^/order-plz", "delay", method="POST", count=1, delay=25.0)
    apache = apache_factory(ca=proxy)
    names = [f"s{i:02d}.slow.test" for i in range(20)]
    apache.add_ec_mds(names)
    start = time.time()
    apache.start()

    def staged_count():
        return sum(os.path.exists(apache.store_path("staging", n, "pubcert.secp256r1.pem"))
                   and apache._job_finished(n) for n in names)
    wait_until(lambda: staged_count() >= 19, 24, interval=0.25,
               what="19 MDs issued while one order is held up")
    assert time.time() - start < 25, "the others waited for the slow answer"
    assert staged_count() == 19
    wait_until(lambda: staged_count() == 20, 60, interval=0.5, what="the slow MD, after all")


def test_0613_account_confirmed_once_per_run(acmeproxy_factory, apache_factory):
    """Five MDs renew side by side with one account: the CA is asked about the
    account once (a POST-as-GET to it), not once per MD."""
    proxy = acmeproxy_factory()
    apache = apache_factory(ca=proxy)
    names = [f"a{i}.acct.test" for i in range(5)]
    apache.add_ec_mds(names)
    apache.start()
    for name in names:
        apache.wait_for_cert(name, cert_file="pubcert.secp256r1.pem")
    apache.graceful()
    since = time.time()
    apache.add("MDRenewWindow 3650d")
    apache.expect_log(r"MD4012: .*MDRenewWindow 3650d is not shorter", required=True)
    apache.graceful()   # the first certificates go live, the renewals start
    wait_until(lambda: all(os.path.exists(apache.store_path("staging", n, "pubcert.secp256r1.pem"))
                           and apache._job_finished(n) for n in names), 60, interval=0.25,
               what="five renewals")
    checks = [e for e in proxy.requests_to(r"^/my-account/", "POST") if e["time"] >= since]
    orders = [e for e in proxy.requests_to(r"^/order-plz", "POST") if e["time"] >= since]
    assert len(orders) >= 5, orders
    assert len(checks) == 1, checks


def test_0614_waiting_on_the_account_blocks_nobody(acmeproxy_factory, apache_factory):
    """MDRenewConcurrency 1: the first renewal registers the account and is told by
    the CA to come back in 2 s (503, Retry-After). Its slot goes to the next MD,
    which needs the same account and waits for the first one to finish registering.
    The first one takes its slot back when its wait is over, and all MDs get their
    certificates (a renewal waiting for a free slot there would wait forever)."""
    proxy = acmeproxy_factory()
    proxy.add_fault(r"^/sign-me-up", "status", method="POST", count=1, status=503,
                    headers={"Retry-After": "2", "Content-Type": "application/problem+json"},
                    body='{"type":"urn:ietf:params:acme:error:serverInternal",'
                         '"detail":"come back in 2 s"}')
    apache = apache_factory(ca=proxy)
    names = [f"w{i}.acctwait.test" for i in range(3)]
    apache.add_ec_mds(names, "MDRenewConcurrency 1")
    apache.start()
    for name in names:
        apache.wait_for_cert(name, timeout=30, cert_file="pubcert.secp256r1.pem")
    assert len(proxy.requests_to(r"^/sign-me-up", "POST")) == 2     # the 503, then the account
