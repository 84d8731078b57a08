# SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors.
"""0550: a farm of three Apache nodes sharing their MDs through etcd (docs/farm.md).

Each node has its own local store and `MDStore etcd URL farm-key=FILE`; haproxy
balances the http port Pebble validates against over the three nodes, round robin,
so the CA's validation requests land on any node. What a user sees: one order per
MD for the whole farm, every node serving the same certificate, http-01 answered
by nodes that did not order, and no private key in clear in the engine.
"""
import os
import re
import secrets
import signal
import ssl
import subprocess
import threading
import time
from datetime import datetime

import pytest

from mdtest.env import MDCTL
from mdtest.farm import answers_for_others, TcpProxy, HAPROXY_BIN, ETCD_BIN
from mdtest.ports import free_ports
from mdtest.procs import wait_until
from mdtest import tlsclient

pytestmark = pytest.mark.skipif(not (os.path.exists(ETCD_BIN) and os.path.exists(HAPROXY_BIN)),
                                reason="etcd-server and haproxy are not installed (.ci/run installs them)")

NODES = 3


def _nodes(apache_factory, etcd, farm_key, mds, options="", urls=None):
    nodes = []
    for i in range(NODES):
        http, https, ctrl = free_ports(3)
        node = apache_factory(f"n{i}", http_port=http, https_port=https, ctrl_port=ctrl)
        url = urls[i] if urls else etcd.url
        node.add(f"MDStore etcd {url} farm-key={farm_key} prefix=/md/ node=n{i} {options}")
        for md in mds:
            node.add(f"MDomain {md}\nMDCAChallenges http-01")
            node.add_vhost(md)
        nodes.append(node)
    return nodes


def _count(nodes, regex):
    return sum(len(n.log_lines(regex)) for n in nodes)


def test_0550_farm_one_order_per_md(etcd, apache_factory, balancer, farm_key, domain):
    """A cold start of three nodes with new MDs: one order per MD for the farm, the
    set published once and pulled by the others, the same serial served everywhere."""
    mds = [f"m{i}.{domain}" for i in range(5)]
    nodes = _nodes(apache_factory, etcd, farm_key, mds)
    lb = balancer(nodes)
    for n in nodes:
        n.start()
    # 1. every node gets every MD staged: ordered by one, pulled by the others
    for n in nodes:
        for md in mds:
            n.wait_for_cert(md, timeout=120)
    for md in mds:
        name = re.escape(md)
        assert _count(nodes, rf"MD1101: {name}: ") == 1, f"{md}: ordered by exactly one node"
        assert _count(nodes, rf"MD1772: {name}: published generation 1 ") == 1
        assert _count(nodes, rf"MD1768: {name}: pulled generation 1 ") == NODES - 1
    # 2. the CA's validations went round robin: nodes that did not order answered too
    assert answers_for_others(nodes, mds, "http-01") > 0, \
        "no node answered a validation for an order it did not make"
    # 3. a token the farm does not hold is not answered
    r = tlsclient.http_get(lb.port, mds[0], "/.well-known/acme-challenge/notAtoken123")
    assert r.status == 404
    # 4. every node serves the farm's certificate of each MD, without an operator
    #    (MDActivation live), and still after a graceful restart
    def same_everywhere():
        for md in mds:
            try:
                serials = {n.verify_cert(md).serial_number for n in nodes}
            except ssl.SSLError:
                return False
            if len(serials) != 1:
                return False
        return True
    wait_until(same_everywhere, 30, interval=0.5, what="every node serving the farm's certificates")
    for n in nodes:
        n.graceful()
    assert same_everywhere(), "after a graceful restart, the nodes serve different certificates"
    # 5. the engine holds the certificates but no private key in clear
    dump = etcd.ctl("get", "--prefix", "/md/")
    assert b"BEGIN CERTIFICATE" in dump
    assert b"PRIVATE KEY" not in dump


def _key_file(apache, name, mode, content=None):
    path = os.path.join(apache.server_root, name)
    with open(path, "w") as f:
        f.write(content if content is not None else secrets.token_hex(32) + "\n")
    os.chmod(path, mode)
    return path


