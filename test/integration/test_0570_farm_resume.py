# SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors.
"""0570: a farm's renewals across nodes (docs/farm.md): tls-alpn-01 answered by any node,
dns-01 records of a dead holder's order removed by the node that finished it.

Three Apache nodes share their MDs through etcd; haproxy in tcp mode balances the
https port Pebble validates tls-alpn-01 against over the nodes' https ports, round
robin. What a user sees: the farm gets its certificates with tls-alpn-01 although the
CA's handshakes land on nodes that did not order (each makes its own challenge
certificate from the key authorization in etcd: no key leaves a node), and a name that
is not an MD's gets no challenge certificate. (The order a dead node started, finished
by another: test_0553 in test_0550_farm.py; here with dns-01.)
"""
import hashlib
import json
import os
import re
import subprocess

import pytest
from cryptography import x509

from mdtest.farm import answers_for_others, HAProxy, HAPROXY_BIN, ETCD_BIN
from mdtest.ports import free_ports

pytestmark = pytest.mark.skipif(not (os.path.exists(ETCD_BIN) and os.path.exists(HAPROXY_BIN)),
                                reason="etcd-server and haproxy are not installed (.ci/run installs them)")

NODES = 3
ACME_IDENTIFIER = x509.ObjectIdentifier("1.3.6.1.5.5.7.1.31")     # RFC 8737
DNS01_PROGRAM = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dns01_challtestsrv.py")


def _alpn_nodes(apache_factory, etcd, farm_key, mds):
    """Nodes that renew with tls-alpn-01 only: port 80 is not reachable from the CA."""
    nodes = []
    for i in range(NODES):
        http, https, ctrl = free_ports(3)
        node = apache_factory(f"n{i}", http_port=http, https_port=https, ctrl_port=ctrl)
        node.port_map = f"http:- https:{https}"
        node.add(f"MDStore etcd {etcd.url} farm-key={farm_key} prefix=/md/ node=n{i}")
        for md in mds:
            node.add(f"MDomain {md}\nMDCAChallenges tls-alpn-01")
            node.add_vhost(md, extra="Protocols h2 http/1.1 acme-tls/1")
        nodes.append(node)
    return nodes


def _count(nodes, regex):
    return sum(len(n.log_lines(regex)) for n in nodes)


def _acme_tls_handshake(port, name):
    """openssl s_client offering only acme-tls/1 for name: the certificate it got, or
    None when the handshake failed."""
    r = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername", name,
                        "-alpn", "acme-tls/1"], input=b"", capture_output=True, timeout=20)
    if b"BEGIN CERTIFICATE" not in r.stdout:
        return None
    pem = r.stdout[r.stdout.index(b"-----BEGIN CERTIFICATE"):]
    return x509.load_pem_x509_certificate(pem[:pem.index(b"-----END CERTIFICATE-----") + 25])


def _challenge_authz_digest(cert):
    """The acmeIdentifier of a tls-alpn-01 challenge certificate, or None when cert is
    none (a server answers acme-tls/1 without a challenge with its usual certificate)."""
    if cert is None:
        return None
    try:
        return cert.extensions.get_extension_for_oid(ACME_IDENTIFIER).value.value
    except x509.ExtensionNotFound:
        return None


def test_0570_tlsalpn01_any_node(env, etcd, apache_factory, farm_key, domain):
    """tls-alpn-01 in a farm: the CA's handshakes go round robin to the three nodes; the
    certificates come, one order per MD, and nodes that did not order answered some."""
    mds = [f"a{i}.{domain}" for i in range(3)]
    nodes = _alpn_nodes(apache_factory, etcd, farm_key, mds)
    lb = HAProxy(env.run_dir, "lb-alpn", env.https_port, [n.https_port for n in nodes]).start()
    try:
        for n in nodes:
            n.start()
        for n in nodes:
            for md in mds:
                n.wait_for_cert(md, timeout=120)
        for md in mds:
            assert _count(nodes, rf"MD1101: {re.escape(md)}: ") == 1, f"{md}: ordered by exactly one node"
        # the CA's handshakes landed on nodes that did not order, and were answered there
        assert answers_for_others(nodes, mds, "tls-alpn-01") > 0, \
            "no node answered a handshake for an order it did not make"
        # the challenge is gone with the renewal, from the engine too; a name of no MD never
        # gets one
        assert etcd.ctl("get", "--prefix", "/md/challenges/") == b""
        assert etcd.ctl("get", "--prefix", "/md/orders/") == b""
        for n in nodes:
            assert _challenge_authz_digest(_acme_tls_handshake(n.https_port, mds[0])) is None
        assert _challenge_authz_digest(_acme_tls_handshake(lb.port, f"other.{domain}")) is None
    finally:
        lb.stop()


