# SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors.
"""0530: memory safety and leaks - the sanitizer harness, valgrind on mdctl, and the
server's memory over many renewals.

  * With MDTEST_ASAN=1 (make asan-integration) Apache loads the ASan+UBSan build of
    the module with the runtime preloaded; every test fails on any sanitizer report
    (mdtest/apache.py). test_0530 checks that this is really in force.
  * test_0531 runs mdctl's main commands (list, show, ari, account-contacts, revoke)
    under valgrind against a real store and Pebble: no definite or indirect leak, no
    invalid access.
  * test_0532 renews again and again: the renewal watchdog's child (50 renewals in
    one process) and the parent (restarting itself after each renewal with
    MDActivationRestart on) do not grow beyond a small tolerance.
"""
import os
import re
import shutil
import subprocess
import time

import pytest

from mdtest.apache import SANITIZE
from mdtest.env import REPO_ROOT
from mdtest.procs import wait_until

VALGRIND = shutil.which("valgrind")
PLAIN_MDCTL = os.path.join(REPO_ROOT, "build", "mdctl")     # valgrind needs it unsanitized


def _rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError(f"no VmRSS for {pid}")


def _maps(pid):
    with open(f"/proc/{pid}/maps") as f:
        return f.read()


def _children(apache):
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(apache.pid())],
                         capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


@pytest.mark.skipif(not SANITIZE, reason="MDTEST_ASAN=1 (make asan-integration) only")
def test_0530_sanitizers_in_force(apache, domain):
    """The server (parent and children) runs with the ASan runtime and the
    sanitized module, and a report in the report directory fails a test."""
    apache.add(f"MDomain {domain}\nMDCAChallenges http-01")
    apache.add_vhost(domain)
    apache.start()
    apache.wait_for_cert(domain)
    for pid in [apache.pid()] + _children(apache):
        maps = _maps(pid)
        assert "libasan.so" in maps and apache.md_module in maps, pid
    assert "__asan_init" in subprocess.run(["nm", "-D", apache.md_module], capture_output=True,
                                           text=True).stdout
    fake = os.path.join(apache.sanitizer_dir, "asan.0")
    with open(fake, "w") as f:
        f.write("==0==ERROR: AddressSanitizer: (a test of the harness)\n")
    assert any("a test of the harness" in r for r in apache.sanitizer_reports())
    os.remove(fake)


def _valgrind(args, log):
    argv = [VALGRIND, "--leak-check=full", "--errors-for-leak-kinds=definite,indirect",
            "--show-leak-kinds=definite,indirect", "--error-exitcode=99",
            f"--log-file={log}", PLAIN_MDCTL, *args]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=180)
    with open(log) as f:
        report = f.read()
    return r.returncode, r.stdout + r.stderr, report


@pytest.mark.skipif(SANITIZE, reason="checks the plain build; nothing to do with MDTEST_ASAN")
@pytest.mark.skipif(not VALGRIND, reason="valgrind is not installed")
@pytest.mark.skipif(not os.path.exists(PLAIN_MDCTL), reason="build/mdctl not built")
def test_0531_mdctl_valgrind(apache, pebble, env, domain):
    """mdctl's main commands, on a store with an account, a certificate and a
    renewal job, against Pebble where they talk ACME: valgrind finds no leak
    (definite or indirect) and no invalid memory access."""
    apache.add(f"MDomain {domain}\nMDCAChallenges http-01")
    apache.add_vhost(domain)
    apache.start()
    apache.wait_for_cert(domain)
    apache.graceful()
    store = apache.store_dir
    commands = [
        ("list", ["list"], 0),
        ("show", ["show", domain], 0),
        ("ari", ["ari", "-c", pebble.ca_file, domain], None),    # Pebble has no ARI
        ("contacts", ["account-contacts", "-c", pebble.ca_file, domain,
                      "mailto:valgrind@example.org"], 0),
        ("revoke", ["revoke", "-c", pebble.ca_file, domain], 0),
        ("unknown-md", ["show", "nosuch.test"], None),
    ]
    summary = []
    for name, args, want_rc in commands:
        log = os.path.join(env.run_dir, f"valgrind-{domain}-{name}.log")
        rc, out, report = _valgrind(["-d", store, *args], log)
        lost = re.findall(r"(definitely|indirectly) lost: ([\d,]+) bytes", report)
        errors = re.search(r"ERROR SUMMARY: (\d+) errors", report)
        summary.append(f"{name}: rc={rc} {lost or 'no leaks'} "
                       f"errors={errors.group(1) if errors else '?'}")
        assert rc != 99, f"mdctl {' '.join(args)}: valgrind found errors:\n{report[-6000:]}"
        assert errors and errors.group(1) == "0", report[-6000:]
        assert all(n == "0" for _, n in lost), report[-6000:]
        if want_rc is not None:
            assert rc == want_rc, f"mdctl {' '.join(args)} exited {rc}: {out}"
    print("\n".join(summary))


