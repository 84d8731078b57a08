#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors.
"""Start benchmark: N MDs whose certificates already exist.

For each N, one store with N complete MDs is written without any CA
(bench/mkstore.py: md.json, an EC P-256 key and a certificate from a
throw-away local CA per MD).  Then three servers with the same N SSL
vhosts (ServerName m<i>.bench.test) are started one after the other:

  ours    our build/mod_md.so, a fresh copy of the store
  today   Debian's mod_md.so, a fresh copy of the store
  ssl     no mod_md: mod_ssl alone, SSLCertificateFile/SSLCertificateKeyFile
          per vhost pointing at the same certificate files
  before  (with --before PATH) another build of ours, e.g. the last release's,
          to compare a change before and after in one run

The md servers run with MDRenewMode manual and MDPrivateKeys secp256r1, so
nothing is renewed.  Measured:

  first   `apache2 -k start` until the first HTTPS answer (a GET / with
          SNI m0.bench.test answered with status 200), on the copied store:
          a module writes each md.json as its configuration has it, once
  start   the same for the next start (after a stop), on the store as the
          module left it: what every later start of the server costs
  PSS     proportional set size of the parent + its children, summed from
          /proc/<pid>/smaps_rollup, right after that answer and again 3 s later
  o/ssl   ours / mod_ssl alone, for first, start and PSS (target <= 1.2)

Checks (a failed check is printed, the numbers are still reported): the
certificate served for three names is the stored one (not a fallback), no
MD got a staging/ directory (no renewal), and the error log has no line at
warn level or worse.  Needs root and build/mod_md.so (`make`).

Example (quick):  /usr/bin/python3 bench/start_bench.py --sizes 100
"""
import argparse
import os
import shutil
import sys
import tempfile
import time

from benchlib import (MODULE_PATHS, BenchApache, Tee, fmt, machine_facts, parse_list,
                      finish_env, stop_quietly, table, tree_pss_mb)
from mdtest import tlsclient
from mdtest.env import MdTestEnv
import mkstore

SERVERS = ("ours", "before", "today", "ssl")


def configure(a, n, server, template):
    lines = []
    if server != "ssl":
        lines += ["MDRenewMode manual", f"MDPrivateKeys {mkstore.CURVE}"]
        lines += [f"MDomain {mkstore.md_name(i)}" for i in range(n)]
    for i in range(n):
        name = mkstore.md_name(i)
        lines += [f"<VirtualHost *:{a.https_port}>", f"    ServerName {name}", "    SSLEngine on"]
        if server == "ssl":
            d = os.path.join(template, "domains", name)
            lines += [f'    SSLCertificateFile "{d}/{mkstore.CERT_FILE}"',
                      f'    SSLCertificateKeyFile "{d}/{mkstore.KEY_FILE}"']
        lines.append("</VirtualHost>")
    a.add("\n".join(lines))


def first_answer(a):
    def answered():
        try:
            return tlsclient.https_get(a.https_port, mkstore.md_name(0), "/", timeout=5).status == 200
        except OSError:
            return False
    return answered


