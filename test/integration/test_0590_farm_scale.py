# SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors.
"""0590: a farm on a three-member etcd cluster: members failing, no quorum, and many MDs.

`MDStore etcd URL,URL,URL` names every member; a node whose member does not answer (or
answers "unavailable") asks the next. What a user sees: a member down changes nothing;
without quorum the nodes keep serving what they have, renew nothing and say why, and
catch up once the quorum is back; three nodes with many new MDs make one order per MD
and serve the same certificates, without a storm of requests on the engine.
"""
import os
import re
import ssl
import time

import pytest

from mdtest.farm import HAPROXY_BIN, ETCD_BIN
from mdtest.ports import free_ports
from mdtest.procs import wait_until

pytestmark = pytest.mark.skipif(not (os.path.exists(ETCD_BIN) and os.path.exists(HAPROXY_BIN)),
                                reason="etcd-server and haproxy are not installed (.ci/run installs them)")

NODES = 3
SCALE_MDS = int(os.environ.get("MDTEST_FARM_MDS", "200"))


@pytest.fixture
def always_valid(pebble):
    """The shared Pebble without validation, where validation is not what is tested
    (the harness restarts it with its defaults after the test). The restart also empties
    its memory: Pebble 2.4 deadlocks under many concurrent orders once it holds about a
    thousand authorizations (bench/farm_bench.py), which 3 x 200 MDs stay well below."""
    pebble.restart(env={"PEBBLE_VA_ALWAYS_VALID": "1"})
    return pebble


def _nodes(apache_factory, cluster, farm_key, mds, options="", extra=""):
    nodes = []
    for i in range(NODES):
        http, https, ctrl = free_ports(3)
        node = apache_factory(f"n{i}", http_port=http, https_port=https, ctrl_port=ctrl)
        node.add(f"MDStore etcd {cluster.url} farm-key={farm_key} node=n{i} {options}")
        node.add_ec_mds(mds, extra)
        nodes.append(node)
    return nodes


def _count(nodes, regex):
    return sum(len(n.log_lines(regex)) for n in nodes)


def _serials(nodes, md):
    """The serial each node serves for the MD (None: not a certificate of the CA)."""
    found = []
    for n in nodes:
        try:
            found.append(n.verify_cert(md).serial_number)
        except ssl.SSLError:
            found.append(None)
    return found


def _same_everywhere(nodes, mds):
    for md in mds:
        s = _serials(nodes, md)
        if None in s or len(set(s)) != 1:
            return False
    return True


def _one_order_each(nodes, mds):
    for md in mds:
        name = re.escape(md)
        assert _count(nodes, rf"MD1101: {name}: ") == 1, f"{md}: ordered by exactly one node"
        assert _count(nodes, rf"MD1772: {name}: published generation 1 ") == 1, md


def test_0590_member_down(cluster, apache_factory, balancer, farm_key, domain):
    """Three nodes on a three-member cluster issue new MDs (the CA validates through the
    balancer: answers come from etcd); the member every node asks first stops meanwhile.
    Nothing changes: the nodes go on with the other members, one order per MD, the same
    certificate everywhere, no node says the engine cannot be reached."""
    mds = [f"m{i}.{domain}" for i in range(4)]
    nodes = _nodes(apache_factory, cluster, farm_key, mds)
    balancer(nodes)
    for n in nodes:
        n.start()
    # 1. the first member goes while the renewals run (they start once the nodes answer)
    cluster.stop_member(0)
    for n in nodes:
        for md in mds:
            n.wait_for_cert(md, cert_file="pubcert.secp256r1.pem", timeout=120)
    _one_order_each(nodes, mds)
    wait_until(lambda: _same_everywhere(nodes, mds), 30, interval=0.5,
               what="every node serving the farm's certificates")
    assert _count(nodes, r"MD1760: etcd at "), "no node went past the stopped member"
    assert not _count(nodes, r"MD1765: "), "a node found the engine unreachable with 2 of 3 members"
    # 2. back: it catches up with the others; then another member goes, and the nodes
    #    still pull and serve (a graceful restart reads the farm at start)
    cluster.start_member(0)
    cluster.stop_member(2)
    for n in nodes:
        n.graceful()
    assert _same_everywhere(nodes, mds)
    assert not _count(nodes, r"MD1765: ")


