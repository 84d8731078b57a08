# SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors.
"""0650: live activation (MDActivation live, the default): a renewed certificate is served
by every child for new handshakes within seconds, without a signal or restart.

Real Apache (mpm_event, three children), real Pebble. The renewal is made due at once
with an absolute MDRenewWindow longer than the lifetime; MDInitialDelay gives the test
time to start its clients before the renewal begins. What is checked is what a client
sees: the serial of the verified certificate, handshakes that never fail, a keep-alive
connection that keeps working, the same parent and children, the staple; and that a
staged set failing the children's own check is never served.
"""
import http.client
import os
import re
import ssl
import subprocess
import threading
import time

import pytest

from mdtest import tlsclient
from mdtest.env import MDCTL
from mdtest.procs import wait_until

from test_0800_ocsp import (load_cert, ocsp_pebble, responder, s_client_status,  # noqa: F401
                            RENEW_WINDOW)
from test_0920_hostile_ca import _expired_for

CHILDREN = """
    StartServers 3
    MinSpareThreads 30
    MaxSpareThreads 40
    KeepAliveTimeout 60
"""


def _children(apache):
    """PIDs of the parent's children."""
    parent = apache.pid()
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(parent)], capture_output=True,
                         text=True).stdout
    return sorted(int(p) for p in out.split())


def _started(pid):
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[19])   # starttime, in clock ticks


def _new_generation(apache):
    """The children the last restart started (together, within a second), not those of
    the generation before that still finish their connections."""
    ticks = os.sysconf("SC_CLK_TCK")
    started = {pid: _started(pid) for pid in _children(apache)}
    newest = max(started.values())
    return sorted(pid for pid, t in started.items() if newest - t <= ticks)


def _first_cert_then_renew(apache, domain, extra=""):
    """The MD's first certificate live after a graceful restart, with a renewal due at
    once that starts 8 s after the last restart; `extra` configuration is added after the
    first certificate (MDActivationDelay holds for a first certificate, too). Returns the
    served serial."""
    apache.add(f"""
        {CHILDREN}
        MDRenewWindow 3650d
        MDInitialDelay 8s
    """)
    apache.expect_log(r"MD4012: .*MDRenewWindow 3650d is not shorter", required=True)
    apache.add_status_vhost()
    serial = apache.serve_first_cert(domain)
    if extra:
        apache.add(extra)
        apache.graceful()
    return serial


class HandshakeLoop:
    """Verified handshakes in a loop (TLS 1.2 and 1.3 in turn): the serials seen, in
    order, and every failure."""

    def __init__(self, apache, domain):
        self.apache, self.domain = apache, domain
        self.seen, self.failures = [], []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _one(self, version):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(cafile=self.apache.ca.root_path)
        ctx.maximum_version = version
        with ctx.wrap_socket(__import__("socket").create_connection(
                ("127.0.0.1", self.apache.https_port), timeout=10),
                server_hostname=self.domain) as s:
            der = s.getpeercert(binary_form=True)
        return tlsclient.x509.load_der_x509_certificate(der).serial_number

    def _run(self):
        versions = [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3]
        n = 0
        while not self._stop.is_set():
            try:
                self.seen.append(self._one(versions[n % 2]))
            except Exception as e:  # every failure counts
                self.failures.append(repr(e))
            n += 1
            time.sleep(0.02)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(30)


def _keepalive_open(apache, domain):
    conn = http.client.HTTPConnection("127.0.0.1", apache.https_port, timeout=10)
    conn.sock = tlsclient._connect(apache.https_port, domain, apache.ca.root_path,
                                   ["http/1.1"])
    return conn


def _keepalive_get(conn, domain):
    conn.request("GET", "/", headers={"Host": domain})
    r = conn.getresponse()
    r.read()
    return r.status, r.getheader("Connection")


