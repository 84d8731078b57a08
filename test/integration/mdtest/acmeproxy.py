# SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors.
"""acmeproxy: our own ACME front for Pebble, adding what Debian's Pebble 2.4 lacks.

    client (mod_md) --HTTPS--> AcmeProxy --HTTPS--> Pebble

Everything not listed below is forwarded unchanged, with the client's Host
header, so Pebble builds its URLs (and checks the JWS "url") for the proxy's
address: the client never sees Pebble's own address.  Any upstream URL that
still shows up in a body or a Location/Link header is rewritten to the proxy.

What the proxy adds (all of it ours, none of it Pebble's):
  * directory: "renewalInfo" (RFC 9773) and "meta.profiles", when configured;
  * GET <renewalInfo>/<cert-id>: a suggestedWindow (per cert id, or a default),
    with an optional Retry-After;
  * newOrder: the JWS payload is recorded ("profile", "replaces" visible to tests);
    an unknown profile is answered with invalidProfile, and a "replaces" naming
    a certificate that was replaced already with alreadyReplaced (409);
  * faults, scripted per path pattern (for Retry-After tests and, later, for
    reliability tests): see add_fault();
  * a hostile CA's certificates: forged_chain() makes a transform that replaces
    the issued leaf with one the test makes for the key of our request (from the
    CSR the proxy saw), issued by Pebble's own intermediate, with other names,
    dates or a forged signature;
  * HttpRecorder: a plain http: listener that records what reaches it, for URLs
    a hostile CA points us at.

The proxy serves HTTPS with the harness CA's server certificate, so the module
trusts it with the same MDCACertificateFile as Pebble.  Use it wherever a Pebble
goes: apache_factory(ca=proxy) reads url, ca_file, root_path.
"""
import base64
import datetime
import json
import re
import socket
import ssl
import struct
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtensionOID, NameOID

from .ports import free_ports

ACME_ERR = "urn:ietf:params:acme:error:"
HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "content-length",
               "content-encoding", "date", "server"}


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def jws_payload(body):
    """The decoded JSON payload of a flattened JWS, None for POST-as-GET."""
    try:
        jws = json.loads(body)
        p = jws.get("payload", "")
        return json.loads(b64url_decode(p)) if p else None
    except (ValueError, TypeError):
        return None


class Fault:
    """One scripted fault: applies to requests whose path matches `pattern`
    (a regex, searched) and method (None: any), `count` times (None: always).

    kind:
      "status"   answer with status/headers/body instead of forwarding
      "drop"     close the connection without an answer
      "reset"    reset the connection (RST) without an answer
      "delay"    wait `delay` seconds, then forward
      "garble"   forward, then answer with the body's bytes scrambled
      "truncate" forward, then answer with only the first half of the body
      "hang"     read the request, then answer nothing and keep the connection
                 open until the fault is cleared, the proxy stops or `delay` s pass
      "transform" forward, then answer with transform(body bytes) -> bytes
                 (e.g. an oversized or invalid JSON body, a replaced certificate)
                 and header_transform(headers dict, request path) -> dict (e.g. a
                 Location or Link header changed); either may be None
    Connection refused is not a fault of one request: see pause()/resume().
    """

    def __init__(self, pattern, kind, method=None, count=1, status=503, headers=None,
                 body="", delay=0.0, transform=None, header_transform=None):
        self.pattern = re.compile(pattern)
        self.kind = kind
        self.method = method
        self.count = count
        self.status = status
        self.headers = dict(headers or {})
        self.body = body
        self.delay = delay
        self.transform = transform
        self.header_transform = header_transform
        self.fired = 0

    def matches(self, method, path):
        if self.count is not None and self.fired >= self.count:
            return False
        if self.method and self.method != method:
            return False
        return bool(self.pattern.search(path))