def test_0551_mdstore_forms(apache, domain):
    """MDStore's valid forms pass `apache2 -t`; each invalid one stops it naming the
    directive, the file and the line, and what to do."""
    key = _key_file(apache, "farm.key", 0o600)
    auth = _key_file(apache, "etcd.auth", 0o600, "farm:secret\n")
    valid = ["MDStore file",
             f"MDStore etcd http://127.0.0.1:1 farm-key={key}",
             f"MDStore etcd https://10.0.0.5:2379,https://10.0.0.6:2379/ farm-key={key} prefix=/site/md/ "
             f"ca={apache.ca.ca_file} auth={auth} node=web1"]
    for line in valid:
        apache.clear_config()
        apache.add(line)
        rc, out = apache.configtest()
        assert rc == 0 and "Syntax OK" in out, f"{line}\n{out}"
    open_key = _key_file(apache, "open.key", 0o644)
    short_key = _key_file(apache, "short.key", 0o600, "abcd\n")
    open_auth = _key_file(apache, "open.auth", 0o644, "farm:secret\n")
    invalid = [
        ("MDStore etcd", [r"'file', or 'etcd URL"]),
        ("MDStore nfs /mnt/md", [r"'file', or 'etcd URL"]),
        (f"MDStore etcd ftp://127.0.0.1:2379 farm-key={key}", [r"'ftp://127.0.0.1:2379' is not an etcd endpoint"]),
        ("MDStore etcd http://127.0.0.1:2379", [r"etcd needs farm-key=FILE", r"openssl rand -hex 32"]),
        (f"MDStore etcd http://127.0.0.1:2379 farm-key={open_key}", [r"must belong to root with mode 0600"]),
        (f"MDStore etcd http://127.0.0.1:2379 farm-key={short_key}", [r"32 bytes or 64 hex digits"]),
        (f"MDStore etcd http://127.0.0.1:2379 farm-key={key} auth={open_auth}", [r"may be read by others"]),
        (f"MDStore etcd http://127.0.0.1:2379 farm-key={key} prefix=md", [r"prefix must start and end with '/'"]),
        (f"MDStore etcd http://127.0.0.1:2379 farm-key={key} colour=blue", [r"unknown option 'colour=blue'"]),
    ]
    for line, patterns in invalid:
        apache.clear_config()
        apache.add(line)
        rc, out = apache.configtest()
        assert rc != 0, f"{line}\n{out}"
        assert re.search(rf"Syntax error on line \d+ of {re.escape(apache.conf_path)}:", out), out
        assert "MDStore:" in out, out
        for p in patterns:
            assert re.search(p, out), f"/{p}/ not in:\n{out}"
    apache.clear_config()
    apache.add(f"<MDomain {domain}>\nMDStore file\n</MDomain>")
    rc, out = apache.configtest()
    assert rc != 0 and re.search(r"MDStore.*not allowed inside <MDomain>", out), out


def test_0552_engine_unreachable_at_start(apache, farm_key, domain):
    """A node whose engine does not answer starts, says so once naming MDStore, and
    serves what it has (here: the fallback), renewing nothing meanwhile."""
    port = free_ports(1)[0]
    apache.add(f"MDStore etcd http://127.0.0.1:{port} farm-key={farm_key}")
    apache.add(f"MDomain {domain}\nMDCAChallenges http-01")
    apache.add_vhost(domain)
    apache.expect_log(r"MD1765: the farm's etcd \(MDStore at \S+:\d+\): etcd at http://127.0.0.1:\d+ "
                      r"cannot be reached; this node serves", required=True)
    apache.start()
    apache.wait_for_log(r"MD1765: ")
    assert apache.https_get(domain).status == 503
    import time
    time.sleep(3)
    assert not apache.log_lines(r"MD1101: "), "renewed without the farm"
    assert not os.path.exists(apache.store_path("staging", domain, "pubcert.pem"))


