# SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors.
"""0300: dns-01 challenges and wildcard certificates.

The CA is Pebble with validation on; it resolves _acme-challenge TXT records
through pebble-challtestsrv.  The dns-01 program (MDChallengeDns01) is ours,
test/integration/dns01_challtestsrv.py: it sets/clears the TXT records via
challtestsrv's management API and logs each call with its MD_* environment.
"""
import json
import os
import time

import pytest

from mdtest import tlsclient
from mdtest.procs import wait_until

HERE = os.path.dirname(os.path.abspath(__file__))
PROGRAM = os.path.join(HERE, "dns01_challtestsrv.py")


def _dns01_cmd(env, challtestsrv, name):
    """The MDChallengeDns01 line and the log file the program writes."""
    log = os.path.join(env.run_dir, f"dns01-{name}.log")
    open(log, "w").close()
    os.chmod(log, 0o666)      # the program runs as the children's user
    return f'MDChallengeDns01 /usr/bin/python3 "{PROGRAM}" {challtestsrv.mgmt_url} "{log}"', log


def _calls(log):
    with open(log) as f:
        return [json.loads(line) for line in f if line.strip()]


def _serve_and_verify(apache, md, names):
    apache.wait_for_cert(md, timeout=90)
    apache.graceful()
    for name in names:
        cert = apache.verify_cert(name)
        assert md in tlsclient.cert_dns_names(cert)
        r = apache.https_get(name, verify=True)
        assert r.status == 200, r.status_line


def test_0300_wildcard_dns01_only(apache, env, challtestsrv, domain):
    """x.test and *.x.test, dns-01 only: the program is called with the
    domain without '*.', once per authorization (two TXT values for the same
    record), and version 1 teardown gets no value.  The certificate covers
    the wildcard and is served for any subdomain."""
    line, log = _dns01_cmd(env, challtestsrv, domain)
    apache.add(f"""
        {line}
        <MDomain {domain} *.{domain}>
            MDCAChallenges dns-01
        </MDomain>
    """)
    apache.add_vhost(domain, aliases=[f"*.{domain}"])
    apache.start()
    _serve_and_verify(apache, domain, [domain, f"www.{domain}", f"a.{domain}"])
    cert = apache.verify_cert(f"x.{domain}")
    assert f"*.{domain}" in tlsclient.cert_dns_names(cert)
    calls = _calls(log)
    setups = [c for c in calls if c["args"][0] == "setup"]
    teardowns = [c for c in calls if c["args"][0] == "teardown"]
    assert len(setups) == 2, calls
    assert all(c["args"][1] == domain and len(c["args"]) == 3 for c in setups), setups
    assert setups[0]["args"][2] != setups[1]["args"][2], "both authorizations got the same value"
    assert len(teardowns) == 2 and all(c["args"] == ["teardown", domain] for c in teardowns), calls
    e = setups[0]["env"]
    assert e["MD_ACTION"] == "setup" and e["MD_NAME"] == domain and e["MD_DOMAIN"] == domain
    assert e["MD_RECORD"] == f"_acme-challenge.{domain}"
    assert e["MD_TXT_VALUE"] == setups[0]["args"][2]
    assert e["MD_DNS01_VERSION"] == "1"


def test_0301_wildcard_auto_version2(apache, env, challtestsrv, domain):
    """Automatic selection: the base name is validated by http-01 (the server
    listens on the http port), only the wildcard by dns-01.  With
    MDChallengeDns01Version 2 teardown also receives the TXT value."""
    line, log = _dns01_cmd(env, challtestsrv, domain)
    apache.add(f"""
        {line}
        MDChallengeDns01Version 2
        MDomain {domain} *.{domain}
    """)
    apache.add_vhost(domain, aliases=[f"*.{domain}"])
    apache.start()
    _serve_and_verify(apache, domain, [domain, f"sub.{domain}"])
    calls = _calls(log)
    assert [c["args"][0] for c in calls] == ["setup", "teardown"], calls
    value = calls[0]["args"][2]
    assert calls[1]["args"] == ["teardown", domain, value]
    assert calls[1]["env"]["MD_DNS01_VERSION"] == "2"


def _job_last(apache, md):
    with open(apache.store_path("staging", md, "job.json")) as f:
        return json.load(f).get("last", {})


