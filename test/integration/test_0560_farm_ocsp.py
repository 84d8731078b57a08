# SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors.
"""0560: what a farm does once for all its nodes besides renewing (docs/farm.md).

Three Apache nodes share their MDs through etcd, haproxy in front of their http ports
(as in test_0550), each with its own Pebble of the test, so that what Pebble and the OCSP
responder see is this farm's alone:

- OCSP stapling: the responder sees one request per certificate and refresh for the
  whole farm (counted by a front that reads each request's serial number), and every
  node staples the response;
- ACME accounts: the nodes end up with one account at the CA, registered by one node
  and taken by the others.
"""
import glob
import json
import os
import re

import pytest

from mdtest.farm import ETCD_BIN, HAPROXY_BIN
from mdtest.ocsp import OcspCounter, OcspResponder, staple_status
from mdtest.ports import free_ports
from mdtest.procs import wait_until
from mdtest import tlsclient
from test_0550_farm import NODES

pytestmark = pytest.mark.skipif(not (os.path.exists(ETCD_BIN) and os.path.exists(HAPROXY_BIN)),
                                reason="etcd-server and haproxy are not installed (.ci/run installs them)")

# responses valid a minute; a window of 40 s makes the farm fetch again 20 s after
# each thisUpdate: a refresh is due on every node at about the same moment
NEXT_UPDATE_MIN = 1
RENEW_WINDOW = "40s"
REFRESH_SEC = 20


def _farm(apache_factory, etcd, farm_key, ca, mds, extra="", own=None):
    """Three nodes with the MDs mds. With own, node i also has a site own[i] of its own:
    the other nodes name that MD without a virtual host using it (so they do not renew
    it, but answer the CA's http-01 requests for it from the farm)."""
    nodes = []
    for i in range(NODES):
        http, https, ctrl = free_ports(3)
        node = apache_factory(f"n{i}", ca=ca, http_port=http, https_port=https, ctrl_port=ctrl)
        node.add(f"MDStore etcd {etcd.url} farm-key={farm_key} prefix=/md/ node=n{i}")
        node.add(extra)
        for md in mds + (own or []):
            node.add(f"MDomain {md}\nMDCAChallenges http-01")
        for md in mds + ([own[i]] if own else []):
            node.add_vhost(md)
        nodes.append(node)
    return nodes


def _account_urls(node):
    urls = set()
    for path in glob.glob(node.store_path("accounts", "*", "account.json")):
        with open(path) as f:
            urls.add(json.load(f)["url"])
    return urls


def _staged_cert(node, md):
    with open(node.store_path("staging", md, "pubcert.pem"), "rb") as f:
        return tlsclient.load_pem_certs(f.read())[0]


def _ocsp_json(node, md):
    files = glob.glob(node.store_path("ocsp", md, "ocsp-*.json"))
    if len(files) != 1:
        return None
    with open(files[0]) as f:
        return json.load(f)


def test_0560_farm_one_account_per_ca(etcd, apache_factory, pebble_factory, balancer, farm_key, domain):
    """A cold start of three nodes without accounts, MDs of the farm and one site of each
    node's own (so that every node orders something): one account at the CA for all of
    them, registered by one node, taken by the others."""
    ca = pebble_factory()
    mds = [f"a{i}.{domain}" for i in range(3)]
    own = [f"own{i}.{domain}" for i in range(NODES)]
    nodes = _farm(apache_factory, etcd, farm_key, ca, mds, own=own)
    balancer(nodes)
    for n in nodes:
        n.start()
    for i, n in enumerate(nodes):
        for md in mds + [own[i]]:
            n.wait_for_cert(md, timeout=120)
    # 1. every node ordered (its own site at least), all as one account
    for i, n in enumerate(nodes):
        assert n.log_lines(rf"MD1101: {re.escape(own[i])}: "), f"{n.name} did not order its site"
    urls = set().union(*(_account_urls(n) for n in nodes))
    assert len(urls) == 1, f"accounts at the CA: {urls}"
    for n in nodes:
        assert _account_urls(n) == urls
    # 2. registered by one node and published once, taken by the two others
    published = [n for n in nodes if n.log_lines(r"MD1780: the account at .*: a new one, published")]
    assert len(published) == 1, [n.name for n in published]
    taken = sum(len(n.log_lines(r"MD1780: the account at .*: the farm's is used")) for n in nodes)
    assert taken == NODES - 1
    # 3. the CA registered one account (Pebble says how many it holds after each)
    assert re.findall(r"There are now (\d+) accounts in memory", ca.log_text()) == ["1"]
    # 4. etcd holds the account, its key sealed
    dump = etcd.ctl("get", "--prefix", "/md/accounts/")
    assert urls.pop().encode() in dump
    assert b"PRIVATE KEY" not in dump