@pytest.fixture(scope="module")
def fault_module():
    """build-fault/mod_md.so: the module with its crash points (make fault-module)."""
    repo = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    r = subprocess.run(["make", "-C", repo, "fault-module"], capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout + r.stderr
    return os.path.join(repo, "build-fault", "mod_md.so")


def test_0553_holder_killed(env, etcd, apache_factory, balancer, farm_key, domain, fault_module):
    """The node renewing an MD dies (SIGKILL) once its order and http-01 answer are in etcd.
    Another node takes the renewal over when the dead holder's lock ran out (lock-ttl=6)
    and finishes the dead node's order (one order at the CA for the farm); the dead node's
    next process pulls the farm's set and publishes nothing."""
    orders_before = _pebble_orders(env)
    nodes = _nodes(apache_factory, etcd, farm_key, [domain], options="lock-ttl=6")
    victim, others = nodes[0], nodes[1:]
    victim.md_module = fault_module
    # the renewal starts after the server answers: a child stopped before that would keep
    # the start (which waits for the server to answer) from ending
    victim.add("MDInitialDelay 3s")
    balancer(nodes)
    # 1. the victim alone: it takes the lock and its renewing process dies at the point
    os.environ["MD_FAULT_POINT"] = "farm-challenge-shared"
    try:
        victim.start()
    finally:
        del os.environ["MD_FAULT_POINT"]
    # (httpd does not log a child's SIGKILL: the child it starts next finds the lock of
    # the dead one, held by "n0" until its lease runs out)
    victim.wait_for_log(rf"MD1769: {re.escape(domain)}: renewed by n0 in the farm", timeout=60)
    assert etcd.ctl("get", f"/md/challenges/http-01/{domain}"), "the answer was not in etcd"
    # 2. the others take over once the lock's lease ran out, one of them orders
    for n in others:
        n.start()
    for n in others:
        n.wait_for_cert(domain, timeout=120)
    publishers = [n for n in nodes if n.log_lines(rf"MD1772: {re.escape(domain)}: published ")]
    assert len(publishers) == 1 and publishers[0] is not victim, "one node published, not the dead one"
    # the order was resumed, not made again
    assert publishers[0].log_lines(rf"MD1781: {re.escape(domain)}: resuming the order of node n0")
    assert publishers[0].log_lines(rf"MD1782: {re.escape(domain)}: going on with the order ")
    assert _pebble_orders(env) - orders_before == 1, "the farm made exactly one order at the CA"
    # 3. the killed node carries on with the farm's set, not with anything of its own
    victim.wait_for_log(rf"MD1768: {re.escape(domain)}: pulled generation 1 ", timeout=60)
    victim.wait_for_cert(domain, timeout=30)
    with open(publishers[0].store_path("staging", domain, "pubcert.pem")) as f:
        farm_cert = f.read()
    with open(victim.store_path("staging", domain, "pubcert.pem")) as f:
        assert f.read() == farm_cert
    for n in nodes:
        n.graceful()
    assert len({n.verify_cert(domain).serial_number for n in nodes}) == 1


def _pebble_orders(env):
    """How many orders the shared Pebble made so far."""
    with open(env.pebble.log_path, errors="replace") as f:
        return f.read().count("Added order ")


def _same_serial(nodes, md):
    """Do all nodes serve one certificate of the MD, verified against the CA's root?"""
    try:
        return len({n.verify_cert(md).serial_number for n in nodes}) == 1
    except ssl.SSLError:
        return False            # one still serves its fallback


def _stopped_children(parent_pid):
    """Pids of the parent's children that are stopped (state T)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] == "T" and int(fields[1]) == parent_pid:
            found.append(int(entry))
    return found


def test_0554_holder_paused_is_fenced(etcd, apache_factory, balancer, farm_key, domain,
                                      fault_module):
    """The renewing node is paused (SIGSTOP) once its http-01 answer is in etcd, past its
    lock's lease; another node renews and publishes. Continued, the paused one writes
    nothing to the farm (its lock is gone: no further CA request, no publish) and takes
    up the farm's set like every other node."""
    nodes = _nodes(apache_factory, etcd, farm_key, [domain], options="lock-ttl=6")
    victim, others = nodes[0], nodes[1:]
    victim.md_module = fault_module
    # the renewal starts after the server answers: a child stopped before that would keep
    # the start (which waits for the server to answer) from ending
    victim.add("MDInitialDelay 3s")
    victim.expect_log(r"MD1761: |MD1102: |MD1770: ")   # what the continued holder may say
    balancer(others)                  # a stopped child would hold up the CA's requests
    os.environ["MD_FAULT_POINT"] = "farm-challenge-shared:stop"
    try:
        victim.start()
    finally:
        del os.environ["MD_FAULT_POINT"]
    stopped = wait_until(lambda: _stopped_children(victim.pid()), 60, what="the holder to stop")
    # the others: one takes over once the paused holder's lease ran out
    for n in others:
        n.start()
    for n in others:
        n.wait_for_cert(domain, timeout=120)
    for pid in stopped:
        os.kill(pid, signal.SIGCONT)  # a child of the victim's server, stopped by the test's point
    victim.wait_for_log(rf"MD1768: {re.escape(domain)}: pulled generation 1 ", timeout=60)
    publishers = [n for n in nodes if n.log_lines(rf"MD1772: {re.escape(domain)}: published ")]
    assert len(publishers) == 1 and publishers[0] is not victim
    assert etcd.ctl("get", "--print-value-only", f"/md/gen/{domain}").strip() == b"1"
    wait_until(lambda: _same_serial(nodes, domain), 30, interval=0.5,
               what="every node serving the farm's certificate")


# ---- the watch of the generations (0555-0559) ---------------------------------------------

LOG_TIME_RE = re.compile(r"^\[\w{3} (\w{3} \d{2} \d{2}:\d{2}:\d{2}\.\d{6} \d{4})\]")


def _log_time(line):
    return datetime.strptime(LOG_TIME_RE.match(line).group(1), "%b %d %H:%M:%S.%f %Y").timestamp()


def _renew(node, md):
    r = subprocess.run([MDCTL, "-d", node.store_dir, "renew", "--reason", "test", md],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr


def _settled(nodes, mds, timeout=120):
    for n in nodes:
        for md in mds:
            n.wait_for_cert(md, timeout=timeout)
    for md in mds:
        wait_until(lambda: _same_serial(nodes, md), 60, interval=0.5,
                   what=f"every node serving the farm's certificate of {md}")


def test_0555_pull_latency(etcd, apache_factory, balancer, farm_key, domain):
    """A set one node publishes is pulled by the others within 2 seconds (the watch tells
    them at once; the 5-second poll it replaces took up to 5), twice in a row."""
    nodes = _nodes(apache_factory, etcd, farm_key, [domain])
    balancer(nodes)
    for n in nodes:
        n.start()
    _settled(nodes, [domain])
    name = re.escape(domain)
    for gen in (2, 3):
        _renew(nodes[0], domain)
        published = nodes[0].wait_for_log(rf"MD1772: {name}: published generation {gen} ", timeout=90)
        for n in nodes[1:]:
            pulled = n.wait_for_log(rf"MD1768: {name}: pulled generation {gen} ", timeout=30)
            delay = _log_time(pulled) - _log_time(published)
            print(f"\n{n.name} pulled generation {gen} {delay:.3f} s after it was published")
            assert delay < 2.0, f"{n.name} pulled generation {gen} {delay:.2f} s after it was published"
    wait_until(lambda: _same_serial(nodes, domain), 30, interval=0.5, what="the same serial everywhere")


def test_0556_watch_cut_resumes(etcd, apache_factory, balancer, farm_key, domain):
    """One node's link to etcd is cut (a relay in front of etcd closes every connection)
    while another node publishes a new set. When the link is back, the cut node pulls it
    within seconds, not at the 5-minute full read: its watch resumes from the revision
    after the last it saw, which is not later than the one the set was published at."""
    relay = TcpProxy(etcd.client_port).start()
    try:
        nodes = _nodes(apache_factory, etcd, farm_key, [domain], urls=[etcd.url, etcd.url, relay.url])
        cut_node = nodes[2]
        cut_node.expect_log(r"MD1765: ")                 # the outage, said once
        balancer(nodes[:2])
        for n in nodes:
            n.start()
        _settled(nodes, [domain])
        name = re.escape(domain)
        # 1. cut: the node's watch ends, it tries again with a growing backoff
        seen = len(cut_node.log_lines(r"MD1774: "))
        relay.cut()
        wait_until(lambda: len(cut_node.log_lines(r"MD1774: ")) > seen, 30, what="the cut watch noticed")
        # 2. another node renews and publishes meanwhile; the cut node cannot hear of it
        _renew(nodes[0], domain)
        nodes[0].wait_for_log(rf"MD1772: {name}: published generation 2 ", timeout=90)
        nodes[1].wait_for_log(rf"MD1768: {name}: pulled generation 2 ", timeout=10)
        published_at = int(re.search(rb'"mod_revision":(\d+)', etcd.ctl("get", "-w", "json",
                                                                          f"/md/gen/{domain}")).group(1))
        time.sleep(3)
        assert not cut_node.log_lines(rf"MD1768: {name}: pulled generation 2 ")
        cut_node.wait_for_log(r"MD1765: ", timeout=30)
        resume = int(re.search(r"resumes from revision (\d+)",
                               cut_node.log_lines(r"MD1774: ")[-1]).group(1))
        assert resume <= published_at, f"the watch would resume at {resume}, after the set's {published_at}"
        # 3. back: the node's next try (at most 30 s of backoff) pulls the set
        relay.restore()
        restored = time.time()
        cut_node.wait_for_log(r"MD1764: ", timeout=40)
        cut_node.wait_for_log(rf"MD1768: {name}: pulled generation 2 ", timeout=10)
        assert time.time() - restored < 45
        wait_until(lambda: _same_serial(nodes, domain), 30, interval=0.5, what="the same serial everywhere")
    finally:
        relay.stop()


class _Prober:
    """HTTPS requests to every node and MD in a loop: any answer counts (503 while a node
    still has only its fallback); a refused connection or a failed handshake does not."""

    def __init__(self, nodes, mds):
        self.targets = [(n, md) for n in nodes for md in mds]
        self.failures = []
        self.answers = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self.stopping.is_set():
            for n, md in self.targets:
                try:
                    n.https_get(md, timeout=5)
                    self.answers += 1
                except Exception as e:           # noqa: BLE001 -- every failure is the finding
                    self.failures.append(f"{n.name} {md}: {e}")
            time.sleep(0.2)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        self.thread.join(timeout=30)


def test_0557_etcd_restarted_during_renewals(etcd, apache_factory, balancer, farm_key, domain):
    """etcd is stopped while the farm renews its MDs (a new farm, three MDs) and started
    again 5 s later on its data. Every node answers HTTPS all along, the renewals go on
    once etcd is back, and every node ends up serving the same certificate of every MD."""
    mds = [f"r{i}.{domain}" for i in range(3)]
    nodes = _nodes(apache_factory, etcd, farm_key, mds, options="lock-ttl=6")
    for n in nodes:
        # an outage in the middle of a renewal: said, the renewal dropped and done again
        n.expect_log(r"MD176[1257]: |MD177[01]: |MD1102: ")
    balancer(nodes)
    for n in nodes:
        n.start()
    with _Prober(nodes, mds) as prober:
        wait_until(lambda: _count(nodes, r"MD1772: ") >= 1, 120, interval=0.1, what="a first set published")
        etcd.restart(down=5)
        _settled(nodes, mds, timeout=180)
    assert not prober.failures, prober.failures[:5]
    assert prober.answers > 0
    for n in nodes:                     # each saw the outage and its end
        assert n.log_lines(r"MD1764: "), f"{n.name} never said etcd answers again"
    for md in mds:
        assert etcd.ctl("get", "--print-value-only", f"/md/gen/{md}").strip() != b"", md


AT_REST_SECONDS = 60


def test_0558_engine_requests_at_rest(etcd, apache_factory, balancer, farm_key, domain):
    """Three nodes with five MDs at rest: the watch adds at most one full read and one watch
    per node in 60 seconds to what the watchdog's look for status makes (a read every 5
    seconds and a keep-alive of the node's record every 30), and nothing else. The figures
    per node and day are printed (docs/farm.md quotes them)."""
    mds = [f"q{i}.{domain}" for i in range(5)]
    nodes = _nodes(apache_factory, etcd, farm_key, mds)
    balancer(nodes)
    for n in nodes:
        n.start()
    _settled(nodes, mds)
    time.sleep(5)                       # the last pulls' reads are done
    before = etcd.grpc_counts()
    time.sleep(AT_REST_SECONDS)
    after = etcd.grpc_counts()
    delta = {m: after.get(m, 0) - before.get(m, 0) for m in after}
    delta = {m: d for m, d in delta.items() if d}
    per_node_day = {m: round(d / NODES * 86400 / AT_REST_SECONDS) for m, d in delta.items()}
    print(f"\nengine requests at rest over {AT_REST_SECONDS} s, {NODES} nodes, {len(mds)} MDs: {delta}; "
          f"per node and day: {per_node_day}, {sum(per_node_day.values())} in all")
    looks = AT_REST_SECONDS // 5 + 1
    assert delta.get("Watch", 0) <= NODES, delta
    assert delta.get("Range", 0) <= NODES * (looks + 1), delta
    assert set(delta) <= {"Range", "Watch", "LeaseKeepAlive"}, delta