def _renewal_pid(apache, domain):
    """The pid of the process whose workers renewed `domain` last (the watchdog's)."""
    lines = apache.log_lines(rf"MD1101: {re.escape(domain)}:")
    m = re.search(r"\[pid (\d+):tid", lines[-1])
    return int(m.group(1))


def _staged(apache, names):
    return all(os.path.exists(apache.store_path("staging", n, "pubcert.secp256r1.pem"))
               and apache._job_finished(n) for n in names)


@pytest.mark.skipif(SANITIZE, reason="ASan's quarantine and shadow memory swamp the RSS")
def test_0532_memory_over_many_renewals(apache, env):
    """The renewal watchdog's process renews 5 MDs 10 times over (50 renewals in
    one process: its staging is removed and a renewal requested each round), and
    its resident memory levels off; then the parent restarts itself after each of
    6 renewal rounds (MDActivationRestart on) and its memory levels off too."""
    names = [f"r{i}.mem.test" for i in range(5)]
    apache.add_ec_mds(names, "MDRenewConcurrency 5")
    apache.start()
    wait_until(lambda: _staged(apache, names), 60, interval=0.2, what="first certificates")
    pid = _renewal_pid(apache, names[0])
    requests = apache.store_path("staging", ".renew-requests")
    child = []
    for _ in range(10):
        for n in names:
            with apache.md_locked(n):          # a renewal may still save its job
                shutil.rmtree(apache.store_path("staging", n))
        with open(requests, "a") as f:
            f.write("".join(f"{n}\n" for n in names))
        wait_until(lambda: _staged(apache, names), 60, interval=0.2, what="a renewal round")
        assert _renewal_pid(apache, names[0]) == pid          # the same process
        child.append(_rss_kb(pid))
    # the first rounds warm up (thread stacks, malloc arenas of the worker threads,
    # OpenSSL and curl state); the last 20 renewals may add at most 1.5 MiB, i.e. a
    # leak of more than ~75 KiB per renewal is caught (measured: a few hundred KiB of
    # noise, falling as well as rising)
    child_growth = max(child[6:]) - child[5]
    print(f"watchdog child RSS (KiB) after each round of 5 renewals: {child}")
    assert child_growth < 1536, child

    # the parent: activation, sync and certificate loading at every restart
    apache.add("MDRenewWindow 3650d\nMDActivationRestart on")
    apache.expect_log(r"MD4012: .*MDRenewWindow 3650d is not shorter", required=True)
    apache.graceful()
    parent = apache.pid()
    gens, parent_rss = [], []
    for _ in range(6):
        gen = apache.config_generation()
        wait_until(lambda: (apache.config_generation() or 0) > gen, 60, interval=0.5,
                   what="the server restarting itself after a renewal")
        gens.append(apache.config_generation())
        time.sleep(0.5)
        parent_rss.append(_rss_kb(parent))
    print(f"parent RSS (KiB) after each self-restart {gens}: {parent_rss}")
    assert apache.pid() == parent
    assert parent_rss[-1] - parent_rss[1] < 1024, parent_rss
