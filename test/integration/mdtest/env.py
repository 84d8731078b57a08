# SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors.
"""The per-run test environment: run directory, ports, certificates, Pebble.

Settings from the environment:
    MD_MODULE       the module to test (default <repo>/build/mod_md.so)
    MDTEST_LOGLEVEL Apache LogLevel (default "info md:trace2")
    MDTEST_KEEP     1 = keep the run directory even when all tests pass
    MDTEST_RUN_DIR  parent directory of the run directory (default /tmp)
    MDTEST_MDCTL    the mdctl to test (default <repo>/build/mdctl)
    MDTEST_ASAN     1 = the module is a sanitizer build: see mdtest/apache.py
"""
import os
import re
import shutil
import subprocess
import tempfile

from .apache import APACHE_BIN, DEFAULT_MODULES, Apache
from .certs import make_ca_and_server
from .pebble import ChallTestSrv, Pebble
from .ports import free_ports

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
DEFAULT_MD_MODULE = os.path.join(REPO_ROOT, "build", "mod_md.so")
MDCTL = os.path.abspath(os.environ.get("MDTEST_MDCTL") or os.path.join(REPO_ROOT, "build", "mdctl"))


def _builtin_modules():
    out = subprocess.run([APACHE_BIN, "-l"], capture_output=True, text=True, check=True).stdout
    return {line.strip() for line in out.splitlines()}


def dns_label(text, limit=40):
    """A DNS-safe label made from `text` (for per-test domain names)."""
    label = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return label[:limit].strip("-") or "x"


class MdTestEnv:
    """Everything one pytest run shares: see conftest.py for the fixtures."""

    def __init__(self, md_module=None, log_level=None):
        self.md_module = os.path.abspath(md_module or os.environ.get("MD_MODULE") or DEFAULT_MD_MODULE)
        self.log_level = log_level or os.environ.get("MDTEST_LOGLEVEL") or "info md:trace2"
        self.check_module()
        parent = os.environ.get("MDTEST_RUN_DIR", "/tmp")
        # not pytest's tmp_path: that is 0700 and Apache's children (www-data)
        # must read the CA file and traverse to the store
        self.run_dir = tempfile.mkdtemp(prefix="mdtest-", dir=parent)
        os.chmod(self.run_dir, 0o755)
        self.http_port, self.https_port, self.ctrl_port = free_ports(3)
        self.default_modules = list(DEFAULT_MODULES)
        if "mod_watchdog.c" not in _builtin_modules():
            self.default_modules.insert(1, "watchdog")
        ca_dir = os.path.join(self.run_dir, "ca")
        os.makedirs(ca_dir)
        os.chmod(ca_dir, 0o755)
        self.certs = make_ca_and_server(ca_dir)
        self.challtestsrv = ChallTestSrv(self.run_dir)
        self.pebble = Pebble(self.run_dir, "pebble", self.certs, self.challtestsrv.dns_port,
                             self.http_port, self.https_port)
        self.extra_pebbles = []

    def check_module(self):
        if not os.path.isfile(self.md_module):
            raise RuntimeError(f"module under test not found: {self.md_module} "
                               "(build it, or set MD_MODULE=/path/to/mod_md.so)")

    def start(self):
        """Start challtestsrv and Pebble (stopping what started on failure)."""
        try:
            self.challtestsrv.start()
            self.pebble.start()
        except Exception:
            self.stop()
            raise

    def stop(self):
        for p in self.extra_pebbles:
            p.stop()
        self.pebble.stop()
        self.challtestsrv.stop()

    def cleanup(self):
        shutil.rmtree(self.run_dir, ignore_errors=True)

    def new_pebble(self, name, env=None, config=None, start=True, dns_port=None):
        """Another Pebble (own ports, own roots) validating against the same
        Apache ports, e.g. with EAB required or another nonce reject rate;
        dns_port: another DNS server than challtestsrv (e.g. BIND 9)."""
        p = Pebble(self.run_dir, name, self.certs, dns_port or self.challtestsrv.dns_port,
                   self.http_port, self.https_port, env=env, config=config)
        self.extra_pebbles.append(p)
        if start:
            p.start()
        return p

    def new_apache(self, name, **kw):
        return Apache(self, name, **kw)
