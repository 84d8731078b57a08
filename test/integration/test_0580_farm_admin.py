# SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors.
"""0580: the farm as an administrator sees it (docs/farm.md, "Status and metrics" and
"Moving a server into a farm and back").

md-status, server-status and the metrics of every node show the same farm generation
of each MD and the nodes with what each serves; a node whose etcd is gone says so;
`mdctl farm status` lists what etcd holds; `mdctl farm push` moves a single server's
certificates into a farm, and `mdctl farm pull` brings them back into a file store.
"""
import json
import os
import re
import ssl
import subprocess

import pytest

from mdtest.env import MDCTL
from mdtest.farm import HAPROXY_BIN, ETCD_BIN
from mdtest.ports import free_ports
from mdtest.procs import wait_until

pytestmark = pytest.mark.skipif(not (os.path.exists(ETCD_BIN) and os.path.exists(HAPROXY_BIN)),
                                reason="etcd-server and haproxy are not installed (.ci/run installs them)")


def _node(apache_factory, name, etcd, farm_key, mds, store=True, own_ports=True):
    """A node on ports of its own (behind a balancer), or on the ports the CA validates."""
    if own_ports:
        http, https, ctrl = free_ports(3)
        node = apache_factory(name, http_port=http, https_port=https, ctrl_port=ctrl)
    else:
        node = apache_factory(name)
    if store:
        node.add(f"MDStore etcd {etcd.url} farm-key={farm_key} node={name}")
    for md in mds:
        node.add(f"MDomain {md}\nMDCAChallenges http-01")
        node.add_vhost(md)
    node.add_status_vhost()
    return node


def _metrics(node):
    r = node.status_get("/metrics")
    assert r.status == 200, r.status_line
    return r.text


def _metric(text, name, **labels):
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    for line in text.splitlines():
        if line.startswith(name + ("{" + want + "}" if want else " ")):
            return float(line.rsplit(" ", 1)[1])
    return None


def mdctl(*args, check=True):
    r = subprocess.run([MDCTL, *args], capture_output=True, text=True, timeout=120)
    if check:
        assert r.returncode == 0, f"mdctl {' '.join(args)}: {r.returncode}\n{r.stdout}\n{r.stderr}"
    return r


def _serial_hex(node, md):
    return format(node.verify_cert(md).serial_number, "X")


