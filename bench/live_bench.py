#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors.
"""Live activation benchmark: what MDActivation live costs in handshakes, and how long a
staged set takes to be served by every child.

One run starts pebble-challtestsrv and one Pebble (PEBBLE_VA_ALWAYS_VALID=1,
PEBBLE_VA_NOSLEEP=1: each server gets its certificates on its own ports), then:

1. Handshakes.  Three servers run at the same time, each a fresh Apache on its
   own loopback ports with one MD (EC P-256, `MDPrivateKeys secp256r1`), one SSL
   vhost and three children (`StartServers 3`):

     live     ours, `MDActivation live`, after a renewed set went live in every
              child (md-status says "live": {"all": true}): the certificate
              callback hands the pack to every handshake
     restart  ours, `MDActivation restart`, the same history (a renewal staged,
              not served): the callback is there and does nothing
     today    Debian's mod_md.so, its certificate from the same Pebble, active
              after a graceful restart: no callback at all

   `MDRenewWindow 3650d` makes the renewal due at once, `MDInitialDelay` lets it
   start after the server is up, `MDCheckInterval 1h` keeps the watchdog quiet
   afterwards (after a staged renewal it looks again after the interval, +-50 %
   jitter: not within 30 min).  A graceful restart would end "live", so the
   renewal is the last thing the server does before it is measured.

   Load: --clients worker processes (this script with --worker), each a loop
   of full handshakes (a new connection, SNI, no session resumption, no
   verification, closed after the handshake) for --seconds, all in the same
   window.  Per round and TLS version the variants are measured one after the
   other, the order rotated each round (A B C, B C A, ...).  Reported: the median
   of the rounds of handshakes/s (all clients together), the server's CPU time
   per handshake (parent and children, /proc/<pid>/stat), live / restart of the
   medians, and the median (and range) of live / restart within each round.
   With --together every variant gets its clients in the same window instead:
   the servers share the cores and whatever else the machine runs at that moment,
   so their CPU per handshake compares with less noise from the load drifting.

2. Staged to served.  One more server (ours, live, `StartServers 3`) gets its MD's
   first certificate, then renews it again and again, each time asked by `mdctl renew`
   once every child serves the last set (a set served live is renewed in place when
   asked); for each of --renewals renewals the time from its `MD1101` line (staged) to the
   `MD1504` line of the first and of the last child for that serial.  A serial's
   MD1101 is the last one logged before its first MD1504 (+ 0.2 s: a renewal marks
   the set for the children before it logs MD1101, so a child may log first).

Needs root (Apache's children run as www-data) and build/mod_md.so (`make`).

Example (quick):  /usr/bin/python3 bench/live_bench.py --rounds 1 --seconds 3 --renewals 3
"""
import argparse
import datetime
import json
import os
import re
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import time

from benchlib import (MODULE_PATHS, BenchApache, Tee, fmt, machine_facts, parse_list,
                      finish_env, stop_quietly, table, tree_cpu)
from mdtest import tlsclient
from mdtest.env import MDCTL, MdTestEnv
from mdtest.ports import free_ports
from mdtest.procs import wait_until

NAME = "live.bench.test"
CERT_FILE = "pubcert.secp256r1.pem"
VARIANTS = ("live", "restart", "today")
VERSIONS = {"1.3": ssl.TLSVersion.TLSv1_3, "1.2": ssl.TLSVersion.TLSv1_2}
# mpm_event: three children of 10 threads that the MPM keeps: no child ends or starts
# under a load of a few connections (MinSpareThreads below 30 - clients)
CHILDREN = """
StartServers 3
MinSpareThreads 10
MaxSpareThreads 40
"""
# warn lines a variant causes on purpose
ALLOWED = [r"MD4012: .*MDRenewWindow 3650d is not shorter",
           r"AH10085: Init: \S+ will respond with '503 Service Unavailable' for now"]
LOG_TIME_RE = re.compile(r"^\[(\w{3} \w{3} \d{2} \d{2}:\d{2}:\d{2}\.\d{6} \d{4})\]")
MD1101_RE = re.compile(r"MD1101: " + re.escape(NAME) + r": ")
MD1504_RE = re.compile(r"MD1504: " + re.escape(NAME) + r": .*\(serial ([0-9A-Fa-f]+)\).*\(pid (\d+)\)")


