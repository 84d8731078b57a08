# SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors.
"""A farm's parts for the tests: an etcd member, a cluster of three, haproxy, and a TCP
relay, on loopback, free ports.

    etcd = Etcd(run_dir, "etcd-x").start()      # etcd.url, etcd.ctl("get", ...)
    etcd.restart(down=5)                         # the same member, data and ports
    cluster = EtcdCluster(run_dir, "ec-x").start()
    cluster.url                                 # "http://127.0.0.1:A,http://127.0.0.1:B,..."
    cluster.stop_member(0); cluster.start_member(0)
    cluster.requests()                          # {"Range": n, "Txn": n, ...} over all members
    lb = HAProxy(run_dir, "lb-x", listen_port, [node ports]).start()
    cut = TcpProxy(etcd.client_port).start()     # cut.url; cut.cut() / cut.restore()

etcd and haproxy are our own child processes, stopped by their pid; TcpProxy is a thread.
"""
import os
import re
import shutil
import socket
import subprocess
import threading
import time

import requests

from .ports import free_ports, port_answers
from .procs import BackgroundProcess, wait_until

ETCD_BIN = "/usr/bin/etcd"
ETCDCTL_BIN = "/usr/bin/etcdctl"
HAPROXY_BIN = "/usr/sbin/haproxy"


class Etcd:
    """One etcd member with its own data folder; alone, or one of an EtcdCluster's (then
    ports and cluster are the cluster's: (client, peer) and its --initial-cluster)."""

    def __init__(self, run_dir, name, ports=None, cluster=None):
        self.name = name
        self.client_port, self.peer_port = ports or free_ports(2)
        self.data_dir = os.path.join(run_dir, f"{name}.data")
        client = f"http://127.0.0.1:{self.client_port}"
        peer = f"http://127.0.0.1:{self.peer_port}"
        self.url = client
        self.proc = BackgroundProcess(name, [
            ETCD_BIN, "--name", name, "--data-dir", self.data_dir,
            "--listen-client-urls", client, "--advertise-client-urls", client,
            "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
            "--initial-cluster", cluster or f"{name}={peer}",
            "--initial-cluster-token", name.rsplit("-m", 1)[0]], os.path.join(run_dir, f"{name}.log"))

    def healthy(self):
        """Does the member answer /health with true (it is running and sees a leader)?"""
        if not self.proc.running():
            raise RuntimeError(f"etcd exited:\n{self.proc.log_text()[-5000:]}")
        try:
            return requests.get(self.url + "/health", timeout=1).json().get("health") == "true"
        except (requests.RequestException, ValueError):
            return False

    def start(self, timeout=30, healthy=True):
        """Start; wait until healthy (which a member without quorum never is), or with
        healthy=False until its client port answers."""
        self.proc.start()
        if healthy:
            wait_until(self.healthy, timeout, interval=0.2, what=f"{self.name} health")
        else:
            wait_until(lambda: self.proc.running() and port_answers(self.client_port, timeout=0.2),
                       timeout, interval=0.2, what=f"{self.name} client port")
        return self

    def stop(self):
        self.proc.stop()
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def restart(self, down=0):
        """Stop the member (SIGTERM), stay down `down` seconds, start it again on the same
        data folder and ports: what an operator's restart or a crash and recovery is."""
        self.proc.stop()
        time.sleep(down)
        return self.start()

    def grpc_counts(self):
        """Requests the member has handled, by gRPC method (its /metrics): the gateway's
        POSTs are counted under Range, Put, Txn, Watch, LeaseKeepAlive, ..."""
        text = requests.get(self.url + "/metrics", timeout=5).text
        counts = {}
        for m in re.finditer(r'^grpc_server_started_total\{[^}]*grpc_method="(\w+)"[^}]*\} (\S+)$',
                             text, re.M):
            counts[m.group(1)] = counts.get(m.group(1), 0) + int(float(m.group(2)))
        return counts

    def ctl(self, *args):
        """etcdctl's output (bytes: values may be binary)."""
        env = dict(os.environ, ETCDCTL_API="3")
        return subprocess.run([ETCDCTL_BIN, "--endpoints", self.url, *args], env=env,
                              capture_output=True, check=True, timeout=30).stdout