def check(a, n, server, template, say):
    """Served certificates are the stored ones; nothing renews; clean log."""
    problems = []
    for i in sorted({0, n // 2, n - 1}):
        name = mkstore.md_name(i)
        with open(os.path.join(template, "domains", name, mkstore.CERT_FILE), "rb") as f:
            stored = tlsclient.load_pem_certs(f.read())[0]
        served = a.get_cert(name)
        if served.fingerprint(stored.signature_hash_algorithm) != \
                stored.fingerprint(stored.signature_hash_algorithm):
            problems.append(f"{name}: served certificate is not the stored one "
                            f"({tlsclient.describe_cert(served)['issuer']})")
    if server != "ssl":
        staging = a.store_path("staging")
        if os.path.isdir(staging) and [x for x in os.listdir(staging) if not x.startswith(".")]:
            problems.append(f"staging/ has {len(os.listdir(staging))} entries: something renews")
    problems += [f"log: {line[:300]}" for line in a.bad_log_lines()[:5]]
    for p in problems:
        say(f"     CHECK FAILED: {p}")
    return problems


def run_one(env, n, server, template, timeout, say):
    a = BenchApache(env, f"start-{n}-{server}")
    a.log_level = "warn"
    if server == "ssl":
        a.md_module = None
        a.md_defaults = False
    else:
        a.md_module = MODULE_PATHS[server]
        shutil.copytree(template, a.store_dir)
    configure(a, n, server, template)
    with open(os.path.join(a.htdocs, "index.html"), "w") as f:
        f.write("bench\n")
    os.chmod(os.path.join(a.htdocs, "index.html"), 0o644)
    res = {"n": n, "server": server, "first": None, "start": None, "pss": None, "pss3": None,
           "kids": None, "ok": False}
    say(f"  -- N={n} {server}: starting")
    try:
        # the first start on the copied store: a module brings each md.json up to its
        # configuration (contact, agreement, its own fields), once
        res["first"], _ = a.timed_start(timeout, answered=first_answer(a))
        a.stop(timeout=600)
        # the measured start: the store as the module left it, as at any later restart
        res["start"], pid = a.timed_start(timeout, answered=first_answer(a))
        res["pss"], res["kids"] = tree_pss_mb(pid)
        time.sleep(3)
        res["pss3"], _ = tree_pss_mb(pid)
        res["ok"] = not check(a, n, server, template, say)
    except Exception as e:
        say(f"     FAILED: {str(e).splitlines()[0]}")
    finally:
        stop_quietly(a, timeout=600)
    say(f"     first HTTPS answer after {fmt(res['first'], 2)} s (first start), "
        f"{fmt(res['start'], 2)} s (next start); PSS {fmt(res['pss'])} MB "
        f"({res['kids']} children), 3 s later {fmt(res['pss3'])} MB; checks "
        f"{'passed' if res['ok'] else 'FAILED'}")
    if not os.environ.get("BENCH_KEEP"):
        shutil.rmtree(a.server_root, ignore_errors=True)
    return res


def ratio(a, b):
    return f"{a / b:.2f}" if a is not None and b else "-"


def report(results, say):
    rows = []
    for r in results:
        base = next((x for x in results if x["n"] == r["n"] and x["server"] == "ssl"), None)
        mine = r["server"] != "ssl"
        rows.append([r["n"], r["server"], fmt(r["first"], 2), fmt(r["start"], 2), fmt(r["pss"]),
                     fmt(r["pss3"]), r["kids"], "ok" if r["ok"] else "FAILED",
                     ratio(r["first"], base and base["first"]) if mine else "",
                     ratio(r["start"], base and base["start"]) if mine else "",
                     ratio(r["pss"], base and base["pss"]) if mine else ""])
    say(table(["N", "server", "first s", "start s", "PSS MB", "PSS+3s MB", "children", "checks",
               "o/ssl first", "o/ssl start", "o/ssl PSS"], rows))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1000", help="comma-separated N (default 1000)")
    ap.add_argument("--servers", default="ours,today,ssl", help="ours,today,ssl (default all)")
    ap.add_argument("--before", help="the mod_md.so of another build of ours, measured as 'before'")
    ap.add_argument("--timeout", type=float, default=900, help="seconds per start (default 900)")
    ap.add_argument("--output", help="also write the output to this file")
    args = ap.parse_args()
    sizes = parse_list(args.sizes, conv=int)
    servers = parse_list(args.servers, SERVERS)
    if args.before:
        MODULE_PATHS["before"] = os.path.abspath(args.before)
        if "before" not in servers:
            servers.insert(1, "before")
    elif "before" in servers:
        raise SystemExit("--servers names 'before': give its module with --before PATH")
    if os.geteuid() != 0:
        raise SystemExit("run as root (Apache's children run as www-data)")
    say = Tee(args.output)
    say("start_bench: server start and memory with N existing certificates")
    for line in machine_facts():
        say(line)
    say("")
    # the env gives ports and the run directory; no Pebble or challtestsrv is
    # started (MDCertificateAuthority names a Pebble that never runs)
    env = MdTestEnv(md_module=MODULE_PATHS["ours"], log_level="warn")
    results = []
    try:
        for n in sizes:
            template = tempfile.mkdtemp(prefix=f"store-{n}-", dir=env.run_dir)
            os.chmod(template, 0o755)
            t = time.monotonic()
            mkstore.make_store(template, n, env.pebble.url)
            say(f"  store with {n} MDs written in {time.monotonic() - t:.1f} s")
            for server in servers:
                results.append(run_one(env, n, server, template, args.timeout, say))
            if not os.environ.get("BENCH_KEEP"):
                shutil.rmtree(template, ignore_errors=True)
    finally:
        finish_env(env, say, stop=False)
    say("")
    say(f"Results ({os.cpu_count()} cores; `apache2 -k start` until the first HTTPS 200; first: on the "
        "copied store, start: the next start, as the module left the store):")
    report(results, say)
    say.close()
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
