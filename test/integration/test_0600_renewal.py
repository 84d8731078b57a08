# SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors.
"""0600: renewal - when a certificate is renewed, the operator's programs, activation.

Real Apache, real Pebble with validation on. The renewal watchdog of the module does
the work; these tests look at what an administrator sees: the served certificate, the
store, the error log and what their MDMessageCmd/MDNotifyCmd programs were told.
"""
import json
import os
import stat
import time

import pytest

from mdtest import tlsclient
from mdtest.procs import wait_until


def _serial(apache, domain):
    return apache.verify_cert(domain).serial_number


def _first_cert(apache, domain, extra=""):
    apache.add(f"MDomain {domain}\nMDCAChallenges http-01\n{extra}")
    apache.add_vhost(domain)
    apache.start()
    apache.wait_for_cert(domain)
    apache.graceful()
    return _serial(apache, domain)


def _wait_staged(apache, domain, timeout=60):
    """A (new) certificate in staging/ with a finished job."""
    def staged():
        try:
            with open(apache.store_path("staging", domain, "job.json")) as f:
                job = json.load(f)
            return job.get("finished") and os.path.exists(
                apache.store_path("staging", domain, "pubcert.pem"))
        except (OSError, ValueError):
            return False
    wait_until(staged, timeout, interval=0.25, what=f"staged renewal of {domain}")


def _program(env, name, body):
    """An executable script in the run directory, and the file it reports to
    (writable by the unprivileged children and by root alike)."""
    out = os.path.join(env.run_dir, f"{name}.out")
    open(out, "w").close()
    os.chmod(out, 0o666)
    path = os.path.join(env.run_dir, f"{name}.sh")
    with open(path, "w") as f:
        f.write("#!/bin/sh\n" + body.replace("OUT", out))
    os.chmod(path, 0o755)
    return path, out


def _lines(path):
    with open(path) as f:
        return [line.rstrip("\n") for line in f if line.strip()]


def test_0600_renew_when_window_opens(apache, domain):
    """A served certificate whose renew window is open is renewed and, after a
    graceful restart, replaced; the old set goes to the archive."""
    serial1 = _first_cert(apache, domain)
    # an absolute window longer than the lifetime makes the renewal due at once
    apache.add("MDRenewWindow 3650d")
    apache.expect_log(r"MD4012: .*MDRenewWindow 3650d is not shorter", required=True)
    apache.graceful()
    _wait_staged(apache, domain)
    apache.graceful()
    serial2 = _serial(apache, domain)
    assert serial2 != serial1
    assert os.path.isdir(apache.store_path("archive", f"{domain}.1"))


def test_0601_events_reach_programs(apache, env, domain):
    """MDMessageCmd hears renewing, challenge-setup, renewed and (as root, at
    activation) installed; MDNotifyCmd runs after the renewal; both see MD_*
    variables and nothing of the server's own environment."""
    msg, msg_out = _program(env, "message",
                            'echo "$1 $2 uid=$(id -u) name=$MD_NAME domains=$MD_DOMAINS '
                            'home=${HOME:-unset}" >> OUT\n')
    notify, notify_out = _program(env, "notify", 'echo "notified $1" >> OUT\n')
    apache.add(f"MDMessageCmd {msg}\nMDNotifyCmd {notify}")
    _first_cert(apache, domain)
    lines = _lines(msg_out)
    reasons = [line.split()[0] for line in lines]
    assert reasons[:3] == ["renewing", f"challenge-setup:http-01:{domain}", "renewed"], lines
    assert "installed" in reasons, lines
    for line in lines:
        assert f" {domain} " in line and f"name={domain}" in line and "home=unset" in line, line
    installed = [line for line in lines if line.startswith("installed")][0]
    assert "uid=0" in installed                     # activation runs in the parent, as root
    renewing = [line for line in lines if line.startswith("renewing")][0]
    assert "uid=0" not in renewing                  # renewals run unprivileged
    assert _lines(notify_out) == [f"notified {domain}"]


def _tcp_remote_ports():
    """socket inode -> remote port, for the TCP sockets of this machine."""
    ports = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                ports[fields[9]] = int(fields[2].rsplit(":", 1)[1], 16)
    return ports


def test_0606_programs_inherit_no_ca_connection(apache, env, pebble, domain):
    """A program the module runs while a renewal talks to the CA (the connection
    is kept open for the next renewal) does not inherit that connection."""
    msg, msg_out = _program(env, "fds",
                            'case "$1" in challenge-setup*) for f in /proc/$$/fd/*; do '
                            'readlink "$f"; done >> OUT;; esac\nexit 0\n')
    apache.add(f"MDMessageCmd {msg}")
    apache.add(f"MDomain {domain}\nMDCAChallenges http-01")
    apache.add_vhost(domain)
    apache.start()
    apache.wait_for_cert(domain)
    inodes = [line[len("socket:["):-1] for line in _lines(msg_out) if line.startswith("socket:")]
    assert _lines(msg_out), "the program did not run"
    remote = _tcp_remote_ports()
    assert not [i for i in inodes if remote.get(i) == pebble.port], _lines(msg_out)