def test_0561_farm_one_ocsp_fetch_per_refresh(etcd, apache_factory, pebble_factory, balancer, farm_key,
                                              env, domain):
    """Three stapling nodes, a slow responder: it sees one request per certificate at the
    first fetch and at the refresh, not one per node (the nodes due meanwhile find the
    certificate's farm lock held and look again); every node staples a good response,
    the one the farm fetched last."""
    responder = OcspResponder(env.run_dir, f"ocsp-{domain}", free_ports(1)[0],
                              next_update_min=NEXT_UPDATE_MIN)
    # a responder taking its time: the other nodes come while one node fetches
    counter = OcspCounter(responder.url, delay=1.5).start()
    try:
        _ocsp_farm(etcd, apache_factory, pebble_factory, balancer, farm_key, responder, counter, domain)
    finally:
        counter.stop()
        responder.stop()


def _ocsp_farm(etcd, apache_factory, pebble_factory, balancer, farm_key, responder, counter, domain):
    ca = pebble_factory(config={"ocspResponderURL": counter.url})
    responder.set_issuer(ca)
    mds = [f"o{i}.{domain}" for i in range(2)]
    # sets go live at the graceful restart below, once the responder knows them
    nodes = _farm(apache_factory, etcd, farm_key, ca, mds,
                  extra=f"MDActivation restart\nMDStapling on\nMDStaplingRenewWindow {RENEW_WINDOW}")
    for n in nodes:
        n.add_status_vhost()
    balancer(nodes)
    for n in nodes:
        n.start()
    for n in nodes:
        for md in mds:
            n.wait_for_cert(md, timeout=120)
    certs = {md: _staged_cert(nodes[0], md) for md in mds}
    for md, cert in certs.items():
        assert all(_staged_cert(n, md).serial_number == cert.serial_number for n in nodes)
        responder.add(cert)
    responder.start()
    for n in nodes:
        n.graceful()

    # 1. the first fetch: every node staples, the responder saw one request per certificate
    def all_stapled():
        return all(staple_status(n.https_port, md) == "good" for n in nodes for md in mds)
    wait_until(all_stapled, 30, interval=0.5, what="every node stapling a good response")
    for md, cert in certs.items():
        assert len(counter.requests(cert.serial_number)) == 1, (md, counter.requests())
    first = {md: _ocsp_json(nodes[0], md)["valid"]["from"] for md in mds}
    fetched = sum(len(n.log_lines(r"MD1777: .* fetched for the farm and published")) for n in nodes)
    taken = sum(len(n.log_lines(r"MD1777: .* taken from the farm, fetched by n\d")) for n in nodes)
    assert fetched == len(mds) and taken == len(mds) * (NODES - 1), (fetched, taken)

    # 2. the refresh, due on every node at about the same moment: again one request each,
    #    and every node has the new response (the same thisUpdate everywhere)
    def refreshed():
        for md in mds:
            froms = {(_ocsp_json(n, md) or {}).get("valid", {}).get("from") for n in nodes}
            if len(froms) != 1 or froms == {first[md]}:
                return False
        return True
    wait_until(refreshed, REFRESH_SEC + 25, interval=0.5, what="the refreshed response on every node")
    for md, cert in certs.items():
        asked = counter.requests(cert.serial_number)
        assert len(asked) == 2, f"{md}: {len(asked)} requests for 2 fetches: {asked}"
        assert asked[1][0] - asked[0][0] >= REFRESH_SEC - 2
    assert all_stapled()
    busy = sum(len(n.log_lines(r"MD1778: .* is being fetched by n\d")) for n in nodes)
    print(f"looks at a busy certificate lock: {busy}")
    assert busy > 0, "the nodes were never due while another fetched: the lock was not tried"
    # 3. md-status (within a second or two) and the OCSP job say which node fetched it
    fetcher = {md: _ocsp_json(nodes[0], md)["fetched-by"] for md in mds}

    def status_names_fetcher():
        for n in nodes:
            for md in mds:
                ocsp = [c["ocsp"] for c in n.md_status(md)["cert"].values()
                        if isinstance(c, dict) and "ocsp" in c]
                if not ocsp or ocsp[0]["status"] != "good" or ocsp[0].get("fetched-by") != fetcher[md]:
                    return False
        return True
    wait_until(status_names_fetcher, 5, interval=0.5, what="md-status naming the node that fetched")
    job = json.load(open(nodes[1].store_path("ocsp", mds[0], "job.json")))
    assert re.search(r"good, fetched by n\d", json.dumps(job)), job
    # 4. the farm's copy in etcd is the response, no secret
    dump = etcd.ctl("get", "--prefix", "/md/ocsp/")
    assert b'"fetched-by"' in dump and b"PRIVATE KEY" not in dump

    # 5. etcd gone: at the next refresh every node fetches alone and staples on
    for n in nodes:
        n.expect_log(r"MD1765: the farm's etcd")
        n.expect_log(r"MD1779: .* fetched alone: the farm's etcd did not answer", required=True)
    etcd.stop()
    before = {md: len(counter.requests(cert.serial_number)) for md, cert in certs.items()}
    wait_until(lambda: all(len(n.log_lines(r"MD1779: .* fetched alone")) == len(mds) for n in nodes),
               REFRESH_SEC + 25, interval=0.5, what="every node fetching alone")
    for md, cert in certs.items():
        assert len(counter.requests(cert.serial_number)) - before[md] == NODES
    assert all_stapled()