class AcmeProxy:
    def __init__(self, upstream, certs, name="acmeproxy"):
        """upstream: a Pebble (uses .port, .ca_file, .root_path, ...)."""
        self.upstream = upstream
        self.certs = certs
        self.name = name
        self.port = free_ports(1)[0]
        self.profiles = {}                  # name -> description, for meta.profiles
        self.ari = False                    # offer renewalInfo
        self.ari_windows = {}               # cert id -> (start, end) datetimes or strings
        self.ari_default = None             # (start, end) for unknown ids; None: 404
        self.ari_retry_after = None         # seconds, sent with every ARI answer
        self.replaced = set()               # cert ids already replaced
        self.faults = []
        self.log = []                       # dicts: method, path, status, payload
        self.lock = threading.Lock()
        self.unhang = threading.Event()     # set: hanging requests give up
        self.httpd = None
        self.thread = None

    # -- what a test uses like a Pebble ----------------------------------------
    @property
    def base(self):
        return f"https://127.0.0.1:{self.port}"

    @property
    def url(self):
        return self.base + "/dir"

    @property
    def ca_file(self):
        return self.upstream.ca_file

    @property
    def root_path(self):
        return self.upstream.root_path

    @property
    def intermediate_path(self):
        return self.upstream.intermediate_path

    @property
    def upstream_base(self):
        return f"https://127.0.0.1:{self.upstream.port}"

    # -- scripting ----------------------------------------------------------------
    def add_fault(self, pattern, kind, **kw):
        f = Fault(pattern, kind, **kw)
        if kind == "hang":
            self.unhang.clear()
        with self.lock:
            self.faults.append(f)
        return f

    def clear_faults(self):
        with self.lock:
            self.faults = []
        self.unhang.set()

    def take_fault(self, method, path):
        with self.lock:
            for f in self.faults:
                if f.matches(method, path):
                    f.fired += 1
                    return f
        return None

    def requests_to(self, pattern, method=None, bad_nonce=False):
        """Logged requests to paths matching pattern; without bad_nonce, those
        Pebble refused with badNonce (it does so for 5% by default, and the
        client simply retries) are left out."""
        with self.lock:
            return [e for e in self.log if re.search(pattern, e["path"])
                    and (method is None or e["method"] == method)
                    and (bad_nonce or not e.get("bad_nonce"))]

    def orders(self):
        """Payloads of the newOrder requests that reached the proxy."""
        return [e["payload"] for e in self.requests_to(r"/order-plz", "POST")]

    def last_csr(self):
        """The CSR of the newest finalize request (what the module asked for)."""
        for e in reversed(self.requests_to(r"^/finalize-order/", "POST", bad_nonce=True)):
            csr = (e.get("payload") or {}).get("csr")
            if csr:
                return x509.load_der_x509_csr(b64url_decode(csr))
        return None

    def issuer_key(self, issuer):
        """Pebble's private key of its intermediate `issuer` (a certificate)."""
        want = issuer.public_key().public_bytes(serialization.Encoding.DER,
                                                serialization.PublicFormat.SubjectPublicKeyInfo)
        for i in range(8):
            try:
                pem = self.upstream.mgmt_get(f"/intermediate-keys/{i}")
            except requests.RequestException:
                break
            key = serialization.load_pem_private_key(pem.encode(), None)
            have = key.public_key().public_bytes(serialization.Encoding.DER,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo)
            if have == want:
                return key
        raise RuntimeError("no intermediate key of Pebble matches the chain's issuer")

    def forged_chain(self, names=None, extra_names=(), not_before=None, not_after=None,
                     bad_signature=False):
        """A transform for the certificate download (/certZ/): the CA's chain with its
        leaf replaced by one made here for the public key of the last CSR, issued by
        the chain's own intermediate (Pebble's key): only what is asked for differs from
        a certificate the module takes. names: the SANs (default: those of the CSR), plus
        extra_names; not_before/not_after: datetimes (default: an hour ago, and 6 years
        ahead, after any Pebble certificate ends); bad_signature: signed with another
        key, names and key identifiers still the intermediate's."""
        def transform(data):
            pems = split_pem(data)
            issuer = x509.load_pem_x509_certificate(pems[1])
            csr = self.last_csr()
            sans = names
            if sans is None:
                sans = csr.extensions.get_extension_for_oid(
                    ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value.get_values_for_type(x509.DNSName)
            sans = list(sans) + list(extra_names)
            now = datetime.datetime.now(datetime.timezone.utc)
            signer = (other_key_like(issuer.public_key()) if bad_signature
                      else self.issuer_key(issuer))
            ski = issuer.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_KEY_IDENTIFIER)
            leaf = (
                x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, sans[0])]))
                .issuer_name(issuer.subject)
                .public_key(csr.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(not_before or now - datetime.timedelta(hours=1))
                .not_valid_after(not_after or now + datetime.timedelta(days=6 * 365))
                .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in sans]),
                               critical=False)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(
                    ski.value), critical=False)
                .sign(signer, hashes.SHA256())
            )
            return leaf.public_bytes(serialization.Encoding.PEM) + b"".join(pems[1:])
        return transform

    # -- lifecycle ------------------------------------------------------------------
    def start(self):
        proxy = self
        self.unhang.clear()

        class Handler(ProxyHandler):
            pass
        Handler.proxy = proxy
        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.httpd.daemon_threads = True
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.certs["server"], self.certs["server_key"])
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.thread = threading.Thread(target=self.httpd.serve_forever, name=self.name,
                                       daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.unhang.set()
        if self.httpd:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None

    def pause(self):
        """Close the listening port: connections are refused until resume()."""
        self.stop()

    def resume(self):
        """Listen again on the same port (the URL stays the same)."""
        return self.start()

    # -- upstream ------------------------------------------------------------------------
    def fresh_nonce(self, host):
        try:
            r = requests.head(self.upstream_base + "/nonce-plz", verify=self.ca_file,
                              headers={"Host": host}, timeout=5)
            return r.headers.get("Replay-Nonce")
        except requests.RequestException:
            return None

    def rewrite(self, text):
        return text.replace(self.upstream_base, self.base)


def other_key_like(public_key):
    """A new private key of the same type and size as public_key."""
    if isinstance(public_key, rsa.RSAPublicKey):
        return rsa.generate_private_key(public_exponent=65537, key_size=public_key.key_size)
    return ec.generate_private_key(public_key.curve)


def split_pem(data):
    """The PEM blocks of a chain, each with its END line."""
    end = b"-----END CERTIFICATE-----"
    return [b.strip() + b"\n" + end + b"\n" for b in data.split(end) if b.strip()]


class HttpRecorder:
    """A plain http: listener on 127.0.0.1 that records every request reaching it
    (method, path) and answers 200 with "{}": the internal service a hostile CA
    would point us at. url(path) is an http: URL to it."""

    def __init__(self):
        self.port = free_ports(1)[0]
        self.requests = []
        self.httpd = None

    def url(self, path="/"):
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self):
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, fmt, *args):
                pass

            def answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                recorder.requests.append((self.command, self.path))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(b"{}")

            do_GET = do_POST = do_HEAD = answer

        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, name="http-recorder",
                         daemon=True).start()
        return self

    def stop(self):
        if self.httpd:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None