def test_0580_status_shows_the_farm(etcd, apache_factory, balancer, farm_key, domain):
    """Three nodes: md-status, server-status and metrics of each show the farm's
    generation of the MD, the same on every node, and the three nodes serving it; a
    node whose etcd is stopped then says unreachable in its status and metrics."""
    md = f"v.{domain}"
    nodes = [_node(apache_factory, f"n{i}", etcd, farm_key, [md]) for i in range(3)]
    balancer(nodes)
    for n in nodes:
        n.start()
    for n in nodes:
        n.wait_for_cert(md, timeout=120)

    # 1. every node's md-status: the farm's generation 1, its own 1, three nodes serving 1
    def farm_settled(n):
        st = n.md_status()
        farm = st.get("farm") or {}
        entry = next((m for m in st["managed-domains"] if m["name"] == md), {})
        f = entry.get("farm") or {}
        return (farm.get("engine", {}).get("reachable") is True and f.get("generation") == 1
                and f.get("local-generation") == 1 and f.get("nodes") == {"n0": 1, "n1": 1, "n2": 1}
                and sorted(x["node"] for x in farm.get("nodes", [])) == ["n0", "n1", "n2"]) and st
    for i, n in enumerate(nodes):
        try:
            st = wait_until(lambda: farm_settled(n), 60, interval=0.5, what=f"n{i}'s md-status farm view")
        except TimeoutError:
            raise AssertionError(json.dumps(n.md_status(), indent=1)) from None
        assert st["farm"]["store"] == "etcd" and st["farm"]["node"] == f"n{i}"
        assert "since" in st["farm"]["engine"]
        one = n.md_status(md)
        assert one["farm"]["generation"] == 1
    # 2. the metrics say the same
    for n in nodes:
        text = _metrics(n)
        assert _metric(text, "mod_md_farm_engine_up") == 1
        assert _metric(text, "mod_md_farm_generation", md=md) == 1
        assert _metric(text, "mod_md_farm_local_generation", md=md) == 1
        assert _metric(text, "mod_md_farm_nodes") == 3
        for k in range(3):
            assert _metric(text, "mod_md_farm_node_generation", node=f"n{k}", md=md) == 1
    # 3. server-status ?auto
    auto = nodes[1].server_status("auto")
    assert "FarmEngine: reachable" in auto and "FarmNodes: 3" in auto
    assert re.search(rf"FarmDomain\[\d+\]Name: {re.escape(md)}\nFarmDomain\[\d+\]Generation: 1\n", auto)
    html = nodes[1].server_status("")
    assert "<h3>Farm</h3>" in html and "This node: n1; etcd reachable" in html
    assert re.search(rf"<td>{re.escape(md)}</td><td>1</td><td>1</td><td></td><td>n0=1, n1=1, n2=1</td>", html), html
    # 4. the engine goes away: every node says so (and serves on)
    for n in nodes:
        n.expect_log(r"MD1765: |MD1786: ")
    serial = nodes[0].verify_cert(md).serial_number
    etcd.proc.stop()
    for i, n in enumerate(nodes):
        wait_until(lambda: n.md_status()["farm"]["engine"]["reachable"] is False, 30, interval=0.5,
                   what=f"n{i} saying etcd is unreachable")
        st = n.md_status()
        assert st["farm"]["engine"].get("error"), st["farm"]
        # what the farm held when it last answered is still shown
        entry = next(m for m in st["managed-domains"] if m["name"] == md)
        assert entry["farm"]["generation"] == 1
        text = _metrics(n)
        assert _metric(text, "mod_md_farm_engine_up") == 0
        assert "FarmEngine: unreachable" in n.server_status("auto")
    assert nodes[0].verify_cert(md).serial_number == serial
    # mdctl says so too, naming the MDStore line
    r = mdctl("-f", nodes[0].conf_path, "farm", "status", check=False)
    assert r.returncode == 1 and "etcd cannot be read" in r.stderr and "MDStore at " in r.stderr, r.stderr


def test_0581_push_a_single_server_into_a_farm(etcd, apache_factory, farm_key, domain):
    """A single server with its certificate: `mdctl farm push` publishes it; a new node
    with an empty store pulls it and serves the same certificate without ordering one;
    `mdctl farm status` lists the MD with that serial and the nodes."""
    md = f"p.{domain}"
    single = _node(apache_factory, "single", etcd, farm_key, [md], store=False, own_ports=False)
    single.start()
    single.wait_for_cert(md)
    single.graceful()
    serial = _serial_hex(single, md)
    # 1. the server becomes a node: MDStore etcd in its configuration, then the push
    single.add(f"MDStore etcd {etcd.url} farm-key={farm_key} node=single")
    single.write_config()
    r = mdctl("-f", single.conf_path, "farm", "push")
    assert re.search(rf"^{re.escape(md)}: published generation 1 ", r.stdout, re.M), r.stdout
    # its account goes too: the farm's account at the CA, so no node registers another
    assert re.search(r"^account \S+: published as the farm's account at ", r.stdout, re.M), r.stdout
    assert etcd.ctl("get", "--prefix", "--keys-only", "/md/accounts/").strip(), "no account in etcd"
    # written as the server writes it: its watchdog records the next generations there
    gen_file = single.store_path("locks", "farm", f"{md}.gen")
    assert os.stat(gen_file).st_uid == os.stat(single.store_path("staging")).st_uid
    assert os.stat(os.path.dirname(gen_file)).st_uid == os.stat(single.store_path("staging")).st_uid
    # pushing again would replace the farm's set: refused without --force
    again = mdctl("-f", single.conf_path, "farm", "push", md, check=False)
    assert again.returncode == 1 and "generation 1" in again.stderr
    # no key in clear in the engine
    assert b"PRIVATE KEY" not in etcd.ctl("get", "--prefix", "/md/")
    # 2. a second node, empty store: pulls the set and serves it, orders nothing
    second = _node(apache_factory, "second", etcd, farm_key, [md])
    second.start()
    second.wait_for_log(rf"MD1768: {re.escape(md)}: pulled generation 1 ", timeout=60)
    wait_until(lambda: _cert_or_none(second, md) == serial, 30, interval=0.5,
               what="the second node serving the pushed certificate")
    assert not second.log_lines(rf"MD1101: {re.escape(md)}: "), "the second node ordered a certificate"
    # 3. the single server restarts as a node: it has generation 1 already, pulls nothing
    single.graceful()
    assert _serial_hex(single, md) == serial

    def single_has_it():
        entry = next(m for m in single.md_status()["managed-domains"] if m["name"] == md)
        return entry.get("farm", {}).get("local-generation") == 1
    wait_until(single_has_it, 30, interval=0.5, what="the former single server having generation 1")
    assert not single.log_lines(rf"MD1768: {re.escape(md)}: "), "the server pulled its own set back"
    # 4. mdctl farm status: the MD, its generation and serial; the nodes
    def listed():
        st = json.loads(mdctl("-f", second.conf_path, "farm", "status", "--json").stdout)
        nodes = {n["node"]: n.get("serves", {}) for n in st["nodes"]}
        return st if nodes.get("second", {}).get(md) == 1 and nodes.get("single", {}).get(md) == 1 else None
    st = wait_until(listed, 30, interval=1, what="both nodes in mdctl farm status")
    assert st["mds"][md]["generation"] == 1
    assert [int(c["serial"], 16) for c in st["mds"][md]["certificates"]] == [int(serial, 16)]
    assert st["mds"][md]["certificates"][0]["valid-until"]
    text = mdctl("-f", second.conf_path, "farm", "status").stdout
    assert re.search(rf"^{re.escape(md)}\s+1\s+.*\s0*{serial}\s", text, re.M), text
    assert re.search(r"^second\s+.*=1", text, re.M), text