# -- the load: one worker process --------------------------------------------------------

def worker(port, name, version, start_at, end_at):
    """Full handshakes in a loop from start_at to end_at (time.monotonic, the same clock in
    every process); prints {"n", "failed", "secs"} as JSON."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ctx.maximum_version = VERSIONS[version]
    n = failed = 0
    while time.monotonic() < start_at:
        time.sleep(0.001)
    t0 = time.monotonic()
    while True:
        now = time.monotonic()
        if now >= end_at:
            break
        raw = socket.create_connection(("127.0.0.1", port), timeout=10)
        try:
            with ctx.wrap_socket(raw, server_hostname=name):
                n += 1
        except (OSError, ssl.SSLError):
            failed += 1
        finally:
            raw.close()
    print(json.dumps({"n": n, "failed": failed, "secs": time.monotonic() - t0}))
    return 0


def load(targets, version, clients, seconds):
    """clients x a handshake loop of `seconds` against each server of targets [(apache,
    parent pid)], all in the same window; returns per server (handshakes/s, server CPU
    microseconds per handshake, failed handshakes)."""
    start_at = time.monotonic() + 1.0   # the workers' interpreters are up by then
    end_at = start_at + seconds
    procs = []
    for a, _ in targets:
        argv = [sys.executable, os.path.abspath(__file__), "--worker", str(a.https_port), NAME, version,
                repr(start_at), repr(end_at)]
        procs.append([subprocess.Popen(argv, stdout=subprocess.PIPE, text=True) for _ in range(clients)])
    while time.monotonic() < start_at:
        time.sleep(0.001)
    cpu0 = [tree_cpu(pid) for _, pid in targets]
    while time.monotonic() < end_at:
        time.sleep(0.01)
    cpu1 = [tree_cpu(pid) for _, pid in targets]
    results = []
    for k, ps in enumerate(procs):
        n = failed = 0
        for p in ps:
            out, _ = p.communicate(timeout=seconds + 60)
            r = json.loads(out.strip().splitlines()[-1])
            n += r["n"]
            failed += r["failed"]
        ok = n and cpu0[k] is not None and cpu1[k] is not None
        results.append((n / seconds, (cpu1[k] - cpu0[k]) / n * 1e6 if ok else None, failed))
    return results


# -- the servers -------------------------------------------------------------------------

def new_server(env, name, module):
    http, https, ctrl = free_ports(3)
    a = BenchApache(env, name, http_port=http, https_port=https, ctrl_port=ctrl)
    a.md_module = MODULE_PATHS[module]
    # MD1101/MD1504 are notice lines; mod_ssl stays at warn (nothing per handshake)
    a.log_level = "warn md:notice" if module == "ours" else "warn"
    a.add(CHILDREN)
    a.add(f"MDPrivateKeys secp256r1\nMDomain {NAME}")
    a.add_vhost(NAME)
    return a


def log_time(line):
    m = LOG_TIME_RE.match(line)
    return datetime.datetime.strptime(m.group(1), "%a %b %d %H:%M:%S.%f %Y").timestamp() if m else None


def children(pid):
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return sorted(int(x) for x in out.split())


def staged_serial(a):
    with open(a.store_path("staging", NAME, CERT_FILE), "rb") as f:
        return tlsclient.load_pem_certs(f.read())[0].serial_number


def domains_serial(a):
    with open(a.store_path("domains", NAME, CERT_FILE), "rb") as f:
        return tlsclient.load_pem_certs(f.read())[0].serial_number


def served_serial(a):
    return a.get_cert(NAME).serial_number


def unexpected_log_lines(a):
    allow = [re.compile(p) for p in ALLOWED]
    return [line for line in a.bad_log_lines() if not any(r.search(line) for r in allow)]


def setup_ours(env, mode, timeout, say):
    """Ours with a renewed set staged after the last restart: live (served by every child)
    or restart (waiting). Returns (apache, parent pid, serial it serves)."""
    a = new_server(env, f"live-{mode}", "ours")
    a.add(f"MDActivation {mode}\nMDRenewWindow 3650d\nMDInitialDelay 2s\nMDCheckInterval 1h")
    a.add_status_vhost()
    t = time.monotonic()
    a.start()
    a.wait_for_cert(NAME, timeout=timeout, cert_file=CERT_FILE)
    a.graceful()               # the first certificate into domains/
    first = domains_serial(a)
    gen_at = time.time()
    # the renewal, MDInitialDelay after the restart, staged and (live) served by every child
    wait_until(lambda: a.staging_job(NAME).get("finished") and staged_serial(a) != first,
               timeout, interval=0.2, what=f"{a.name}: the renewal staged")
    renewed = staged_serial(a)
    if mode == "live":
        def all_live():
            live = a.md_status(NAME).get("live") or {}
            return live.get("all") and int(live.get("serial", "0"), 16) == renewed and live
        live = wait_until(all_live, timeout, interval=0.2, what=f"{a.name}: every child serves it")
        took = [line for line in a.log_lines(r"MD1504: ") if log_time(line) and log_time(line) >= gen_at - 1]
        say(f"  -- live: first certificate {first:X}, renewed {renewed:X} served by every child "
            f"(md-status: all={live['all']}, {len(live['children'])} children; {len(took)} MD1504 "
            f"lines since the restart), setup {time.monotonic() - t:.1f} s")
        want = renewed
    else:
        say(f"  -- restart: first certificate {first:X} served, renewed {renewed:X} staged and waiting, "
            f"setup {time.monotonic() - t:.1f} s")
        want = first
    return a, a.pid(), want


def setup_today(env, timeout, say):
    a = new_server(env, "live-today", "today")
    t = time.monotonic()
    a.start()
    a.wait_for_cert(NAME, timeout=timeout, cert_file=CERT_FILE)
    a.graceful()
    serial = domains_serial(a)
    say(f"  -- today: certificate {serial:X} served after a graceful restart, setup "
        f"{time.monotonic() - t:.1f} s")
    return a, a.pid(), serial


def check_serving(servers, say):
    """Each server still serves the certificate it should, with its children of the start,
    and its renewal stayed quiet (no MD1101 after the setup)."""
    ok = True
    for v, s in servers.items():
        got = served_serial(s["a"])
        kids = children(s["pid"])
        renewals = len(s["a"].log_lines(r"MD1101: "))
        problems = []
        if got != s["serial"]:
            problems.append(f"serves {got:X}, not {s['serial']:X}")
        if kids != s["kids"]:
            problems.append(f"children changed: {s['kids']} -> {kids}")
        if renewals != s["renewals"]:
            problems.append(f"renewed meanwhile ({s['renewals']} -> {renewals} MD1101 lines)")
        if problems:
            ok = False
            say(f"     CHECK FAILED: {v}: {'; '.join(problems)}")
    return ok


def handshakes(env, variants, versions, rounds, clients, seconds, timeout, together, say):
    servers = {}
    results = {(v, ver): [] for v in variants for ver in versions}
    try:
        for v in variants:
            if v == "today":
                a, pid, serial = setup_today(env, timeout, say)
            else:
                a, pid, serial = setup_ours(env, v, timeout, say)
            servers[v] = {"a": a, "pid": pid, "serial": serial, "kids": children(pid),
                          "renewals": len(a.log_lines(r"MD1101: "))}
        time.sleep(2)   # the children settle (the live watchdog's first look, status files)
        for v in variants:
            servers[v]["kids"] = children(servers[v]["pid"])
        check_serving(servers, say)
        say(f"  measuring: {rounds} rounds x {len(versions)} TLS versions x {len(variants)} variants, "
            f"{clients} clients x {seconds:g} s each" + (", all variants at once" if together else ""))
        for r in range(rounds):
            for ver in versions:
                order = variants[r % len(variants):] + variants[:r % len(variants)]
                if together:   # one window, every server loaded at once
                    got = dict(zip(order, load([(servers[v]["a"], servers[v]["pid"]) for v in order],
                                               ver, clients, seconds)))
                else:          # one server after the other
                    got = {v: load([(servers[v]["a"], servers[v]["pid"])], ver, clients, seconds)[0]
                           for v in order}
                line = []
                for v in order:
                    rate, cpu_us, failed = got[v]
                    results[(v, ver)].append(got[v])
                    line.append(f"{v} {rate:.0f}/s {fmt(cpu_us, 0)} us" + (f" ({failed} failed)" if failed else ""))
                say(f"     round {r + 1} TLS {ver}: " + ", ".join(line))
        servers["_ok"] = check_serving({k: x for k, x in servers.items() if k in variants}, say)
    finally:
        for v, s in servers.items():
            if v in variants:
                bad = unexpected_log_lines(s["a"])
                for line in bad[:5]:
                    say(f"     log ({v}): {line[:300]}")
                s["bad"] = len(bad)
                stop_quietly(s["a"])
    return results, servers


# -- staged to served --------------------------------------------------------------------

def staged_to_served(env, renewals, timeout, say):
    a = new_server(env, "live-turnover", "ours")
    a.add("MDActivation live")
    a.add_status_vhost()
    rows = []
    try:
        a.start()
        pid = a.pid()
        nkids = len(children(pid))

        def served_everywhere():
            # how many serials every child took
            took = {}
            for line in a.log_lines(MD1504_RE.pattern):
                m = MD1504_RE.search(line)
                took.setdefault(m.group(1), set()).add(m.group(2))
            return sum(len(x) >= nkids for x in took.values())
        # the first certificate, then `renewals` renewals asked for one after the other
        for k in range(renewals + 1):
            if k:
                subprocess.run([MDCTL, "-d", a.store_dir, "renew", NAME], check=True,
                               capture_output=True, timeout=60)
            wait_until(lambda: served_everywhere() > k, timeout, interval=0.2,
                       what=f"set {k} served by every child")
        kids = children(pid)
    finally:
        stop_quietly(a)
    staged = [log_time(line) for line in a.log_lines(MD1101_RE.pattern)]
    took = {}
    order = []
    for line in a.log_lines(MD1504_RE.pattern):
        m = MD1504_RE.search(line)
        if m.group(1) not in took:
            order.append(m.group(1))
        took.setdefault(m.group(1), []).append((log_time(line), int(m.group(2))))
    say(f"  -- turnover: {len(staged)} MD1101 lines, {len(order)} serials taken, children at the end {kids}")
    # each serial's MD1101: the last one logged before its first MD1504 (+ 0.2 s: the
    # renewal marks the set for the children, then saves its job and logs; renewals are
    # more than a second apart). The first serial is the MD's first certificate: left out.
    used = set()
    for k, serial in enumerate(order):
        times = [t for t, _ in took[serial]]
        before = [i for i, t in enumerate(staged) if t <= min(times) + 0.2 and i not in used]
        if k == 0 or not before:
            used.update(before)
            continue
        i = max(before)
        used.update(before)
        pids = {p for _, p in took[serial]}
        rows.append({"k": len(rows) + 1, "serial": serial, "staged": staged[i],
                     "first": min(times) - staged[i], "last": max(times) - staged[i],
                     "children": len(pids), "gap": staged[i] - staged[i - 1] if i else None})
    rows = rows[:renewals]
    bad = unexpected_log_lines(a)
    for line in bad[:5]:
        say(f"     log (turnover): {line[:300]}")
    if not os.environ.get("BENCH_KEEP"):
        shutil.rmtree(a.server_root, ignore_errors=True)
    return rows, len(kids), len(bad)


# -- report ------------------------------------------------------------------------------

def med(values):
    values = [x for x in values if x is not None]
    return statistics.median(values) if values else None


def paired(results, v, ver, i):
    """Median and range over the rounds of variant / restart in the same round (measured
    seconds apart): drifts of the machine's load cancel out."""
    ratios = [a[i] / b[i] for a, b in zip(results[(v, ver)], results.get(("restart", ver), []))
              if a[i] and b[i]]
    if not ratios:
        return "-"
    return f"{statistics.median(ratios):.3f} ({min(ratios):.2f}-{max(ratios):.2f})"


