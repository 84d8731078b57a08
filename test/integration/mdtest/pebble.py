# SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors.
"""Pebble (the ACME test CA) and pebble-challtestsrv (its DNS server).

Pebble validates http-01 and tls-alpn-01 against the ports Apache listens
on (httpPort/tlsPort in its config) and resolves every name through
challtestsrv, which answers A queries with 127.0.0.1.  Validation is always
real: PEBBLE_VA_NOSLEEP=1 is set, PEBBLE_VA_ALWAYS_VALID is not (unless a
test explicitly passes it to a factory-made Pebble).
"""
import json
import os

import requests

from .ports import free_ports
from .procs import BackgroundProcess, LogTail, wait_until


class ChallTestSrv:
    """pebble-challtestsrv with only its DNS server and management API."""

    def __init__(self, run_dir, name="challtestsrv", default_ipv4="127.0.0.1"):
        """default_ipv4: the address of every name not added with add_a; "" for
        none (such names then have no A record: tests of the preflight)."""
        self.dns_port, self.mgmt_port = free_ports(2)
        self.proc = BackgroundProcess(
            name,
            ["pebble-challtestsrv",
             "-dns01", f"127.0.0.1:{self.dns_port}",
             "-management", f"127.0.0.1:{self.mgmt_port}",
             "-http01", "", "-https01", "", "-tlsalpn01", "",
             "-defaultIPv4", default_ipv4,
             # Without this, AAAA queries are answered with ::1 and Pebble's
             # VA connects to [::1]:<port> only ("Failed to connect to
             # [::1]:N"), with no fallback to IPv4.  Apache listens on
             # 127.0.0.1 only, so no AAAA answers.
             "-defaultIPv6", ""],
            os.path.join(run_dir, f"{name}.log"))

    @property
    def mgmt_url(self):
        return f"http://127.0.0.1:{self.mgmt_port}"

    def start(self, timeout=20):
        self.proc.start()

        def ready():
            if not self.proc.running():
                raise RuntimeError("pebble-challtestsrv exited:\n" + self.proc.log_text())
            try:
                # any answer from the management API means it is up
                requests.post(self.mgmt_url + "/clear-txt", json={"host": "ready.test."}, timeout=1)
                return True
            except requests.RequestException:
                return False
        wait_until(ready, timeout, what="pebble-challtestsrv management API")

    def stop(self):
        self.proc.stop()

    def _post(self, path, body):
        r = requests.post(self.mgmt_url + path, json=body, timeout=5)
        r.raise_for_status()

    @staticmethod
    def _fqdn(host):
        return host if host.endswith(".") else host + "."

    def set_txt(self, host, value):
        """Add a TXT value for host (e.g. "_acme-challenge.x.test")."""
        self._post("/set-txt", {"host": self._fqdn(host), "value": value})

    def clear_txt(self, host):
        self._post("/clear-txt", {"host": self._fqdn(host)})

    def add_a(self, host, addresses):
        self._post("/add-a", {"host": self._fqdn(host), "addresses": list(addresses)})

    def clear_a(self, host):
        self._post("/clear-a", {"host": self._fqdn(host)})

    def add_caa(self, host, policies):
        """CAA records of host: [(tag, value), ...] (this challtestsrv sets no
        flags: the critical flag is covered by the unit tests)."""
        self._post("/add-caa", {"host": self._fqdn(host),
                                "policies": [{"tag": t, "value": v} for t, v in policies]})