def test_0591_no_quorum(cluster, apache_factory, farm_key, domain, always_valid):
    """Two of three members stop while new MDs are due (added, and a graceful restart):
    no node renews them, every node keeps serving the MDs it has, and the log says why
    (MD1765, once per process). The members start again: the new MDs are issued once
    each and every node serves the same certificates; the old ones are unchanged."""
    old = [f"a{i}.{domain}" for i in range(2)]
    new = [f"b{i}.{domain}" for i in range(2)]
    nodes = _nodes(apache_factory, cluster, farm_key, old, extra="MDRetryDelay 5s")
    for n in nodes:
        n.expect_log(r"MD1765: the farm's etcd \(MDStore at \S+\): etcd at http://127.0.0.1:\d+ "
                     r"(is unavailable \(no quorum\?\)|cannot be reached); this node serves")
        n.start()
    for n in nodes:
        for md in old:
            n.wait_for_cert(md, cert_file="pubcert.secp256r1.pem", timeout=90)
    wait_until(lambda: _same_everywhere(nodes, old), 30, interval=0.5, what="the old MDs served")
    served = {md: _serials(nodes, md)[0] for md in old}
    # 1. no quorum; the new MDs come with a graceful restart
    cluster.stop_member(1)
    cluster.stop_member(2)
    for n in nodes:
        n.add("\n".join(f"MDomain {md}\nMDCAChallenges http-01" for md in new))
        for md in new:
            n.add_vhost(md)
        n.graceful(timeout=60)
    for n in nodes:
        n.wait_for_log(r"MD1765: ", timeout=30)
    time.sleep(12)                          # two retries (MDRetryDelay 5s) and more
    assert not _count(nodes, r"MD1101: b"), "renewed without the farm's lock"
    for md in new:
        assert not any(os.path.exists(n.store_path("staging", md, "pubcert.secp256r1.pem"))
                       for n in nodes)
        assert all(n.https_get(md).status == 503 for n in nodes), "a new MD served without a certificate?"
    assert {md: _serials(nodes, md) for md in old} == {md: [s] * NODES for md, s in served.items()}
    # 2. the quorum is back: every node says so and the new MDs are issued, once each
    cluster.start_member(1, healthy=False)
    cluster.start_member(2, healthy=False)
    cluster.wait_healthy()
    for n in nodes:
        n.wait_for_log(r"MD1764: ", timeout=30)
        for md in new:
            n.wait_for_cert(md, cert_file="pubcert.secp256r1.pem", timeout=90)
    _one_order_each(nodes, new)
    wait_until(lambda: _same_everywhere(nodes, new), 30, interval=0.5, what="the new MDs served")
    assert {md: _serials(nodes, md) for md in old} == {md: [s] * NODES for md, s in served.items()}


def _rate(before, after, seconds, methods):
    return {m: (after.get(m, 0) - before.get(m, 0)) * 60.0 / seconds for m in methods}


METHODS = ("Range", "Txn", "Put", "LeaseGrant", "LeaseKeepAlive", "LeaseRevoke")


