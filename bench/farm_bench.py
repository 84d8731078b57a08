#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors.
"""Farm benchmark: N new MDs issued by a farm of three nodes on a three-member etcd,
against the same work done by one node with its file store (docs/farm.md).

One run starts pebble-challtestsrv and one Pebble (PEBBLE_VA_ALWAYS_VALID=1,
PEBBLE_VA_NOSLEEP=1, nonce rejection at Pebble's default 5 %;
restarted with the same settings before the farm), then:

  single   one Apache with N MDs m<i>.farm-bench.test (EC P-256 keys, http-01,
           one SSL vhost each), MDStore file (the default)
  farm     three etcd members on loopback (one cluster) and three Apaches with the
           same N MDs and `MDStore etcd URL,URL,URL farm-key=FILE`, started
           together, each with its own store

and measures, from the first `apache2 -k start`:

  served s    until every MD is served everywhere: staging/<md>/pubcert*.pem
              with job.json "finished" (or domains/<md>/) on every node; with
              MDActivation live (the default) the children serve a staged set
              within seconds. Then the certificate served for m0, m<N/2> and
              m<N-1> is checked on every node: verified against Pebble's root,
              one serial for the farm
  coord %     (farm served - single served) / single served: what coordinating
              through etcd costs in wall time
  srv CPU s   CPU of all Apache servers (parents, children, reaped children)
  etcd CPU s  CPU of the etcd members
  orders      MD1101 lines in all error logs (one per MD expected)
  req/MD      engine requests during issuance (gRPC requests started at the
              members, from their /metrics: Range, Txn, Put, LeaseGrant,
              LeaseKeepAlive, LeaseRevoke, ...) divided by N
  req/MD/day  at rest: the requests over --rest seconds after all is served,
              extrapolated to a day, divided by N (the nodes' looks, one range
              each every 5 s, and their records: whatever N)

With --ca-latency S and --ca-validation S, both set-ups talk to Pebble through a proxy
(test/integration/mdtest/acmeproxy.py) that holds each request S seconds and each
challenge's POST S more, as a CA over the Internet takes its time, and both get the same
renewal slots (3 per node, 9 for the single node): the CA, not the machine's cores,
bounds both, and "coord %" is what the farm's coordination adds.

Needs root (Apache's children run as www-data), etcd-server and build/mod_md.so
(`make`). Quick: /usr/bin/python3 bench/farm_bench.py --mds 100 --rest 20
"""
import argparse
import os
import re
import secrets
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from benchlib import (MODULE_PATHS, issued, BenchApache, Tee, fmt, machine_facts, proc_cpu, finish_env,
                      stop_quietly, table, tree_cpu)
from mdtest.acmeproxy import AcmeProxy
from mdtest.env import MdTestEnv
from mdtest.farm import EtcdCluster
from mdtest.ports import free_ports
from mdtest import tlsclient

CERT = "pubcert.secp256r1.pem"
NODES = 3


def md_names(n):
    return [f"m{i}.farm-bench.test" for i in range(n)]


def configure(apache, names, store_line=None, concurrency=None):
    lines = ["MDPrivateKeys secp256r1"]
    if concurrency:
        lines.append(f"MDRenewConcurrency {concurrency}")
    if store_line:
        lines.append(store_line)
    for name in names:
        lines += [f"MDomain {name}", "MDCAChallenges http-01"]
    for name in names:
        lines += [f"<VirtualHost *:{apache.https_port}>", f"    ServerName {name}",
                  "    SSLEngine on", "</VirtualHost>"]
    apache.add("\n".join(lines))


def new_server(env, name, log_level, ca=None):
    http, https, ctrl = free_ports(3)
    a = BenchApache(env, name, http_port=http, https_port=https, ctrl_port=ctrl, ca=ca)
    a.log_level = log_level
    return a