class Pebble:
    """One Pebble instance with its own listen and management ports.

    `env` adds environment variables (PEBBLE_WFE_NONCEREJECT, ...); `config`
    is merged into the "pebble" object of the JSON config (e.g.
    {"externalAccountBindingRequired": True, "externalAccountMACKeys": {...}}).
    restart() keeps the ports, so the directory URL stays the same, but
    Pebble makes a new root and intermediate at every start.
    """

    def __init__(self, run_dir, name, certs, dns_port, http_port, tls_port,
                 env=None, config=None):
        self.name = name
        self.dir = os.path.join(run_dir, name)
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o755)
        self.certs = certs
        self.dns_port = dns_port
        self.http_port = http_port
        self.tls_port = tls_port
        self.port, self.mgmt_port = free_ports(2)
        self.env = dict(env or {})
        self.config = dict(config or {})
        self.config_path = os.path.join(self.dir, "pebble-config.json")
        self.root_path = os.path.join(self.dir, "root.pem")
        self.intermediate_path = os.path.join(self.dir, "intermediate.pem")
        self.proc = None
        self.log_path = os.path.join(self.dir, "pebble.log")
        self.tail = LogTail(self.log_path)
        self.default_env = dict(self.env)
        self.default_config = dict(self.config)

    # -- addresses ---------------------------------------------------------
    @property
    def url(self):
        """The ACME directory URL (for MDCertificateAuthority)."""
        return f"https://127.0.0.1:{self.port}/dir"

    @property
    def mgmt_url(self):
        return f"https://127.0.0.1:{self.mgmt_port}"

    @property
    def ca_file(self):
        """CA that signed Pebble's own HTTPS certificate (for MDCACertificateFile)."""
        return self.certs["ca"]

    # -- lifecycle ---------------------------------------------------------
    def _write_config(self):
        conf = {
            "listenAddress": f"127.0.0.1:{self.port}",
            "managementListenAddress": f"127.0.0.1:{self.mgmt_port}",
            "certificate": self.certs["server"],
            "privateKey": self.certs["server_key"],
            "httpPort": self.http_port,
            "tlsPort": self.tls_port,
            "ocspResponderURL": "",
            "externalAccountBindingRequired": False,
        }
        conf.update(self.config)
        with open(self.config_path, "w") as f:
            json.dump({"pebble": conf}, f, indent=2)

    def start(self, timeout=30):
        self._write_config()
        env = {"PEBBLE_VA_NOSLEEP": "1"}
        env.update(self.env)
        self.proc = BackgroundProcess(
            self.name,
            ["pebble", "-config", self.config_path, "-dnsserver", f"127.0.0.1:{self.dns_port}"],
            self.log_path, env=env, cwd=self.dir)
        self.proc.start()

        def ready():
            if not self.proc.running():
                raise RuntimeError(f"pebble exited at start:\n{self.proc.log_text()}")
            try:
                r = requests.get(self.url, verify=self.ca_file, timeout=2)
                return r.status_code == 200
            except requests.RequestException:
                return False
        wait_until(ready, timeout, interval=0.2, what=f"Pebble directory {self.url}")
        self.fetch_issuers()

    def stop(self):
        if self.proc is not None:
            self.proc.stop()

    def restart(self, env=None, config=None):
        """Restart with replaced env/config (None keeps the current value)."""
        self.stop()
        if env is not None:
            self.env = dict(env)
        if config is not None:
            self.config = dict(config)
        self.start()

    def running(self):
        return self.proc is not None and self.proc.running()

    def has_defaults(self):
        """True if running with the env/config it was created with."""
        return self.running() and self.env == self.default_env and self.config == self.default_config

    def reset(self):
        """Restart with the env/config it was created with."""
        self.restart(env=self.default_env, config=self.default_config)

    # -- management API ----------------------------------------------------
    def mgmt_get(self, path):
        r = requests.get(self.mgmt_url + path, verify=self.ca_file, timeout=5)
        r.raise_for_status()
        return r.text

    def fetch_issuers(self):
        """Save the issuing root (/roots/0) and intermediate (/intermediates/0)."""
        for path, url in ((self.root_path, "/roots/0"), (self.intermediate_path, "/intermediates/0")):
            with open(path, "w") as f:
                f.write(self.mgmt_get(url))
            os.chmod(path, 0o644)

    def root_pem(self, index=0):
        return self.mgmt_get(f"/roots/{index}")

    def intermediate_pem(self, index=0):
        return self.mgmt_get(f"/intermediates/{index}")

    def log_text(self):
        return self.proc.log_text() if self.proc else ""