def test_0650_renewal_goes_live_without_restart(apache, domain):
    """While a client loops verified handshakes, the renewed certificate is served by
    new handshakes within seconds: no failed handshake, the same parent, children and
    generation, a keep-alive connection opened before keeps working, every child says
    it took the set, and md-status shows the serial served live."""
    serial1 = _first_cert_then_renew(apache, domain)
    children = _new_generation(apache)
    parent, generation = apache.pid(), apache.config_generation()
    conn = _keepalive_open(apache, domain)
    assert _keepalive_get(conn, domain)[0] == 200
    with HandshakeLoop(apache, domain) as loop:
        wait_until(lambda: loop.seen and loop.seen[-1] != serial1, 60, interval=0.2,
                   what="a new serial in new handshakes")
        changed_at = len(loop.seen)
        # every child: some dozens of handshakes more, none with the old serial
        wait_until(lambda: len(loop.seen) >= changed_at + 60, 30, what="60 more handshakes")
    assert not loop.failures, loop.failures[:5]
    assert loop.seen[0] == serial1
    serial2 = loop.seen[-1]
    later = loop.seen[changed_at + 10:]
    assert later and all(s == serial2 for s in later), set(later)
    # the swap happened within a few seconds of staging in every child
    # no restart: the same parent and generation, and every child still there (the
    # MPM may have started another under the load)
    assert apache.pid() == parent
    assert apache.config_generation() == generation
    now_children = _children(apache)
    assert set(children) <= set(now_children), (children, now_children)
    took = {int(pid) for serial, pid in re.findall(
        rf"MD1504: {re.escape(domain)}: .*serial ([0-9A-F]+)\).* this child \(pid (\d+)\)",
        apache.log_text()) if int(serial, 16) == serial2}
    assert set(now_children) <= took, (now_children, took)
    # the keep-alive connection made before is still served
    assert _keepalive_get(conn, domain)[0] == 200
    conn.close()
    # md-status (answered by any child) says what every child serves, and since when
    live = apache.md_status(domain)["live"]
    assert live["activation"] == "live" and int(live["serial"], 16) == serial2, live
    assert live["since"] and live["all"] is True, live
    served = {c["pid"]: int(c["serial"], 16) for c in live["children"]}
    assert set(now_children) <= set(served) and set(served.values()) == {serial2}, live
    listed = apache.md_status()["managed-domains"]
    assert [m["live"]["serial"] for m in listed if m["name"] == domain] == [live["serial"]]
    # the parent activates the same set at its next restart
    apache.graceful()
    assert apache.verify_cert(domain).serial_number == serial2
    assert "live" not in apache.md_status(domain)


def _staged_serial_hex(path):
    return format(load_cert(path).serial_number, "X")


def test_0651_staged_set_failing_the_check_is_not_served(acmeproxy_factory, apache_factory,
                                                         domain):
    """A staged set that fails the children's own check (here: an expired certificate for
    the staged key and names, issued by the CA's intermediate, put into staging/ before
    its activation time) is never served; each child says why."""
    proxy = acmeproxy_factory()
    apache = apache_factory(ca=proxy)
    serial1 = _first_cert_then_renew(apache, domain, extra="MDActivationDelay 15s")
    pubcert = apache.store_path("staging", domain, "pubcert.pem")
    wait_until(lambda: os.path.exists(pubcert) and apache.staging_job(domain).get("finished"),
               60, interval=0.1, what="a staged renewal")
    staged_at = time.time()
    with apache.md_locked(domain):
        expired = _expired_for(pubcert, proxy)
        with open(pubcert, "wb") as f:
            f.write(expired)
    # what the renewal does after staging: every child looks again
    marker = apache.store_path("staging", ".live-sets")
    with open(marker, "w") as f:
        f.write("touched by the test\n")
    apache.expect_log(rf"MD1505: {re.escape(domain)}: the staged rsa certificate expired on "
                      r".*; it is not served, the certificate in use stays", required=True)
    apache.wait_for_log(r"MD1505: ", timeout=10)
    # past the activation time, the old certificate is still what clients get
    time.sleep(max(0.0, staged_at + 18 - time.time()))
    for _ in range(20):
        assert apache.verify_cert(domain).serial_number == serial1
    # MD1504 of the first certificate before the restart; none for the refused set
    assert not apache.log_lines(rf"MD1504: .*serial {_staged_serial_hex(pubcert)}\)")
    assert "live" not in apache.md_status(domain)
    # the parent refuses it, too, at a restart
    apache.expect_log(r"MD1013: .*the staged rsa certificate expired on ", required=True)
    apache.graceful()
    assert apache.verify_cert(domain).serial_number == serial1