def served_alike(env, servers, names, say=None):
    """Do all servers serve one CA-verified certificate for a sample of the MDs? With
    say, what is not is told."""
    for md in (names[0], names[len(names) // 2], names[-1]):
        serials = set()
        for a in servers:
            try:
                serials.add(tlsclient.verify_served_cert(a.https_port, md, env.pebble.root_path).serial_number)
            except Exception as e:
                if say:
                    say(f"     {a.name} does not serve a certificate of the CA for {md}: {e}")
                return False
        if len(serials) != 1:
            if say:
                say(f"     {md}: the servers serve {len(serials)} certificates")
            return False
    return True


def run(env, servers, names, timeout, say, cluster=None, rest=0):
    """Start the servers, wait until every MD is issued on every one; returns a dict."""
    res = {"served": None, "srv_cpu": None, "etcd_cpu": None, "orders": None, "req": None,
           "rest": None, "alike": False}
    etcd_pids = [m.proc.proc.pid for m in cluster.members] if cluster else []
    before = cluster.requests() if cluster else {}
    ecpu0 = sum(proc_cpu(p) or 0 for p in etcd_pids)
    t0 = time.monotonic()
    pids = []
    try:
        # together, as a farm's nodes come up: one after the other would count their starts
        with ThreadPoolExecutor(len(servers)) as pool:
            pids = [r[1] for r in pool.map(lambda a: a.timed_start(timeout), servers)]
        remaining = [set(names) for _ in servers]
        deadline = t0 + timeout
        while any(remaining) and time.monotonic() < deadline:
            for i, a in enumerate(servers):
                remaining[i] = {md for md in remaining[i] if not issued(a, md, CERT)}
            if any(remaining):
                time.sleep(0.1)
        if any(remaining):
            say(f"     TIMEOUT: {sum(len(r) for r in remaining)} MD(s) not issued everywhere")
            return res
        # every child serves a staged set within seconds (MDActivation live)
        wait = time.monotonic() + 30
        while not served_alike(env, servers, names) and time.monotonic() < wait:
            time.sleep(0.2)
        res["served"] = time.monotonic() - t0
        res["alike"] = served_alike(env, servers, names, say)
        res["srv_cpu"] = sum(tree_cpu(p) or 0 for p in pids)
        if cluster:
            res["etcd_cpu"] = sum(proc_cpu(p) or 0 for p in etcd_pids) - ecpu0
            during = cluster.requests()
            res["req"] = {k: during[k] - before.get(k, 0) for k in during if during[k] - before.get(k, 0)}
            if rest:
                time.sleep(rest)
                after = cluster.requests()
                res["rest"] = {k: after[k] - during.get(k, 0) for k in after if after[k] - during.get(k, 0)}
    finally:
        for a in servers:
            stop_quietly(a)
        res["orders"] = sum(len(re.findall(r"MD1101: ", a.log_text())) for a in servers)
    return res


def farm_key_file(run_dir):
    path = os.path.join(run_dir, "farm-bench.key")
    with open(path, "w") as f:
        f.write(secrets.token_hex(32) + "\n")
    os.chmod(path, 0o600)
    return path


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mds", type=int, default=1000, help="number of MDs (default 1000)")
    ap.add_argument("--rest", type=float, default=60, help="seconds measured at rest (default 60)")
    ap.add_argument("--timeout", type=float, default=0, help="seconds per run (default 300 + 1 s per MD)")
    ap.add_argument("--log-level", default="notice",
                    help="LogLevel of the servers (default notice: one MD1101 line per order)")
    ap.add_argument("--farm-concurrency", type=int, default=0,
                    help="MDRenewConcurrency of each farm node (default: the module's, 8). Pebble 2.4 "
                         "deadlocks under 3 x 8 concurrent orders once it holds about a thousand "
                         "authorizations: 3 keeps the farm's total near the single node's 8")
    ap.add_argument("--ca-latency", type=float, default=0,
                    help="seconds each request to the CA takes (a proxy in front of Pebble), e.g. 0.1")
    ap.add_argument("--ca-validation", type=float, default=0,
                    help="seconds more a challenge's POST takes (the CA validating), e.g. 2")
    ap.add_argument("--output", help="also write the output to this file")
    args = ap.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("run as root (Apache's children run as www-data)")
    say = Tee(args.output)
    say(f"farm_bench: {args.mds} new MDs, a farm of {NODES} nodes on a {NODES}-member etcd against one "
        "node with its file store")
    for line in machine_facts():
        say(line)
    say(f"etcd:        {os.popen('etcd --version 2>/dev/null').readline().strip()}")
    env = MdTestEnv(md_module=MODULE_PATHS["ours"], log_level=args.log_level)
    # Pebble 2.4's look for a valid authorization to reuse (made for every new order,
    # PEBBLE_AUTHZREUSE=0 or not) deadlocks its memory store under many concurrent orders:
    # three nodes x 8 renewals hung it in three runs of four at 1000 MDs after 600 to 1300 orders,
    # every handler waiting in GetAccountByID behind FindValidAuthorization and
    # AddCertificate. See --farm-concurrency.
    env.pebble.env.update({"PEBBLE_VA_ALWAYS_VALID": "1", "PEBBLE_VA_NOSLEEP": "1"})
    if args.ca_latency or args.ca_validation:
        # a CA over the Internet: each request takes its time, a validation longer (Pebble
        # with PEBBLE_VA_ALWAYS_VALID skips its own wait); both set-ups get the same
        # renewal slots, so the CA is what bounds them
        args.farm_concurrency = args.farm_concurrency or 3
    env.pebble.default_env = dict(env.pebble.env)
    say(f"pebble env:  {env.pebble.env} (PEBBLE_WFE_NONCEREJECT at its default, 5%)")
    say("")
    names = md_names(args.mds)
    timeout = args.timeout or 300 + args.mds
    results = {}
    env.start()
    cluster = proxy = None
    try:
        slow = args.ca_latency or args.ca_validation
        if slow:
            proxy = AcmeProxy(env.pebble, env.certs, name="farm-bench-ca").start()
            if args.ca_validation:        # the challenge's POST: the CA validates meanwhile
                proxy.add_fault(r"/chalZ/", "delay", method="POST", count=None, delay=args.ca_validation)
            if args.ca_latency:
                proxy.add_fault(r".", "delay", count=None, delay=args.ca_latency)
            say(f"  the CA through a proxy: {args.ca_latency or 0} s a request, "
                f"{args.ca_validation or 0} s more a validation")
        # 1. one node, file store
        say(f"  -- single: 1 node, MDStore file, {args.mds} MDs"
            + (f", MDRenewConcurrency {args.farm_concurrency * NODES}" if slow else ""))
        single = new_server(env, "farm-bench-single", args.log_level, ca=proxy)
        configure(single, names, concurrency=args.farm_concurrency * NODES if slow else None)
        results["single"] = run(env, [single], names, timeout, say)
        # 2. the farm, with a fresh Pebble of the same settings (its memory as empty as for
        #    the single node)
        env.pebble.restart()
        say(f"  -- farm: {NODES} nodes, MDStore etcd on {NODES} members, {args.mds} MDs, MDRenewConcurrency "
            f"{args.farm_concurrency or 8} per node (Pebble restarted)")
        cluster = EtcdCluster(env.run_dir, "farm-bench-etcd").start()
        key = farm_key_file(env.run_dir)
        nodes = []
        for i in range(NODES):
            a = new_server(env, f"farm-bench-n{i}", args.log_level, ca=proxy)
            configure(a, names, f"MDStore etcd {cluster.url} farm-key={key} node=n{i}",
                      args.farm_concurrency)
            nodes.append(a)
        results["farm"] = run(env, nodes, names, timeout, say, cluster=cluster, rest=args.rest)
    finally:
        if cluster:
            cluster.stop()
        if proxy:
            proxy.stop()
        finish_env(env, say)
    report(results, args, say)
    say.close()
    return 0 if all(r["served"] and r["alike"] for r in results.values()) else 1


def report(results, args, say):
    n = args.mds
    single, farm = results.get("single", {}), results.get("farm", {})
    rows = []
    for label, nodes, r in (("single (file)", 1, single), (f"farm (etcd x{NODES})", NODES, farm)):
        if not r:
            continue
        coord = None
        if r is farm and farm.get("served") and single.get("served"):
            coord = f"{(farm['served'] - single['served']) * 100.0 / single['served']:+.0f}"
        req = r.get("req")
        rest = r.get("rest")
        rows.append([label, n, nodes, fmt(r.get("served")), fmt(coord), fmt(r.get("srv_cpu")),
                     fmt(r.get("etcd_cpu")), r.get("orders"), "yes" if r.get("alike") else "NO",
                     fmt(sum(req.values()) / n, 1) if req else "-",
                     fmt(sum(rest.values()) * 86400.0 / args.rest / n, 1) if rest else "-"])
    say("")
    say(f"Results ({os.cpu_count()} cores; seconds from the first `apache2 -k start`):")
    say(table(["setup", "N", "nodes", "served s", "coord %", "srv CPU s", "etcd CPU s", "orders",
               "alike", "req/MD", "req/MD/day"], rows))
    if farm.get("req"):
        say("")
        say("engine requests during issuance, by method (per MD): " + ", ".join(
            f"{k} {v} ({v / n:.2f})" for k, v in sorted(farm["req"].items())))
    if farm.get("rest"):
        say(f"engine requests at rest over {args.rest:.0f} s, by method: " + ", ".join(
            f"{k} {v}" for k, v in sorted(farm["rest"].items()))
            + f" (a day: {sum(farm['rest'].values()) * 86400.0 / args.rest:.0f} for the farm)")


if __name__ == "__main__":
    sys.exit(main())
