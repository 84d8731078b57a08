#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors.
"""Issuing benchmark: N new MDs, from server start until all are issued.

One run starts pebble-challtestsrv and one Pebble (PEBBLE_VA_ALWAYS_VALID=1,
PEBBLE_VA_NOSLEEP=1, other settings at Pebble's defaults) and then, for each
N and key type, starts a fresh Apache (empty store) with N MDs
m<i>.bench.test, one SSL vhost each, first with our module and then with
today's (Debian's) mod_md.so, and measures:

  start      `apache2 -k start` until the server answers (parent alive,
             server-status on the control port, http/https ports accept)
  issued     `apache2 -k start` until every MD has a certificate: a
             staging/<md>/pubcert*.pem with staging/<md>/job.json saying
             "finished": true (or domains/<md>/pubcert*.pem)
  issuing    issued - start
  srv CPU    CPU seconds (user+system) of the Apache parent and children
             from /proc/<pid>/stat during the issuing phase
  kg/cores   key-generation CPU: N x the CPU time one key of that type
             takes on this machine (measured in this process with OpenSSL
             3 through python3-cryptography, same libcrypto as Apache),
             divided by the number of cores: the least time any module needs
             to make one new key per MD
  iss/kg     issuing / (kg/cores); target <= 1.5
  o/t        ours / today's, for "issued" and for "start"
  ssl start  the floor under "start": the same N SSL vhosts with mod_ssl
             alone (no mod_md), all naming one self-signed EC P-256
             certificate and key, what any fallback costs mod_ssl at least

Our module runs with the default MDRenewConcurrency (8) and, for N >= 100,
also with --high-concurrency (default 32).  Needs root (Apache's children run
as www-data) and build/mod_md.so (`make`).

Example (quick):  /usr/bin/python3 bench/issue_bench.py --sizes 10 --keys ec
"""
import argparse
import os
import shutil
import sys
import time

from benchlib import (MODULE_PATHS, issued, BenchApache, Tee, fmt, machine_facts, parse_list,
                      proc_cpu, finish_env, stop_quietly, table, tree_cpu)
from mdtest.apache import DEFAULT_LOG_ALLOWLIST
from mdtest.env import MdTestEnv
import re

from cryptography.hazmat.primitives import serialization
import mkstore

KEYS = {"rsa": ("RSA 2048", None, "pubcert.pem"),
        "ec": ("EC P-256", "secp256r1", "pubcert.secp256r1.pem")}


def keygen_cpu_per_key(kind, samples):
    """CPU seconds for one private key of `kind`, averaged over `samples`."""
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    t = time.process_time()
    for _ in range(samples):
        if kind == "rsa":
            rsa.generate_private_key(public_exponent=65537, key_size=2048)
        else:
            ec.generate_private_key(ec.SECP256R1())
    return (time.process_time() - t) / samples


def md_names(n):
    return [f"m{i}.bench.test" for i in range(n)]


def configure(apache, n, kind, concurrency):
    curve = KEYS[kind][1]
    lines = []
    if curve:
        lines.append(f"MDPrivateKeys {curve}")
    if concurrency:
        lines.append(f"MDRenewConcurrency {concurrency}")
    for name in md_names(n):
        lines.append(f"MDomain {name}")
    for name in md_names(n):
        lines += [f"<VirtualHost *:{apache.https_port}>", f"    ServerName {name}",
                  "    SSLEngine on", "</VirtualHost>"]
    apache.add("\n".join(lines))


def unexpected_log_lines(apache):
    allow = [re.compile(p) for p in DEFAULT_LOG_ALLOWLIST]
    return [line for line in apache.bad_log_lines() if not any(a.search(line) for a in allow)]


def run_one(env, n, kind, module, concurrency, timeout, say, log_level="warn"):
    """One server from start until all N MDs are issued; returns a result dict."""
    tag = f"{module}{'-c' + str(concurrency) if concurrency else ''}"
    a = BenchApache(env, f"issue-{kind}-{n}-{tag}")
    a.md_module = MODULE_PATHS[module]
    a.log_level = log_level
    configure(a, n, kind, concurrency)
    cert_file = KEYS[kind][2]
    res = {"n": n, "kind": kind, "module": module, "conc": concurrency or (8 if module == "ours" else 1),
           "start": None, "issued": None, "done": 0, "srv_cpu": None, "pebble_cpu": None}
    say(f"  -- N={n} {KEYS[kind][0]} {tag}: starting")
    try:
        res["start"], pid = a.timed_start(timeout)
        t0 = a.t0
        cpu0, pcpu0 = tree_cpu(pid), proc_cpu(env.pebble.proc.proc.pid)
        remaining = set(md_names(n))
        deadline = t0 + timeout
        while remaining and time.monotonic() < deadline:
            remaining = {md for md in remaining if not issued(a, md, cert_file)}
            if remaining:
                time.sleep(0.05)  # the figure is at most this late
        t_end = time.monotonic()
        cpu1, pcpu1 = tree_cpu(pid), proc_cpu(env.pebble.proc.proc.pid)
        res["done"] = n - len(remaining)
        if not remaining:
            res["issued"] = t_end - t0
        if cpu0 is not None and cpu1 is not None:
            res["srv_cpu"] = cpu1 - cpu0
        if pcpu0 is not None and pcpu1 is not None:
            res["pebble_cpu"] = pcpu1 - pcpu0
    except Exception as e:
        say(f"     FAILED: {e}".splitlines()[0])
    finally:
        stop_quietly(a)
    bad = unexpected_log_lines(a)
    res["log_problems"] = len(bad)
    say(f"     start {fmt(res['start'])} s, issued {res['done']}/{n}"
        f"{' in ' + fmt(res['issued']) + ' s' if res['issued'] else ' (TIMEOUT)'}, "
        f"server CPU in issuing phase {fmt(res['srv_cpu'])} s, Pebble CPU {fmt(res['pebble_cpu'])} s, "
        f"warn+ log lines: {len(bad)}")
    for line in bad[:5]:
        say(f"       log: {line[:300]}")
    if not os.environ.get("BENCH_KEEP"):
        shutil.rmtree(a.server_root, ignore_errors=True)
    return res