def test_0652_activation_delay_holds(apache, domain):
    """MDActivationDelay: the renewed set is not served before notBefore + the delay."""
    serial1 = _first_cert_then_renew(apache, domain, extra="MDActivationDelay 12s")
    with HandshakeLoop(apache, domain) as loop:
        wait_until(lambda: loop.seen and loop.seen[-1] != serial1, 90, interval=0.2,
                   what="a new serial in new handshakes")
        swapped_at = time.time()
    assert not loop.failures, loop.failures[:5]
    cert = load_cert(apache.store_path("staging", domain, "pubcert.pem"))
    not_before = cert.not_valid_before.replace(tzinfo=__import__("datetime").timezone.utc)
    assert swapped_at >= not_before.timestamp() + 12 - 1, (swapped_at, not_before)


def _staple_serial(port, domain):
    """(status, serial in hex) of the stapled OCSP response, or (None, None)."""
    out = s_client_status(port, domain)
    if "OCSP response: no response sent" in out:
        return None, None
    status = re.search(r"Cert Status: (\w+)", out)
    serial = re.search(r"Serial Number: ([0-9A-F]+)", out)
    return (status.group(1) if status else None), (serial.group(1) if serial else None)


def test_0653_staple_for_the_live_certificate(ocsp_pebble, responder, apache_factory,  # noqa: F811
                                              domain):
    """MDStapling on: the certificate that went live is stapled (TLS 1.2 and 1.3),
    without a restart; its response is fetched at once."""
    apache = apache_factory(ca=ocsp_pebble)
    apache.add(f"""
        MDStapling on
        MDStaplingRenewWindow {RENEW_WINDOW}
    """)
    apache.add(f"MDomain {domain}\nMDCAChallenges http-01")
    apache.add_vhost(domain)
    apache.add(CHILDREN + "\nMDInitialDelay 4s")
    apache.start()
    apache.wait_for_cert(domain)
    responder.add(load_cert(apache.store_path("staging", domain, "pubcert.pem")))
    # the renewed certificate has the same subject: openssl ocsp must take both
    with open(responder.index + ".attr", "w") as f:
        f.write("unique_subject = no\n")
    responder.start()
    apache.graceful()
    serial1 = apache.verify_cert(domain).serial_number
    wait_until(lambda: _staple_serial(apache.https_port, domain)[0] == "good", 30,
               interval=0.5, what="the first certificate stapled")
    # the renewal: the responder knows the new certificate once it is staged
    apache.add("MDRenewWindow 3650d")
    apache.expect_log(r"MD4012: .*MDRenewWindow 3650d is not shorter", required=True)
    apache.graceful()
    pubcert = apache.store_path("staging", domain, "pubcert.pem")
    wait_until(lambda: os.path.exists(pubcert) and apache.staging_job(domain).get("finished"),
               60, interval=0.1, what="a staged renewal")
    new = load_cert(pubcert)
    assert new.serial_number != serial1
    responder.add(new)
    wait_until(lambda: apache.verify_cert(domain).serial_number == new.serial_number, 10,
               interval=0.2, what="the new certificate served")
    want = f"{new.serial_number:X}"
    want = ("0" + want) if len(want) % 2 else want
    seen = []
    try:
        wait_until(lambda: seen.append(_staple_serial(apache.https_port, domain))
                   or seen[-1] == ("good", want), 30, interval=0.5,
                   what=f"a good staple for the new certificate {want}")
    except TimeoutError:
        pytest.fail(f"no good staple for {want}; the last seen: {seen[-3:]}")
    time.sleep(3)   # every child looks at the persisted response again within 2 s
    for _ in range(5):   # whichever child answers
        assert _staple_serial(apache.https_port, domain) == ("good", want)
    out = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{apache.https_port}",
                          "-servername", domain, "-status", "-tls1_3"], input=b"",
                         capture_output=True, timeout=20).stdout.decode()
    assert "Cert Status: good" in out and f"Serial Number: {want}" in out, out


