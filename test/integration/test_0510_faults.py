# SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors.
"""0510: faults of the machine - a full disk, renewal processes killed mid-way.

Whatever happens to the disk or the processes, the server keeps serving the last good
certificate and the store stays consistent; once the fault is gone, renewals complete.
"""
import json
import os
import random
import signal
import subprocess
import time

import pytest

from mdtest import storecheck, tlsclient
from mdtest.procs import wait_until


def _children(apache):
    """Pids of the server's child processes (not the parent)."""
    parent = apache.pid()
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(parent)],
                         capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


@pytest.fixture
def small_disk(env):
    mnt = os.path.join(env.run_dir, f"tmpfs-{os.getpid()}-{random.randint(0, 1 << 30)}")
    os.makedirs(mnt)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,mode=0755", "tmpfs", mnt],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.strip()}")
    yield mnt
    subprocess.run(["umount", "-l", mnt])


def _fill(path):
    """Fill the file system of path up; return the filler's name."""
    filler = os.path.join(path, "filler")
    with open(filler, "wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError:
            pass
        try:
            while True:
                f.write(b"\0")
                f.flush()
        except OSError:
            pass
    return filler


def test_0510_full_disk(apache, domain, small_disk):
    """A full store fails the renewal's writes cleanly: the server restarts and
    serves the old certificate; with space again the renewal completes."""
    apache.store_dir = os.path.join(small_disk, "md")
    apache.add(f"MDomain {domain}\nMDCAChallenges http-01\nMDRetryDelay 1s")
    apache.add_vhost(domain)
    apache.start()
    apache.wait_for_cert(domain)
    apache.graceful()
    serial1 = apache.verify_cert(domain).serial_number

    filler = _fill(small_disk)
    apache.add("MDRenewWindow 3650d")
    apache.expect_log(r"MD4012: ", required=True)
    apache.expect_log(r"MD1009: .*cannot be written", required=False)
    apache.expect_log(r"MD1102: .*renewal failed", required=True)
    apache.graceful()
    apache.wait_for_log(r"MD1102: .*renewal failed", timeout=30)
    assert apache.verify_cert(domain).serial_number == serial1
    assert apache.https_get(domain, verify=True).status == 200

    os.remove(filler)
    wait_until(lambda: os.path.exists(apache.store_path("staging", domain, "md.json")),
               60, what="the renewal once there is space again")
    apache.graceful()
    assert apache.verify_cert(domain).serial_number != serial1


def _kill_at_random(apache, rnd, seconds, until=None, max_kills=60):
    """SIGKILL every child of the server (one of them runs the renewal watchdog and its
    workers) at random moments, for `seconds` or until `until()` holds."""
    kills = 0
    deadline = time.time() + seconds
    while time.time() < deadline and kills < max_kills and not (until and until()):
        time.sleep(rnd.uniform(0.05, 0.5))
        for pid in _children(apache):
            try:
                os.kill(pid, signal.SIGKILL)
                kills += 1
            except ProcessLookupError:
                pass
    return kills


def _check_consistent(apache, names, cert_file, key_file):
    """The store as a whole: owners and modes as documented, every JSON file readable,
    no temporary file left in the served sets, every served key matching its
    certificate."""
    from cryptography.hazmat.primitives import serialization
    from cryptography import x509
    storecheck.assert_store(apache.store_dir, when="after the kills")
    for dirpath, _dirs, files in os.walk(apache.store_dir):
        for f in files:
            path = os.path.join(dirpath, f)
            if f.endswith(".json"):
                with open(path) as fh:
                    json.load(fh)                   # raises on a torn file
            assert not (f.endswith(".tmp") and "/domains/" in path), path
    for name in names:
        with open(apache.store_path("domains", name, cert_file), "rb") as f:
            cert = x509.load_pem_x509_certificate(f.read())
        with open(apache.store_path("domains", name, key_file), "rb") as f:
            key = serialization.load_pem_private_key(f.read(), None)
        assert cert.public_key().public_numbers() == key.public_key().public_numbers(), name


def test_0511_renewals_killed_at_random(apache, env):
    """The processes doing renewals are killed with SIGKILL at random moments during
    50 renewals: 25 MDs get their first certificates, then all 25 are renewed again.
    In the end every MD serves a certificate that verifies (the renewed one), the store
    is consistent and no half-written set is anywhere in domains/."""
    names = [f"k{i}.kill.test" for i in range(25)]
    cert_file, key_file = "pubcert.secp256r1.pem", "privkey.secp256r1.pem"
    apache.add_ec_mds(names, "MDRetryDelay 1s\nMDRenewConcurrency 6")
    # children killed mid-request leave these traces; they are the point of the test
    apache.expect_log(r"AH00052: child pid \d+ exit signal Killed", required=False)
    apache.expect_log(r"MD1102: .*renewal failed", required=False)
    apache.expect_log(r"AH01909|AH00045|AH00046", required=False)
    seed = int(time.time())
    rnd = random.Random(seed)
    t0 = time.time()

    def all_staged():
        return all(os.path.exists(apache.store_path("staging", n, cert_file))
                   and apache._job_finished(n) for n in names)

    # 1. first certificates, under fire
    apache.start()
    kills = _kill_at_random(apache, rnd, 15, until=all_staged)
    for name in names:
        apache.wait_for_cert(name, timeout=120, cert_file=cert_file)
    apache.graceful()
    serials = {n: apache.verify_cert(n).serial_number for n in names}
    # 2. all of them renewed at once (the window longer than the lifetime), under fire
    apache.add("MDRenewWindow 3650d")
    apache.expect_log(r"MD4012: .*MDRenewWindow 3650d is not shorter", required=True)
    apache.graceful()
    kills += _kill_at_random(apache, rnd, 15, until=all_staged)
    wait_until(all_staged, 120, interval=0.25, what="every MD renewed")
    apache.graceful()
    # the window keeps renewals coming: a set the restart found being renewed in place
    # again goes live in the children when that renewal is done (MDActivation live)
    for name in names:
        cert = wait_until(lambda: (lambda c: c if c.serial_number != serials[name] else None)(
            apache.verify_cert(name)), 60, interval=0.25, what=f"{name} renewed and served")
        assert name in tlsclient.cert_dns_names(cert)
    apache.stop()       # the store at rest (the window keeps renewals coming)
    _check_consistent(apache, names, cert_file, key_file)
    tmp = apache.store_path("tmp")
    assert not os.path.isdir(tmp) or all(not os.listdir(os.path.join(tmp, d))
                                         for d in os.listdir(tmp))
    print(f"50 renewals, {kills} processes killed, {time.time() - t0:.1f}s (seed {seed})")


@pytest.mark.parametrize("damaged,keep", [("privkey.pem", 0.5), ("pubcert.pem", 0.5),
                                          ("pubcert.pem", 0.9)])
def test_0512_damaged_served_file(apache, domain, damaged, keep):
    """A served key or certificate damaged on disk (cut off after half of it, or for the
    chain inside its last certificate, the issuer) does not stop the server: the damage
    is logged with its path, the MD gets a new certificate."""
    serial = apache.serve_first_cert(domain)
    path = apache.store_path("domains", domain, damaged)
    with open(path) as f:
        text = f.read()
    with open(path, "w") as f:
        f.write(text[: int(len(text) * keep)])
    apache.expect_log(r"MD6002: .*" + damaged + " is damaged", required=True)
    apache.expect_log(r"AH10085: .*503", required=False)
    apache.restart()
    assert apache.https_get(domain).status == 503          # the fallback, meanwhile
    wait_until(lambda: os.path.exists(apache.store_path("staging", domain, "pubcert.pem"))
               and apache._job_finished(domain), 60, what="the new certificate")
    apache.graceful()
    assert apache.verify_cert(domain).serial_number != serial