def ssl_floor(env, n, timeout, say):
    """mod_ssl alone with N SSL vhosts on one self-signed EC certificate: start seconds."""
    a = BenchApache(env, f"issue-ssl-{n}")
    a.md_module = None
    a.md_defaults = False
    key, cert = mkstore.make_ca()
    key_file, cert_file = os.path.join(a.server_root, "fb.key"), os.path.join(a.server_root, "fb.crt")
    with open(key_file, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    with open(cert_file, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    lines = []
    for name in md_names(n):
        lines += [f"<VirtualHost *:{a.https_port}>", f"    ServerName {name}", "    SSLEngine on",
                  f'    SSLCertificateFile "{cert_file}"', f'    SSLCertificateKeyFile "{key_file}"',
                  "</VirtualHost>"]
    a.add("\n".join(lines))
    start = None
    try:
        start, _ = a.timed_start(timeout)
    except Exception as e:
        say(f"     FAILED: {e}".splitlines()[0])
    finally:
        stop_quietly(a)
    say(f"  -- N={n} mod_ssl alone, one certificate for all vhosts: start {fmt(start, 2)} s")
    if not os.environ.get("BENCH_KEEP"):
        shutil.rmtree(a.server_root, ignore_errors=True)
    return start


def ratio(a, b):
    return f"{a / b:.2f}" if a is not None and b else "-"


def report(results, per_key, cores, floors, say):
    rows = []
    for r in results:
        base = next((x for x in results if x["n"] == r["n"] and x["kind"] == r["kind"]
                     and x["module"] == "today"), None)
        issuing = r["issued"] - r["start"] if r["issued"] is not None else None
        kg = r["n"] * per_key[r["kind"]] / cores
        rows.append([r["n"], KEYS[r["kind"]][0], r["module"], r["conc"], fmt(r["start"], 2),
                     fmt(r["issued"]) if r["issued"] is not None else f"TIMEOUT {r['done']}/{r['n']}",
                     fmt(issuing), fmt(r["srv_cpu"]), fmt(kg, 3),
                     ratio(issuing, kg),
                     ratio(r["issued"], base and base["issued"]) if r["module"] != "today" else "",
                     ratio(r["start"], base and base["start"]) if r["module"] != "today" else "",
                     fmt(floors.get(r["n"]), 2)])
    say(table(["N", "key", "module", "conc", "start s", "issued s", "issuing s", "srv CPU s",
               "kg/cores s", "iss/kg", "o/t issued", "o/t start", "ssl start s"], rows))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10,100", help="comma-separated N (default 10,100)")
    ap.add_argument("--keys", default="rsa,ec", help="rsa,ec (default both)")
    ap.add_argument("--modules", default="ours,today", help="ours,today (default both)")
    ap.add_argument("--high-concurrency", type=int, default=32,
                    help="also run ours with this MDRenewConcurrency for N >= 100 (0: no)")
    ap.add_argument("--timeout", type=float, default=0,
                    help="seconds per server run (default 300 + 1.5 s per MD)")
    ap.add_argument("--output", help="also write the output to this file")
    ap.add_argument("--log-level", default="warn",
                    help="Apache LogLevel of the measured servers (default warn; more costs time)")
    args = ap.parse_args()
    sizes = parse_list(args.sizes, conv=int)
    kinds = parse_list(args.keys, KEYS)
    modules = parse_list(args.modules, MODULE_PATHS)
    if os.geteuid() != 0:
        raise SystemExit("run as root (Apache's children run as www-data)")
    say = Tee(args.output)
    say("issue_bench: N new MDs, server start until all are issued")
    for line in machine_facts():
        say(line)
    cores = os.cpu_count()
    per_key = {}
    for kind in kinds:
        samples = 40 if kind == "rsa" else 500
        per_key[kind] = keygen_cpu_per_key(kind, samples)
        say(f"keygen CPU:  {KEYS[kind][0]} {per_key[kind] * 1000:.2f} ms per key "
            f"(mean of {samples}, python3-cryptography/OpenSSL in one process)")
    env = MdTestEnv(md_module=MODULE_PATHS["ours"], log_level="warn")
    env.pebble.env.update({"PEBBLE_VA_ALWAYS_VALID": "1", "PEBBLE_VA_NOSLEEP": "1"})
    env.pebble.default_env = dict(env.pebble.env)
    say(f"pebble env:  {env.pebble.env} (PEBBLE_WFE_NONCEREJECT at its default, 5%)")
    say("")
    results = []
    floors = {}
    env.start()
    try:
        for n in sizes:
            floors[n] = ssl_floor(env, n, args.timeout or 300, say)
            for kind in kinds:
                timeout = args.timeout or 300 + 1.5 * n
                for module in modules:
                    concs = [None]
                    if module == "ours" and n >= 100 and args.high_concurrency:
                        concs.append(args.high_concurrency)
                    for c in concs:
                        results.append(run_one(env, n, kind, module, c, timeout, say, args.log_level))
    finally:
        finish_env(env, say)
    say("")
    say(f"Results ({cores} cores; times in seconds from `apache2 -k start`):")
    report(results, per_key, cores, floors, say)
    say.close()
    return 0 if all(r["issued"] is not None for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