@pytest.mark.parametrize("mode", ["live", "restart"])
def test_0654_tls_alpn01_renewal(pebble_factory, apache_factory, domain, mode):
    """tls-alpn-01 validates (over TLS 1.3, Pebble's Go client, which prefers RSA
    signatures) for the renewal of an MD whose RSA certificate is served: the
    acme-tls/1 connection gets the challenge certificate only. With live activation the
    renewed certificate then goes live; with restart, at the restart."""
    pebble = pebble_factory(env_vars={"PEBBLE_AUTHZREUSE": "0"})   # always validate
    apache = apache_factory(ca=pebble)
    apache.listen_http = False
    apache.port_map = f"http:- https:{apache.https_port}"
    apache.add(f"MDomain {domain}\nMDRetryDelay 1s\nMDActivation {mode}")
    apache.add_vhost(domain, extra="Protocols h2 http/1.1 acme-tls/1")
    apache.start()
    apache.wait_for_cert(domain)
    apache.graceful()
    serial1 = apache.verify_cert(domain).serial_number
    apache.add("MDRenewWindow 3650d")
    apache.expect_log(r"MD4012: .*MDRenewWindow 3650d is not shorter", required=True)
    apache.graceful()
    wait_until(lambda: apache.staging_job(domain).get("finished")
               or apache.log_lines(r"MD1102: "), 60, interval=0.3, what="the renewal")
    assert not apache.log_lines(r"MD1102: "), "the renewal failed"
    if mode == "restart":
        apache.graceful()
    wait_until(lambda: apache.verify_cert(domain).serial_number != serial1, 10, interval=0.3,
               what="the renewed certificate served")


@pytest.mark.parametrize("mode", ["restart"])
def test_0655_activation_restart_mode(apache, domain, mode):
    """MDActivation restart: a renewed set waits for the next restart, as before."""
    serial1 = _first_cert_then_renew(apache, domain, extra=f"MDActivation {mode}")
    wait_until(lambda: apache.staging_job(domain).get("finished"), 60, interval=0.2,
               what="a staged renewal")
    time.sleep(3)
    assert apache.verify_cert(domain).serial_number == serial1
    apache.graceful()
    assert apache.verify_cert(domain).serial_number != serial1


def test_0656_live_set_renewed_again_without_restart(apache, domain):
    """A set served live (staged, no restart since) is renewed in place when asked for
    (mdctl renew), and the newer one goes live in turn: a server that is never restarted
    keeps valid certificates. With a window that is always due (MDRenewWindow 3650d,
    MD4012) the live set is not renewed again at every check (MDCheckInterval 2s): its own
    time is half its life then. Six clients loop handshakes meanwhile: no handshake fails
    while sets are swapped again and again (the stress run; under ASan in the sanitizer
    pass)."""
    serial1 = _first_cert_then_renew(apache, domain, extra="MDCheckInterval 2s")
    parent, generation = apache.pid(), apache.config_generation()
    serials = [serial1]

    def changed():
        s = apache.verify_cert(domain).serial_number
        if s != serials[-1]:
            serials.append(s)
        return s != serials[-2] if len(serials) > 1 else False
    wait_until(changed, 60, interval=0.3, what="the first renewal served live")
    staged = len(apache.log_lines(r"MD1101: "))
    time.sleep(8)   # four checks
    assert len(apache.log_lines(r"MD1101: ")) == staged, "renewed again at a check"
    loops = [HandshakeLoop(apache, domain) for _ in range(6)]
    for loop in loops:
        loop.__enter__()
    try:
        for _ in range(2):
            before = len(serials)
            r = subprocess.run([MDCTL, "-d", apache.store_dir, "renew", "--reason", "test",
                                domain], capture_output=True, text=True, timeout=30)
            assert r.returncode == 0, r.stderr
            wait_until(lambda: changed() and len(serials) > before, 60, interval=0.3,
                       what="the requested renewal served live")
    finally:
        for loop in loops:
            loop.__exit__()
    failures = [f for loop in loops for f in loop.failures]
    assert not failures, failures[:5]
    assert len({s for loop in loops for s in loop.seen}) >= 3
    assert apache.pid() == parent and apache.config_generation() == generation
    assert len(set(serials)) == 4, serials
    apache.wait_for_log(rf"MD1101: {re.escape(domain)}: certificate\(s\) for .* staged; every "
                        r"child serves them within seconds", timeout=5)