def _window_json(win):
    def fmt(t):
        return t if isinstance(t, str) else t.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"suggestedWindow": {"start": fmt(win[0]), "end": fmt(win[1])}}


class ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    proxy = None

    def log_message(self, fmt, *args):   # quiet; the proxy keeps its own log
        pass

    def do_GET(self):
        self.handle_any("GET")

    def do_HEAD(self):
        self.handle_any("HEAD")

    def do_POST(self):
        self.handle_any("POST")

    # -- answers ----------------------------------------------------------------------------
    def send(self, status, headers, body, method):
        data = body.encode() if isinstance(body, str) else (body or b"")
        # a badNonce the client retries by itself, unless a fault spoilt the answer: then
        # the client saw a failure like any other, and it counts as a request
        self._bad_nonce = (status == 400 and b":badNonce" in data
                           and not getattr(self, "_faulted", False))
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        # one request per connection: the faults are scripted per request, and this
        # small server's keep-alive is not what the tests are about (the module keeps
        # its connections to Pebble itself open across a renewal's requests)
        self.send_header("Connection", "close")
        self.close_connection = True
        self.end_headers()
        if method != "HEAD":
            self.wfile.write(data)
        self.record(method, status)

    def problem(self, status, type_, detail, method):
        headers = {"Content-Type": "application/problem+json"}
        nonce = self.proxy.fresh_nonce(self.headers.get("Host", ""))
        if nonce:
            headers["Replay-Nonce"] = nonce
        self.send(status, headers, json.dumps({"type": ACME_ERR + type_, "detail": detail}),
                  method)

    def record(self, method, status):
        with self.proxy.lock:
            self.proxy.log.append({"method": method, "path": self.path, "status": status,
                                   "payload": getattr(self, "_payload", None),
                                   "bad_nonce": getattr(self, "_bad_nonce", False),
                                   "time": getattr(self, "_t0", None) or time.time()})

    # -- dispatch --------------------------------------------------------------------------------
    def handle_any(self, method):
        self._t0 = time.time()                  # when the request came in
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self._payload = jws_payload(body) if method == "POST" else None
        fault = self.proxy.take_fault(method, self.path)
        # a delay passes the answer on unchanged: a badNonce after it is retried as always
        self._faulted = fault is not None and fault.kind != "delay"
        if fault and self.apply_fault_before(fault, method):
            return
        path = urllib.parse.urlsplit(self.path).path
        if method == "GET" and path.startswith("/ari/"):
            return self.answer_ari(path[len("/ari/"):], method)
        if method == "POST" and path.startswith("/order-plz") and self.check_order(method):
            return
        status, headers, data = self.forward(method, body)
        if (fault and fault.kind in ("garble", "truncate", "transform")
                and status == 400 and b":badNonce" in data):
            # Pebble asked for a fresh nonce (5% of requests): the answer the fault is
            # meant to spoil comes with the client's retry
            with self.proxy.lock:
                fault.fired -= 1
            fault, self._faulted = None, False
        rep = (self._payload or {}).get("replaces") if method == "POST" else None
        if rep is not None and path.startswith("/order-plz") and status == 201:
            # replaced once the CA took the order (not when it asked for a fresh nonce)
            with self.proxy.lock:
                self.proxy.replaced.add(rep)
        if method == "GET" and path == "/dir" and status == 200:
            data = self.extend_directory(data)
        if fault and fault.kind in ("garble", "truncate"):
            data = self.damage(data, fault.kind)
        if fault and fault.kind == "transform" and fault.transform:
            data = fault.transform(data)
        if fault and fault.kind == "transform" and fault.header_transform:
            headers = fault.header_transform(dict(headers), path)
        try:
            self.send(status, headers, data, method)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            self.close_connection = True      # the client stopped reading (size limits)
            self.record(method, status)

    def apply_fault_before(self, fault, method):
        """Faults that replace the answer; True when the request is done."""
        if fault.kind == "status":
            self.send(fault.status, fault.headers, fault.body, method)
            return True
        if fault.kind == "drop":
            self.close_connection = True
            self.record(method, 0)
            return True
        if fault.kind == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.close_connection = True
            self.record(method, -1)
            return True
        if fault.kind == "hang":
            self.proxy.unhang.wait(fault.delay or 600)
            self.close_connection = True
            self.record(method, 0)
            return True
        if fault.kind == "delay":
            time.sleep(fault.delay)
        return False

    @staticmethod
    def damage(data, kind):
        if kind == "truncate":
            return data[: len(data) // 2]
        return bytes((b ^ 0x5A) for b in data)

    def forward(self, method, body):
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_HEADERS}
        url = self.proxy.upstream_base + self.path
        r = requests.request(method, url, data=body or None, headers=headers,
                             verify=self.proxy.ca_file, timeout=30, allow_redirects=False)
        out = {}
        for k, v in r.headers.items():
            if k.lower() in HOP_HEADERS:
                continue
            out[k] = self.proxy.rewrite(v)
        data = r.content
        ctype = r.headers.get("Content-Type", "")
        if "json" in ctype:
            data = self.proxy.rewrite(data.decode()).encode()
        return r.status_code, out, data

    def extend_directory(self, data):
        d = json.loads(data)
        if self.proxy.ari:
            d["renewalInfo"] = self.proxy.base + "/ari/"
        if self.proxy.profiles:
            d.setdefault("meta", {})["profiles"] = dict(self.proxy.profiles)
        return json.dumps(d, indent=2).encode()

    def answer_ari(self, cert_id, method):
        win = self.proxy.ari_windows.get(cert_id, self.proxy.ari_default)
        headers = {"Content-Type": "application/json"}
        if self.proxy.ari_retry_after is not None:
            headers["Retry-After"] = str(self.proxy.ari_retry_after)
        if not self.proxy.ari or win is None:
            return self.send(404, headers, json.dumps({"detail": "unknown certificate"}), method)
        self.send(200, headers, json.dumps(_window_json(win)), method)

    def check_order(self, method):
        """Profile and replaces checks; True when answered here."""
        pl = self._payload or {}
        prof = pl.get("profile")
        if prof is not None and prof not in self.proxy.profiles:
            self.problem(400, "invalidProfile", f"profile '{prof}' is not offered", method)
            return True
        rep = pl.get("replaces")
        if rep is not None:
            with self.proxy.lock:
                already = rep in self.proxy.replaced
            if already:
                self.problem(409, "alreadyReplaced",
                             f"certificate {rep} has already been replaced", method)
                return True
        return False
