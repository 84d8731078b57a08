# SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors.
"""0548: a node reaches its farm's etcd the way docs/farm.md sets it up: over TLS
(`ca=`), as a user limited to the farm's prefix (`auth=`). What an administrator
sees: with the right file the node renews and publishes; with a wrong password or
without the CA it starts, says why once naming MDStore's file and line, and keeps
serving what it has.
"""
import os
import re
import secrets
import subprocess

import pytest
import requests

from mdtest.certs import make_ca_and_server
from mdtest.farm import ETCD_BIN, ETCDCTL_BIN
from mdtest.ports import free_ports
from mdtest.procs import BackgroundProcess, wait_until

pytestmark = pytest.mark.skipif(not os.path.exists(ETCD_BIN),
                                reason="etcd-server is not installed (.ci/run installs it)")

ROOT_PASSWORD = secrets.token_hex(8)
FARM_PASSWORD = secrets.token_hex(8)


class TlsEtcd:
    """One etcd member serving its clients over https only, with a certificate of
    the test's own CA, and authentication turned on for a farm user."""

    def __init__(self, run_dir, name):
        self.name = name
        self.dir = os.path.join(run_dir, name)
        os.makedirs(self.dir, exist_ok=True)
        self.pki = make_ca_and_server(self.dir)
        os.chmod(self.pki["ca"], 0o644)
        client_port, peer_port = free_ports(2)
        self.url = f"https://127.0.0.1:{client_port}"
        peer = f"http://127.0.0.1:{peer_port}"
        self.proc = BackgroundProcess(name, [
            ETCD_BIN, "--name", name, "--data-dir", os.path.join(self.dir, "data"),
            "--listen-client-urls", self.url, "--advertise-client-urls", self.url,
            "--cert-file", self.pki["server"], "--key-file", self.pki["server_key"],
            "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
            "--initial-cluster", f"{name}={peer}"], os.path.join(run_dir, f"{name}.log"))

    def start(self):
        self.proc.start()

        def healthy():
            if not self.proc.running():
                raise RuntimeError(f"etcd exited:\n{self.proc.log_text()[-5000:]}")
            try:
                return requests.get(self.url + "/health", timeout=1,
                                    verify=self.pki["ca"]).json().get("health") == "true"
            except (requests.RequestException, ValueError):
                return False
        wait_until(healthy, 30, interval=0.2, what=f"{self.name} health")
        # docs/farm.md, step 2: a user that may use the farm's prefix only
        for args in (("user", "add", f"root:{ROOT_PASSWORD}"), ("user", "add", f"md-farm:{FARM_PASSWORD}"),
                     ("role", "add", "md-farm"),
                     ("role", "grant-permission", "md-farm", "--prefix=true", "readwrite", "/md/"),
                     ("user", "grant-role", "md-farm", "md-farm"), ("auth", "enable")):
            self.ctl(*args, user=None)
        return self

    def stop(self):
        self.proc.stop()

    def ctl(self, *args, user="root"):
        """etcdctl's output, as `user` (root or md-farm; None before auth is on)."""
        env = dict(os.environ, ETCDCTL_API="3")
        cmd = [ETCDCTL_BIN, "--endpoints", self.url, "--cacert", self.pki["ca"]]
        if user:
            cmd.append(f"--user={user}:{ROOT_PASSWORD if user == 'root' else FARM_PASSWORD}")
        return subprocess.run(cmd + list(args), env=env, capture_output=True, check=True,
                              timeout=30).stdout


@pytest.fixture
def tls_etcd(env, request):
    e = TlsEtcd(env.run_dir, f"etcd-tls-{secrets.token_hex(4)}").start()
    yield e
    e.stop()


def _secret_file(apache, name, content):
    path = os.path.join(apache.server_root, name)
    with open(path, "w") as f:
        f.write(content)
    os.chmod(path, 0o600)
    return path


def test_0548_farm_over_tls_as_limited_user(tls_etcd, apache, domain):
    """A node with ca= and auth= renews its MD and publishes it into the prefix its
    user may write; the farm's keys are there for the next node."""
    key = _secret_file(apache, "farm.key", secrets.token_hex(32) + "\n")
    auth = _secret_file(apache, "etcd.auth", f"md-farm:{FARM_PASSWORD}\n")
    apache.add(f"MDStore etcd {tls_etcd.url} farm-key={key} auth={auth} ca={tls_etcd.pki['ca']} "
               f"node=web1")
    apache.add(f"MDomain {domain}\nMDCAChallenges http-01")
    apache.add_vhost(domain)
    apache.start()
    apache.wait_for_log(r"MD1766: the farm's etcd \(MDStore at \S+:\d+\) holds 0 published")
    apache.wait_for_cert(domain, timeout=120)
    apache.wait_for_log(rf"MD1772: {re.escape(domain)}: published generation 1 ", timeout=30)
    assert tls_etcd.ctl("get", "--print-value-only", f"/md/gen/{domain}", user="md-farm").strip() == b"1"
    dump = tls_etcd.ctl("get", "--prefix", "/md/")
    assert b"BEGIN CERTIFICATE" in dump and b"PRIVATE KEY" not in dump
    # the user the node has is refused outside the farm's prefix: the limit is real
    with pytest.raises(subprocess.CalledProcessError):
        tls_etcd.ctl("put", "/elsewhere", "x", user="md-farm")


@pytest.mark.parametrize("case, why", [
    ("wrong-password", r"authentication failed"),
    ("no-ca", r"certificate"),
])
def test_0549_engine_refuses_the_node(tls_etcd, apache, domain, case, why):
    """Credentials etcd refuses, or its certificate not trusted (no ca=): the node
    starts, names MDStore's file and line and the reason once, serves what it has
    (the fallback here) and renews nothing."""
    key = _secret_file(apache, "farm.key", secrets.token_hex(32) + "\n")
    if case == "wrong-password":
        auth = _secret_file(apache, "etcd.auth", "md-farm:not-the-password\n")
        opts = f"auth={auth} ca={tls_etcd.pki['ca']}"
    else:
        auth = _secret_file(apache, "etcd.auth", f"md-farm:{FARM_PASSWORD}\n")
        opts = f"auth={auth}"
    apache.add(f"MDStore etcd {tls_etcd.url} farm-key={key} {opts}")
    apache.add(f"MDomain {domain}\nMDCAChallenges http-01")
    apache.add_vhost(domain)
    apache.expect_log(rf"MD1765: the farm's etcd \(MDStore at \S+:\d+\): .*{why}", required=True)
    apache.start()
    apache.wait_for_log(r"MD1765: ")
    line = apache.log_lines(r"MD1765: ")[0]
    assert re.search(why, line, re.I), line
    assert FARM_PASSWORD not in line and "not-the-password" not in line
    assert apache.https_get(domain).status == 503
    import time
    time.sleep(3)
    assert not apache.log_lines(r"MD1101: "), "renewed without the farm"
    assert len(apache.log_lines(r"MD1765: ")) == 1, "the outage is said once, not at every look"