def test_0657_first_certificate_goes_live(apache, domain):
    """A new MD: the fallback and 503 until its first certificate is staged; then, with no
    restart, the real certificate and 200 (and /.httpd/certificate-status throughout)."""
    apache.add(CHILDREN)
    apache.add(f"MDomain {domain}\nMDCAChallenges http-01\nMDInitialDelay 3s")
    apache.add_vhost(domain)
    apache.start()
    parent, generation = apache.pid(), apache.config_generation()
    assert tlsclient.is_self_signed(apache.get_cert(domain))
    assert apache.https_get(domain).status == 503
    assert apache.https_get(domain, "/.httpd/certificate-status").status == 200
    wait_until(lambda: not tlsclient.is_self_signed(apache.get_cert(domain)), 60, interval=0.3,
               what="the first certificate served")
    cert = apache.verify_cert(domain)
    wait_until(lambda: all(apache.https_get(domain, verify=True).status == 200
                           for _ in range(6)), 10, interval=0.3, what="200 from every child")
    assert apache.pid() == parent and apache.config_generation() == generation
    # the restart activates the same certificate
    apache.graceful()
    assert apache.verify_cert(domain).serial_number == cert.serial_number
    assert apache.https_get(domain, verify=True).status == 200


def _tls12_context(apache):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cafile=apache.ca.root_path)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    return ctx


def _tls12_connect(ctx, apache, domain, session=None):
    raw = __import__("socket").create_connection(("127.0.0.1", apache.https_port), timeout=10)
    return ctx.wrap_socket(raw, server_hostname=domain, session=session)


def _serial_of(sock):
    der = sock.getpeercert(binary_form=True)
    return tlsclient.x509.load_der_x509_certificate(der).serial_number


def _raw_get(sock, domain, path):
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {domain}\r\n\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(4096)
        if not chunk:
            break
        head += chunk
    return int(head.split(b" ", 2)[1])


def test_0658_connections_from_before_the_swap(apache, domain):
    """Connections made before the swap are not disturbed by it: an h2 connection keeps
    serving requests (one connection, all 200); a TLS 1.2 session from before resumes;
    a TLS 1.2 renegotiation (a per-directory SSLVerifyClient) keeps the certificate the
    connection started with."""
    apache.add('Protocols h2 http/1.1\n<Location "/reneg">\n    SSLVerifyClient optional\n</Location>')
    serial1 = _first_cert_then_renew(apache, domain)
    with open(os.path.join(apache.htdocs, domain, "reneg"), "w") as f:
        f.write("renegotiated\n")
    # h2: one connection, a request every half second across the swap
    h2 = subprocess.Popen(
        ["curl", "-s", "--http2", "--cacert", apache.ca.root_path, "--rate", "2/s",
         "--resolve", f"{domain}:{apache.https_port}:127.0.0.1",
         "-w", "%{http_code} %{http_version} %{num_connects}\\n"]
        + ["-o", "/dev/null", f"https://{domain}:{apache.https_port}/"] * 40,
        stdout=subprocess.PIPE, text=True)
    tls12 = _tls12_context(apache)
    early = _tls12_connect(tls12, apache, domain)
    assert _serial_of(early) == serial1 and _raw_get(early, domain, "/") == 200
    session = early.session
    wait_until(lambda: apache.verify_cert(domain).serial_number != serial1, 60, interval=0.3,
               what="the renewed certificate served")
    # renegotiation on the connection from before: the first certificate stays
    assert _raw_get(early, domain, "/reneg") == 200
    assert _serial_of(early) == serial1
    early.close()
    # the session from before resumes (no certificate is sent in a resumption)
    resumed = _tls12_connect(tls12, apache, domain, session=session)
    assert resumed.session_reused and _raw_get(resumed, domain, "/") == 200
    resumed.close()
    out, _ = h2.communicate(timeout=60)
    lines = [line.split() for line in out.splitlines()]
    assert len(lines) == 40 and all(code == "200" and ver == "2" for code, ver, _ in lines), out
    assert sum(int(n) for _, _, n in lines) == 1, out  # one connection for all requests
    assert re.search(r"AH02221|AH02255|[Rr]e-?negotiat", apache.log_text()), "no renegotiation"
