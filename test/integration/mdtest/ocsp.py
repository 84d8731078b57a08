# SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors.
"""An OCSP responder for a Pebble's intermediate CA, and a counter in front of it.

    r = OcspResponder(run_dir, "ocsp", port)     # openssl ocsp; r.set_issuer(pebble)
    c = OcspCounter(r.url).start()               # c.url for Pebble's ocspResponderURL;
                                                 # c.requests(): serial numbers asked
    staple_status(port, name)                    # what `openssl s_client -status` sees
"""
import http.server
import os
import re
import subprocess
import threading
import time

import requests
from cryptography.x509 import ocsp

from .ports import free_ports
from .procs import BackgroundProcess, wait_until


class OcspResponder:
    """`openssl ocsp -port N` for a Pebble's intermediate CA."""

    def __init__(self, run_dir, name, port, next_update_min=10):
        self.dir = os.path.join(run_dir, name)
        os.makedirs(self.dir, exist_ok=True)
        self.port = port
        self.index = os.path.join(self.dir, "index.txt")
        self.ca_cert = os.path.join(self.dir, "ca.pem")
        self.ca_key = os.path.join(self.dir, "ca.key")
        self.lines = {}
        self.proc = None
        self.next_update_min = next_update_min
        open(self.index, "w").close()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def set_issuer(self, pebble):
        with open(self.ca_cert, "w") as f:
            f.write(pebble.mgmt_get("/intermediates/0"))
        with open(self.ca_key, "w") as f:
            f.write(pebble.mgmt_get("/intermediate-keys/0"))
        os.chmod(self.ca_key, 0o600)

    def _write_index(self):
        with open(self.index + ".tmp", "w") as f:
            f.write("".join(self.lines.values()))
        os.replace(self.index + ".tmp", self.index)

    def add(self, cert, revoked_at=None):
        """List the certificate as valid (V), or revoked (R) since revoked_at."""
        fmt = "%y%m%d%H%M%SZ"
        expiry = cert.not_valid_after.strftime(fmt)
        serial = f"{cert.serial_number:X}"
        if len(serial) % 2:
            serial = "0" + serial
        subject = "/" + "/".join(a.rfc4514_string() for a in cert.subject)
        if revoked_at is None:
            line = f"V\t{expiry}\t\t{serial}\tunknown\t{subject}\n"
        else:
            line = f"R\t{expiry}\t{revoked_at.strftime(fmt)}\t{serial}\tunknown\t{subject}\n"
        self.lines[serial] = line
        self._write_index()

    def start(self):
        self.proc = BackgroundProcess(
            "ocsp-responder",
            ["openssl", "ocsp", "-index", self.index, "-CA", self.ca_cert,
             "-rsigner", self.ca_cert, "-rkey", self.ca_key, "-port", str(self.port),
             "-nmin", str(self.next_update_min),
             # serve one connection at a time, but never hang on a silent one
             "-timeout", "3"],
            os.path.join(self.dir, "responder.log"))
        mark = len(self.proc.log_text())
        self.proc.start()
        # not by connecting: a connection without a request would block it
        wait_until(lambda: "waiting for OCSP client connections" in self.proc.log_text()[mark:],
                   10, what="openssl ocsp responder")

    def stop(self):
        if self.proc:
            self.proc.stop()
            self.proc = None


class OcspCounter:
    """An HTTP front of the responder that notes the serial number of every request
    (what the responder sees), in this process; with delay, it answers that many seconds
    late (a slow responder: the nodes of a farm are then due while one fetches)."""

    def __init__(self, upstream_url, delay=0.0):
        self.upstream = upstream_url
        self.delay = delay
        self.port = free_ports(1)[0]
        self._seen = []
        self._lock = threading.Lock()
        counter = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                try:
                    serial = ocsp.load_der_ocsp_request(body).serial_number
                except ValueError:
                    serial = None
                with counter._lock:
                    counter._seen.append((time.time(), serial))
                time.sleep(counter.delay)
                r = requests.post(counter.upstream, data=body, timeout=10,
                                  headers={"Content-Type": "application/ocsp-request"})
                self.send_response(r.status_code)
                self.send_header("Content-Type", "application/ocsp-response")
                self.send_header("Content-Length", str(len(r.content)))
                self.end_headers()
                self.wfile.write(r.content)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def requests(self, serial=None):
        """(time, serial) of the requests so far, for one serial number or all."""
        with self._lock:
            return [r for r in self._seen if serial is None or r[1] == serial]


def s_client_status(port, name):
    """What `openssl s_client -status` says about the stapled response."""
    r = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}",
                        "-servername", name, "-status"],
                       input=b"", stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=20)
    return r.stdout.decode("utf-8", "replace")


def staple_status(port, name):
    """'good', 'revoked', 'unknown' from the stapled response, or None without one."""
    out = s_client_status(port, name)
    if "OCSP response: no response sent" in out:
        return None
    assert "OCSP Response Status: successful" in out, out
    m = re.search(r"Cert Status: (\w+)", out)
    assert m, out
    return m.group(1)