def _wait_job_error(apache, md, timeout=30):
    apache.wait_for_log(rf"MD1102: {md}: renewal failed", timeout=timeout)
    return _job_last(apache, md)


def test_0302_wildcard_without_program(apache, domain):
    """A wildcard without MDChallengeDns01: the renewal fails and says, for
    each challenge type, why it cannot be used. The preflight finds it before
    the CA is asked (MDPreflight), in today's words (challenge-mismatch)."""
    apache.add(f"MDomain {domain} *.{domain}")
    apache.add_vhost(domain, aliases=[f"*.{domain}"])
    apache.expect_log(rf"MD1102: {domain}: renewal failed", required=True)
    apache.start()
    _wait_job_error(apache, domain)
    detail = json.dumps(_job_last(apache, domain))
    assert f"no usable challenge for *.{domain}" in detail, detail
    assert "dns-01: MDChallengeDns01" in detail, detail
    assert "http-01, tls-alpn-01: wildcard names can only be validated with dns-01" in detail, detail
    assert "challenge-mismatch" in detail, detail


def test_0303_program_fails(apache, env, domain):
    """A dns-01 program that exits non-zero: the renewal fails with the
    program's exit code and output in the job's last result.  The command
    line is split with quotes respected and never run by a shell of ours
    (here the program itself is /bin/sh, given a script as one argument)."""
    apache.add(f"""
        MDChallengeDns01 /bin/sh -c "echo 'zone is locked'; exit 3" dns01
        <MDomain {domain}>
            MDCAChallenges dns-01
        </MDomain>
    """)
    apache.add_vhost(domain)
    apache.expect_log(rf"MD1102: {domain}: renewal failed", required=True)
    apache.start()
    _wait_job_error(apache, domain)
    last = json.dumps(_job_last(apache, domain))
    assert "exit code 3" in last, last
    assert "zone is locked" in last, last


def test_0304_propagation_wait_holds_up_nobody(apache, env, challtestsrv, domain):
    """MDChallengeDns01Wait: the CA is asked to look only after the wait, and a
    renewal waiting for DNS lends its slot: with MDRenewConcurrency 1, two MDs
    waiting 4 s each wait side by side, and two http-01 MDs are issued meanwhile."""
    line, log = _dns01_cmd(env, challtestsrv, domain)
    slow = [f"dns{i}.{domain}" for i in range(2)]
    fast = [f"http{i}.{domain}" for i in range(2)]
    apache.add(f"{line}\nMDRenewConcurrency 1")
    for md in slow:
        apache.add(f"<MDomain {md}>\n  MDCAChallenges dns-01\n  MDChallengeDns01Wait 4s\n</MDomain>")
    for md in fast:
        apache.add(f"MDomain {md}\nMDCAChallenges http-01")
    for md in slow + fast:
        apache.add_vhost(md)
    start = time.time()
    apache.start()
    for md in slow + fast:
        apache.wait_for_cert(md, timeout=60)
    issued = {md: os.path.getmtime(apache.store_path("staging", md, "pubcert.pem"))
              for md in slow + fast}
    setup = {c["args"][1]: c["time"] for c in _calls(log) if c["args"][0] == "setup"}
    assert sorted(setup) == sorted(slow), setup
    for md in slow:                       # the CA looked after the wait, not before
        assert issued[md] - setup[md] >= 4, (md, issued[md] - setup[md])
    for md in fast:                       # nobody waited for the DNS waits
        assert issued[md] < min(setup.values()) + 4, (issued, setup)
    # the two waits overlapped: one after the other would take 8 s and more
    assert max(issued.values()) - start < 7.5, {md: t - start for md, t in issued.items()}


def test_0305_stop_cuts_a_dns_wait_short(apache, env, challtestsrv, domain):
    """A server stopped while a renewal waits for DNS propagation stops at once,
    not after the wait (nor after the 30 s the child gives running renewals)."""
    line, log = _dns01_cmd(env, challtestsrv, domain)
    apache.add(f"{line}\n<MDomain {domain}>\n  MDCAChallenges dns-01\n"
               f"  MDChallengeDns01Wait 10mi\n</MDomain>")
    apache.add_vhost(domain)
    apache.start()
    wait_until(lambda: any(c["args"][0] == "setup" for c in _calls(log)), 30,
               what="the dns-01 setup")
    time.sleep(0.5)                       # inside the wait now
    start = time.time()
    apache.stop()
    assert time.time() - start < 5