def test_0602_renewing_veto(apache, env, domain):
    """A non-zero exit of MDMessageCmd for 'renewing' stops the renewal: no order,
    an error in the job and the log, and a retry later."""
    msg, msg_out = _program(env, "veto",
                            'echo "$1" >> OUT\n[ "$1" = renewing ] && exit 1\nexit 0\n')
    apache.add(f"MDMessageCmd {msg}\nMDRetryDelay 1s")
    apache.add(f"MDomain {domain}\nMDCAChallenges http-01")
    apache.add_vhost(domain)
    apache.expect_log(r"MD1102: .*renewal failed.*exited with 1", required=True)
    apache.start()
    wait_until(lambda: _lines(msg_out).count("renewing") >= 2, 30, what="a retried veto")
    assert not os.path.exists(apache.store_path("staging", domain, "pubcert.pem"))
    with open(apache.store_path("staging", domain, "job.json")) as f:
        job = json.load(f)
    assert job["errors"] >= 1
    assert job["log"]["entries"][0]["type"] in ("renewal-error", "message-errored", "starting")
    assert "challenge-setup" not in " ".join(_lines(msg_out))


def test_0603_hanging_program_is_killed(apache, env, domain):
    """A program that hangs is killed at MDProgramTimeout, and the renewal it
    held up fails with a message that says so."""
    msg, msg_out = _program(env, "hang", '[ "$1" = renewing ] && exec sleep 120\nexit 0\n')
    apache.add(f"MDMessageCmd {msg}\nMDProgramTimeout 2s\nMDRetryDelay 1h")
    apache.add(f"MDomain {domain}\nMDCAChallenges http-01")
    apache.add_vhost(domain)
    apache.expect_log(r"MD1102: .*killed after 2s", required=True)
    start = time.time()
    apache.start()
    apache.wait_for_log(r"MD1102: .*killed after 2s", timeout=30)
    assert time.time() - start < 15


def test_0604_activation_restart(apache, domain):
    """With MDActivationRestart on, the server restarts by itself once the
    certificate is staged: the new certificate is served with no operator action."""
    apache.add("MDActivationRestart on")
    apache.add(f"MDomain {domain}\nMDCAChallenges http-01")
    content = apache.add_vhost(domain)
    apache.start()

    def issued():
        try:
            apache.verify_cert(domain)
            return True
        except Exception:
            return False
    wait_until(issued, 60, interval=0.5, what="the issued certificate served without a restart by hand")
    r = apache.https_get(domain, verify=True)
    assert r.status == 200 and r.text == content
    # served live at once (MDActivation live); the restart still comes once the renewals
    # are quiet for 5 s, and activates the set in the store
    apache.wait_for_log(r"MD1108: renewed certificates are ready", timeout=30)
    wait_until(lambda: os.path.exists(apache.store_path("domains", domain, "pubcert.pem")), 30,
               interval=0.5, what="the set activated by the restart")
    assert apache.verify_cert(domain)


def test_0605_many_mds_side_by_side(acmeproxy_factory, apache_factory):
    """Twenty MDs get their certificates in one go, renewals side by side: the CA (our
    proxy) holds every finalize request 2 s, and at least 5 of them are held at the same
    time (MDRenewConcurrency 10); one after the other would be one at a time."""
    hold = 2.0
    proxy = acmeproxy_factory()
    proxy.add_fault(r"^/finalize-order/", "delay", method="POST", count=None, delay=hold)
    apache = apache_factory(ca=proxy)
    names = [f"m{i:02d}.many.test" for i in range(20)]
    apache.add_ec_mds(names, "MDRenewConcurrency 10")
    start = time.time()
    apache.start()
    for name in names:
        apache.wait_for_cert(name, timeout=120, cert_file="pubcert.secp256r1.pem")
    elapsed = time.time() - start
    arrivals = sorted(e["time"] for e in proxy.requests_to(r"^/finalize-order/", "POST"))
    assert len(arrivals) >= 20, arrivals
    # requests that came in less than `hold` apart were held by the proxy together
    together = max(sum(1 for t in arrivals if t0 <= t < t0 + hold) for t0 in arrivals)
    assert together >= 5, f"at most {together} finalize requests in flight at once"
    apache.graceful()
    for name in names:
        assert name in tlsclient.cert_dns_names(apache.verify_cert(name))
    print(f"20 MDs issued in {elapsed:.1f}s, up to {together} finalizations at once")