class EtcdCluster:
    """Three etcd members (one data folder each) forming one cluster on loopback. `url`
    lists every member's client URL, comma-separated, as MDStore etcd takes them."""

    def __init__(self, run_dir, name, size=3):
        self.name = name
        ports = free_ports(2 * size)
        pairs = [(ports[2 * i], ports[2 * i + 1]) for i in range(size)]
        cluster = ",".join(f"{name}-m{i}=http://127.0.0.1:{peer}" for i, (_, peer) in enumerate(pairs))
        self.members = [Etcd(run_dir, f"{name}-m{i}", ports=pair, cluster=cluster)
                        for i, pair in enumerate(pairs)]
        self.url = ",".join(m.url for m in self.members)
        self.stopped = set()
        # what the members counted before a restart (their counters start again at 0)
        self._carried = {}

    def start(self, timeout=30):
        # together: a member waits for the others to form the cluster
        for m in self.members:
            m.proc.start()
        for m in self.members:
            wait_until(m.healthy, timeout, interval=0.2, what=f"{m.name} health")
        return self

    def stop_member(self, i):
        """Stop one member (SIGTERM), keeping its data for a later start."""
        m = self.members[i]
        if m.proc.running():
            self._carry(m)
        m.proc.stop()
        self.stopped.add(i)

    def start_member(self, i, timeout=30, healthy=True):
        self.members[i].start(timeout, healthy=healthy)
        self.stopped.discard(i)

    def wait_healthy(self, timeout=60):
        for i, m in enumerate(self.members):
            if i not in self.stopped:
                wait_until(m.healthy, timeout, interval=0.2, what=f"{m.name} health")

    def _carry(self, m):
        try:
            for k, v in m.grpc_counts().items():
                self._carried[(m.name, k)] = self._carried.get((m.name, k), 0) + v
        except requests.RequestException:
            pass

    def requests(self):
        """gRPC requests started at the running members, by method, plus what stopped
        members had counted until they stopped."""
        total = {}
        for (_, k), v in self._carried.items():
            total[k] = total.get(k, 0) + v
        for i, m in enumerate(self.members):
            if i in self.stopped:
                continue
            for k, v in m.grpc_counts().items():
                total[k] = total.get(k, 0) + v
        return total

    def stop(self):
        for m in self.members:
            m.stop()

    def ctl(self, *args):
        """etcdctl's output against every running member (it picks one that answers)."""
        env = dict(os.environ, ETCDCTL_API="3")
        urls = ",".join(m.url for i, m in enumerate(self.members) if i not in self.stopped)
        return subprocess.run([ETCDCTL_BIN, "--endpoints", urls, *args], env=env,
                              capture_output=True, check=True, timeout=30).stdout


class HAProxy:
    """haproxy in tcp mode, round robin from one port over the nodes' ports."""

    def __init__(self, run_dir, name, listen_port, backend_ports):
        self.name = name
        self.conf = os.path.join(run_dir, f"{name}.cfg")
        servers = "\n".join(f"    server n{i} 127.0.0.1:{p}" for i, p in enumerate(backend_ports))
        with open(self.conf, "w") as f:
            f.write(f"""global
    log stderr format short local0 info
defaults
    mode tcp
    log global
    option tcplog
    timeout connect 2s
    timeout client 30s
    timeout server 30s
frontend http_in
    bind 127.0.0.1:{listen_port}
    default_backend nodes
backend nodes
    balance roundrobin
{servers}
""")
        self.port = listen_port
        self.proc = BackgroundProcess(name, [HAPROXY_BIN, "-db", "-f", self.conf],
                                      os.path.join(run_dir, f"{name}.log"))

    def start(self, timeout=10):
        self.proc.start()
        wait_until(lambda: port_answers(self.port, timeout=0.2) or
                   (not self.proc.running() and RuntimeError(self.proc.log_text())),
                   timeout, what=f"{self.name} listening")
        if not self.proc.running():
            raise RuntimeError(f"haproxy exited:\n{self.proc.log_text()}")
        return self

    def stop(self):
        self.proc.stop()

    def log_text(self):
        return self.proc.log_text()


class TcpProxy:
    """A TCP relay on loopback in front of one port, in a thread of the test: cut() closes
    its listener and every connection through it (a node's link to etcd gone), restore()
    listens again on the same port."""

    def __init__(self, target_port, port=None):
        self.target = target_port
        self.port = port or free_ports(1)[0]
        self.url = f"http://127.0.0.1:{self.port}"
        self.listener = None
        self.conns = []
        self.lock = threading.Lock()

    def start(self):
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", self.port))
        self.listener.listen(64)
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()
        return self

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return                      # cut
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target), timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self.lock:
                self.conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self):
        # shutdown first: a close alone leaves the thread blocked in accept() taking one more
        try:
            self.listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.listener.close()
        with self.lock:
            conns, self.conns = self.conns, []
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            c.close()

    def restore(self):
        return self.start()

    def stop(self):
        self.cut()


def answers_for_others(nodes, mds, challenge):
    """How many challenge answers the nodes gave for MDs they did not order: the lines
    'MD1201: answering http-01 for NAME' / 'MD1203: answering tls-alpn-01 for NAME' of
    names without the node's own order (MD1101)."""
    log_id = {"http-01": "MD1201", "tls-alpn-01": "MD1203"}[challenge]
    said = f"answering {challenge} for "
    count = 0
    for n in nodes:
        ordered = {md for md in mds if n.log_lines(rf"MD1101: {re.escape(md)}: ")}
        for line in n.log_lines(rf"{log_id}: {said}"):
            if line.split(said)[1].split()[0].strip(",") not in ordered:
                count += 1
    return count