def report_handshakes(results, variants, versions, say):
    rows = []
    for ver in versions:
        base = med([x[0] for x in results.get(("restart", ver), [])])
        base_cpu = med([x[1] for x in results.get(("restart", ver), [])])
        for v in variants:
            rs = results[(v, ver)]
            rate, cpu = med([x[0] for x in rs]), med([x[1] for x in rs])
            rows.append([f"TLS {ver}", v, len(rs), fmt(rate, 0),
                         f"{min(x[0] for x in rs):.0f}-{max(x[0] for x in rs):.0f}" if rs else "-",
                         fmt(cpu, 0), sum(x[2] for x in rs),
                         f"{rate / base:.3f}" if base and rate and v != "restart" else "",
                         paired(results, v, ver, 0) if base and v != "restart" else "",
                         f"{cpu / base_cpu:.3f}" if base_cpu and cpu and v != "restart" else "",
                         paired(results, v, ver, 1) if base_cpu and v != "restart" else ""])
    say(table(["TLS", "variant", "rounds", "hs/s median", "hs/s min-max", "srv CPU us/hs",
               "failed", "hs/s / restart", "paired (range)", "CPU / restart", "paired (range)"], rows))


def report_turnover(rows, nkids, say):
    if not rows:
        say("no renewal measured")
        return
    say(table(["renewal", "serial", "since previous s", "first child s", "last child s", "children"],
              [[r["k"], r["serial"], fmt(r["gap"], 2), fmt(r["first"], 3), fmt(r["last"], 3),
                f"{r['children']}/{nkids}"] for r in rows]))
    last = [r["last"] for r in rows]
    say(f"MD1101 (staged) -> MD1504 of the last child, {len(rows)} renewals: min {min(last):.3f} s, "
        f"median {statistics.median(last):.3f} s, max {max(last):.3f} s (target < 2 s)")


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        port, name, version, start_at, end_at = sys.argv[2:7]
        return worker(int(port), name, version, float(start_at), float(end_at))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--variants", default="live,restart,today", help="live,restart,today (default all)")
    ap.add_argument("--tls", default="1.3,1.2", help="TLS versions (default 1.3,1.2)")
    ap.add_argument("--rounds", type=int, default=5, help="rounds of measurements (default 5)")
    ap.add_argument("--clients", type=int, default=3, help="client processes (default 3)")
    ap.add_argument("--seconds", type=float, default=10, help="seconds per measurement (default 10)")
    ap.add_argument("--together", action="store_true",
                    help="load every variant at the same time (clients each), not one after the other")
    ap.add_argument("--renewals", type=int, default=10, help="renewals timed in part 2 (0: no part 2)")
    ap.add_argument("--timeout", type=float, default=120, help="seconds for a certificate (default 120)")
    ap.add_argument("--output", help="also write the output to this file")
    args = ap.parse_args()
    variants = parse_list(args.variants, VARIANTS)
    versions = parse_list(args.tls, VERSIONS)
    if os.geteuid() != 0:
        raise SystemExit("run as root (Apache's children run as www-data)")
    say = Tee(args.output)
    say("live_bench: TLS handshakes with MDActivation live / restart / today's module, "
        "and staged -> served by every child")
    for line in machine_facts():
        say(line)
    env = MdTestEnv(md_module=MODULE_PATHS["ours"], log_level="warn")
    env.pebble.env.update({"PEBBLE_VA_ALWAYS_VALID": "1", "PEBBLE_VA_NOSLEEP": "1"})
    env.pebble.default_env = dict(env.pebble.env)
    say(f"pebble env:  {env.pebble.env}")
    say(f"client:      python3 ssl ({ssl.OPENSSL_VERSION}), no verification, SNI {NAME}, "
        "a new connection per handshake")
    say("")
    results, servers, rows, nkids, turnover_bad = {}, {}, [], 0, 0
    env.start()
    try:
        if args.rounds:
            say("1. Handshakes per second, EC P-256, three children per server")
            results, servers = handshakes(env, variants, versions, args.rounds, args.clients,
                                          args.seconds, args.timeout, args.together, say)
        if args.renewals:
            say("")
            say("2. Staged (MD1101) to served by every child (MD1504), renewals asked for with "
                "mdctl renew, three children")
            rows, nkids, turnover_bad = staged_to_served(env, args.renewals, args.timeout, say)
    finally:
        finish_env(env, say)
    say("")
    if results:
        say(f"Results ({os.cpu_count()} cores, {args.clients} clients x {args.seconds:g} s"
            f"{' per variant, all variants at once' if args.together else ''}, median of {args.rounds} "
            "rounds; srv CPU: parent + children per handshake):")
        report_handshakes(results, variants, versions, say)
        say("")
    if args.renewals:
        say("Staged to served (seconds after the MD1101 line; a child may log before it):")
        report_turnover(rows, nkids, say)
    say.close()
    ok = (not results or servers.get("_ok")) and (not args.renewals or len(rows) >= args.renewals)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