def test_0571_tlsalpn01_only_farm_answers(env, etcd, apache_factory, farm_key, domain):
    """A node answers acme-tls/1 from the engine only with exactly what the engine holds for
    an MD's name: the certificate it makes carries that name and the SHA-256 of that key
    authorization; another name gets nothing, even with an answer in the engine."""
    md = f"x.{domain}"
    nodes = _alpn_nodes(apache_factory, etcd, farm_key, [md])[:1]
    n = nodes[0]
    n.add("MDRenewMode manual")          # no renewal of its own: only the farm's answer
    n.start()
    authz = "tok123." + "t" * 43
    etcd.ctl("put", f"/md/challenges/tls-alpn-01/{md}", authz)
    etcd.ctl("put", f"/md/challenges/tls-alpn-01/other.{domain}", authz)
    cert = _acme_tls_handshake(n.https_port, md)
    assert cert is not None, "no challenge certificate from the engine's answer"
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == [md]
    # DER OCTET STRING of 32 bytes: 04 20 <SHA-256 of the key authorization>
    assert _challenge_authz_digest(cert) == b"\x04\x20" + hashlib.sha256(authz.encode()).digest()
    # a name that is no MD's: nothing, although the engine holds an answer for it
    assert _challenge_authz_digest(_acme_tls_handshake(n.https_port, f"other.{domain}")) is None
    # the answer gone from the engine: nothing any more
    etcd.ctl("del", f"/md/challenges/tls-alpn-01/{md}")
    assert _challenge_authz_digest(_acme_tls_handshake(n.https_port, md)) is None


@pytest.fixture(scope="module")
def fault_module():
    """build-fault/mod_md.so: the module with its crash points (make fault-module)."""
    repo = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    r = subprocess.run(["make", "-C", repo, "fault-module"], capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout + r.stderr
    return os.path.join(repo, "build-fault", "mod_md.so")


def _dns01_calls(log):
    with open(log) as f:
        return [json.loads(line)["args"] for line in f if line.strip()]


def _txt_values(env, name):
    """The TXT values the CA sees for name, through challtestsrv's DNS."""
    r = subprocess.run(["dig", "+short", "-p", str(env.challtestsrv.dns_port), "@127.0.0.1", "TXT",
                        f"_acme-challenge.{name}"], capture_output=True, text=True, timeout=20)
    return [v.strip('"') for v in r.stdout.split()]


@pytest.mark.parametrize("point", ["farm-challenge-shared", "authz-validated"])
def test_0572_dns01_holder_killed(env, etcd, apache_factory, farm_key, domain, fault_module, point):
    """dns-01 in a farm: the renewing node dies once its TXT record is set up and its order
    is in etcd (farm-challenge-shared), or once the CA validated it, before its teardown
    (authz-validated). The node
    that takes the renewal over goes on with that order (one order at the CA); its teardown
    removes the record (set up again by it when the authorization is still pending: the
    account is the order's, so the value is the same; or the dead node's, when it is
    valid already): no record of the dead node is left behind."""
    with open(env.pebble.log_path, errors="replace") as f:
        orders_before = f.read().count("Added order ")
    nodes, logs = [], []
    for i in range(NODES):
        http, https, ctrl = free_ports(3)
        node = apache_factory(f"n{i}", http_port=http, https_port=https, ctrl_port=ctrl)
        log = os.path.join(env.run_dir, f"dns01-{domain}-n{i}.log")
        open(log, "w").close()
        os.chmod(log, 0o666)        # the program runs as the children's user
        node.add(f"MDStore etcd {etcd.url} farm-key={farm_key} prefix=/md/ node=n{i} lock-ttl=6")
        node.add(f'MDChallengeDns01 /usr/bin/python3 "{DNS01_PROGRAM}" {env.challtestsrv.mgmt_url} "{log}"')
        node.add(f"MDomain {domain}\nMDCAChallenges dns-01")
        node.add_vhost(domain)
        nodes.append(node)
        logs.append(log)
    victim, others = nodes[0], nodes[1:]
    victim.md_module = fault_module
    victim.add("MDInitialDelay 3s")
    # 1. the victim sets the record up, puts its order into etcd and dies (each time)
    os.environ["MD_FAULT_POINT"] = point
    try:
        victim.start()
    finally:
        del os.environ["MD_FAULT_POINT"]
    victim.wait_for_log(rf"MD1769: {re.escape(domain)}: renewed by n0 in the farm", timeout=60)
    assert [c[0] for c in _dns01_calls(logs[0])][:1] == ["setup"]
    assert "teardown" not in [c[0] for c in _dns01_calls(logs[0])]
    assert _txt_values(env, domain), "the dead node's record is not there"
    assert etcd.ctl("get", "--keys-only", "--prefix", f"/md/orders/{domain}/")
    # (stopped now: its next children would die at the point again, each setting the record
    # up once more)
    victim.stop()
    # 2. another node takes the renewal over with the dead node's order
    for n in others:
        n.start()
    for n in others:
        n.wait_for_cert(domain, timeout=120)
    publishers = [n for n in others if n.log_lines(rf"MD1772: {re.escape(domain)}: published ")]
    assert len(publishers) == 1
    finisher = publishers[0]
    assert finisher.log_lines(rf"MD1781: {re.escape(domain)}: resuming the order of node n0")
    with open(env.pebble.log_path, errors="replace") as f:
        assert f.read().count("Added order ") - orders_before == 1, "one order at the CA for the farm"
    calls = [c[0] for c in _dns01_calls(logs[nodes.index(finisher)])]
    # still pending: set up again and torn down; valid: only the dead node's record torn down
    assert calls == (["setup", "teardown"] if point == "farm-challenge-shared" else ["teardown"]), calls
    # 3. nothing is left: no TXT record, no order in etcd
    assert _txt_values(env, domain) == []
    assert etcd.ctl("get", "--keys-only", "--prefix", f"/md/orders/{domain}/") == b""
