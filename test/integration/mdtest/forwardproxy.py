# SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors.
"""A minimal forward proxy (HTTP CONNECT tunnels only) for MDHttpProxy tests.

With certs (the harness CA's server certificate) it is an HTTPS proxy: the
client talks TLS to the proxy, and tunnels its own TLS to the CA inside.
It records every CONNECT target in `connects`.
"""
import select
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .ports import free_ports


class ForwardProxy:
    def __init__(self, certs=None):
        self.port = free_ports(1)[0]
        self.certs = certs
        self.connects = []
        self.httpd = None

    @property
    def url(self):
        return f"{'https' if self.certs else 'http'}://127.0.0.1:{self.port}"

    def start(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, fmt, *args):
                pass

            def do_CONNECT(self):
                host, _, port = self.path.rpartition(":")
                proxy.connects.append(self.path)
                try:
                    upstream = socket.create_connection((host, int(port)), timeout=10)
                except OSError:
                    self.send_error(502)
                    return
                self.send_response(200, "Connection established")
                self.end_headers()
                self.relay(upstream)

            def relay(self, upstream):
                conns = [self.connection, upstream]
                try:
                    while True:
                        ready, _, _ = select.select(conns, [], [], 30)
                        if not ready:
                            break
                        for s in ready:
                            data = s.recv(65536)
                            if not data:
                                return
                            (upstream if s is self.connection else self.connection).sendall(data)
                except OSError:
                    pass
                finally:
                    upstream.close()
                    self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.httpd.daemon_threads = True
        if self.certs:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(self.certs["server"], self.certs["server_key"])
            self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self.httpd:
            self.httpd.shutdown()
            self.httpd.server_close()