def test_0592_many_mds(cluster, apache_factory, farm_key, always_valid):
    """Three nodes start cold with SCALE_MDS new MDs each (the same ones). Each MD is
    ordered once and served alike everywhere, and the engine sees no pile-up on locks:
    a node tries an MD's lock once per look and a look at a busy lock comes back only
    after MDRetryDelay (or when the watch sees the set published), so lock attempts stay
    within MDs x nodes; at rest the requests are the looks (one range a node every 5
    seconds) and the nodes' records, whatever the number of MDs. Runs in about a minute with 200 MDs
    (MDTEST_FARM_MDS sets another number)."""
    mds = [f"s{i}.farm-scale.test" for i in range(SCALE_MDS)]
    nodes = _nodes(apache_factory, cluster, farm_key, mds)
    for n in nodes:
        n.log_level = "info"                # 3 x 200 MDs at trace2 is a lot of log
    before = cluster.requests()
    t0 = time.monotonic()
    for n in nodes:
        n.start(timeout=120)
    for n in nodes:
        for md in mds:
            n.wait_for_cert(md, cert_file="pubcert.secp256r1.pem", timeout=240)
    wait_until(lambda: _same_everywhere(nodes, mds), 60, interval=1, what="every node serving alike")
    run = time.monotonic() - t0
    during = cluster.requests()
    _one_order_each(nodes, mds)
    # at rest: the 5-second looks and the nodes' records only
    time.sleep(30)
    rest = cluster.requests()
    run_rate = _rate(before, during, run, METHODS)
    rest_rate = _rate(during, rest, 30, METHODS)
    used = {m: during.get(m, 0) - before.get(m, 0) for m in METHODS}
    print(f"\n{SCALE_MDS} MDs x {NODES} nodes: all served alike after {run:.1f} s; engine requests "
          f"during the run {used} (per minute {({m: round(v) for m, v in run_rate.items()})}), "
          f"at rest per minute {({m: round(v) for m, v in rest_rate.items()})}")
    # What the design allows (docs/farm.md, "What etcd holds"):
    # - a lock try reads the lock key first: a held lock costs that read and nothing else.
    #   Only a try that found it free grants a lease, makes the lock transaction, reads it
    #   back and revokes the lease at the end; two nodes racing between the read and the
    #   transaction both write, rarely. Besides the locks: an http-01 answer a lease and a
    #   put, one per MD here; each node's record a lease (and the farm account's lock one).
    granted = used["LeaseGrant"] - SCALE_MDS - NODES
    assert SCALE_MDS <= granted <= SCALE_MDS * 1.25, f"lock tries write beyond the free locks: {used}"
    # - transactions: one per granted try, and per MD the order's, the answers' removal, the
    #   publish; the farm's one account: its lock and its publish (a node at most one of each)
    assert used["Txn"] <= granted + 3 * SCALE_MDS + 2 * NODES, f"transactions beyond the design: {used}"
    # - reads: the holder 8 (its look at the generation, the lock's read and read back, the
    #   order left, the check under the lock, the order at the challenge, the generation and
    #   the files it publishes over), each other node 2 (the generation, the set), a lost
    #   try 2 (the look, the lock); a node tries an MD's lock once per look, and a busy lock
    #   is looked at again only after MDRetryDelay (30 s) or when the watch hears of the
    #   set: at most MDs x (nodes - 1) lost tries per 30 s of the run. And the 5-second
    #   looks and a full read per node for the watch.
    rounds = 1 + int(run // 30)
    lost_max = SCALE_MDS * (NODES - 1) * rounds
    polls = NODES * (1 + run / 5) + NODES
    reads = SCALE_MDS * (8 + 2 * (NODES - 1)) + 2 * lost_max + polls
    assert used["Range"] <= reads * 1.1, f"{used['Range']} reads, the design says at most {reads:.0f}"
    # at rest: one range per node every 5 s (12 a minute) and the nodes' records (a lease
    # keep-alive every 30 s), nothing per MD
    assert rest_rate["Range"] <= NODES * 12 * 1.25, rest_rate
    assert rest_rate["LeaseKeepAlive"] <= NODES * 2 * 1.5, rest_rate
    assert rest_rate["Put"] <= NODES * 2 * 1.5, rest_rate
    assert sum(v for m, v in rest_rate.items() if m not in ("Range", "LeaseKeepAlive", "Put")) == 0, rest_rate


def test_0593_published_while_waiting(cluster, apache_factory, balancer, farm_key, domain):
    """Nodes that found an MD's lock taken look again soon (MDRetryDelay 1s), at times
    before they heard of the set published (the watch, or the 5-second look): some find it
    under the lock, and every child serves it within seconds, as a set pulled (MDActivation
    live; a set found this way stayed unserved until a restart)."""
    mds = [f"m{i}.{domain}" for i in range(4)]
    nodes = _nodes(apache_factory, cluster, farm_key, mds, extra="MDRetryDelay 1s")
    balancer(nodes)
    for n in nodes:
        n.start()
    for n in nodes:
        for md in mds:
            n.wait_for_cert(md, cert_file="pubcert.secp256r1.pem", timeout=120)
    _one_order_each(nodes, mds)
    wait_until(lambda: _same_everywhere(nodes, mds), 15, interval=0.5,
               what="every node serving the farm's certificates, without a restart")