def _cert_or_none(node, md):
    try:
        return _serial_hex(node, md)
    except (ssl.SSLError, OSError):
        return None


def test_0582_pull_back_into_a_file_store(etcd, apache_factory, balancer, farm_key, domain):
    """A farm node's certificate, `mdctl farm pull` into an empty store, then a server
    with a plain file store (MDStore file) starts from it and serves that certificate
    without ordering one."""
    md = f"b.{domain}"
    node = _node(apache_factory, "node", etcd, farm_key, [md])
    balancer([node])
    node.start()
    node.wait_for_cert(md, timeout=120)
    node.wait_for_log(rf"MD1772: {re.escape(md)}: published generation 1 ")
    serial = wait_until(lambda: _cert_or_none(node, md), 30, interval=0.5, what="the node serving")
    # 1. an empty store, its configuration still naming the farm: the pull
    leaving = _node(apache_factory, "leaving", etcd, farm_key, [md])
    os.makedirs(leaving.store_dir)
    leaving.write_config()
    r = mdctl("-f", leaving.conf_path, "farm", "pull")
    assert re.search(rf"^{re.escape(md)}: generation 1 staged in ", r.stdout, re.M), r.stdout
    assert os.path.exists(leaving.store_path("staging", md, "pubcert.pem"))
    # 2. without the farm: a file store the server starts from and serves
    leaving.clear_config()
    leaving.add(f"MDomain {md}\nMDCAChallenges http-01")
    leaving.add_vhost(md)
    leaving.start()
    wait_until(lambda: _cert_or_none(leaving, md) == serial, 30, interval=0.5,
               what="the server serving the pulled certificate")
    assert os.path.exists(leaving.store_path("domains", md, "pubcert.pem"))
    assert not leaving.log_lines(rf"MD1101: {re.escape(md)}: "), "the server ordered a certificate"


def test_0583_a_stopped_node_leaves_the_list(etcd, apache_factory, balancer, farm_key, domain):
    """A node that stops (or dies) stops refreshing its record's lease: within its 90
    seconds it is gone from the other nodes' status and metrics."""
    md = f"d.{domain}"
    nodes = [_node(apache_factory, f"n{i}", etcd, farm_key, [md]) for i in range(2)]
    balancer(nodes)
    for n in nodes:
        n.start()

    def listed():
        return sorted(x["node"] for x in (nodes[0].md_status().get("farm") or {}).get("nodes", []))
    wait_until(lambda: listed() == ["n0", "n1"], 60, interval=0.5, what="both nodes listed")
    nodes[1].stop()
    wait_until(lambda: listed() == ["n0"], 120, interval=2, what="the stopped node gone from the list")
    assert _metric(_metrics(nodes[0]), "mod_md_farm_nodes") == 1
