# SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors.
"""BIND 9 (Debian's bind9) as the authoritative server of one test zone, on a
free 127.0.0.1 port, accepting RFC 2136 updates signed with a TSIG key.

    named -g -c <dir>/named.conf -p <port>

The zone has A records for its apex, ns and every name below it (a wildcard),
all 127.0.0.1, so that http-01 validation reaches Apache; dynamic updates are
allowed only with the key (tsig-keygen output, the same file nsupdate -k reads).
No rndc control channel, no recursion.
"""
import os
import shutil
import socket
import struct
import subprocess

from .ports import free_ports
from .procs import BackgroundProcess, wait_until

NAMED = shutil.which("named") or "/usr/sbin/named"
TSIG_KEYGEN = shutil.which("tsig-keygen") or "/usr/sbin/tsig-keygen"
KEY_NAME = "mdtest-update"


def available():
    """None when named, tsig-keygen and nsupdate are there, else what is missing."""
    missing = [p for p in (NAMED, TSIG_KEYGEN) if not os.path.exists(p)]
    if not shutil.which("nsupdate"):
        missing.append("nsupdate")
    return (", ".join(missing) + " not installed (packages bind9, bind9-utils, "
            "bind9-dnsutils)") if missing else None


class Bind9:
    def __init__(self, run_dir, zone, key_owner=None):
        self.zone = zone.rstrip(".")
        self.dir = os.path.join(run_dir, f"bind9-{self.zone}")
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o755)
        self.port = free_ports(1)[0]
        self.conf = os.path.join(self.dir, "named.conf")
        self.key_file = os.path.join(self.dir, "tsig.key")          # for nsupdate -k
        self.named_key_file = os.path.join(self.dir, "named-tsig.key")
        self.key_owner = key_owner
        self.proc = BackgroundProcess("named", [NAMED, "-g", "-c", self.conf, "-p", str(self.port)],
                                      os.path.join(self.dir, "named.log"))

    def _write(self):
        key = subprocess.run([TSIG_KEYGEN, "-a", "hmac-sha256", KEY_NAME], check=True,
                             capture_output=True, text=True).stdout
        # the key is a secret: only its user reads it. named (root here, but without
        # the capability to read other users' files) has its own copy; the dns-01
        # program, which runs as the server's User, the other
        for path, owner in ((self.named_key_file, None), (self.key_file, self.key_owner)):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(key)
            if owner:
                shutil.chown(path, owner, owner)
        with open(os.path.join(self.dir, "zone.db"), "w") as f:
            f.write(f"""$TTL 60
@       IN SOA ns.{self.zone}. hostmaster.{self.zone}. 1 60 60 600 60
@       IN NS  ns.{self.zone}.
@       IN A   127.0.0.1
ns      IN A   127.0.0.1
*       IN A   127.0.0.1
""")
        with open(self.conf, "w") as f:
            f.write(f"""options {{
    directory "{self.dir}";
    pid-file "{self.dir}/named.pid";
    session-keyfile "{self.dir}/session.key";
    listen-on port {self.port} {{ 127.0.0.1; }};
    listen-on-v6 {{ none; }};
    recursion no;
    allow-query {{ 127.0.0.1; }};
    dnssec-validation no;
}};
controls {{ }};
include "{self.named_key_file}";
zone "{self.zone}" {{
    type primary;
    file "{self.dir}/zone.db";
    allow-update {{ key "{KEY_NAME}"; }};
}};
""")

    def start(self, timeout=20):
        self._write()
        self.proc.start()

        def ready():
            if not self.proc.running():
                raise RuntimeError("named exited:\n" + self.proc.log_text())
            return self.query(self.zone, "SOA") is not None
        wait_until(ready, timeout, interval=0.2, what="named answering for its zone")

    def stop(self):
        self.proc.stop()

    def log_text(self):
        return self.proc.log_text()

    def query(self, name, rtype="TXT"):
        """The answer count of a UDP query to named, or None without an answer
        (a minimal DNS client: no dig needed in the tests)."""
        types = {"A": 1, "SOA": 6, "TXT": 16}
        qname = b"".join(bytes([len(p)]) + p.encode() for p in name.rstrip(".").split(".")) + b"\0"
        msg = struct.pack(">HHHHHH", 0x4d44, 0, 1, 0, 0, 0) + qname + struct.pack(">HH", types[rtype], 1)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(1)
            try:
                s.sendto(msg, ("127.0.0.1", self.port))
                data = s.recv(4096)
            except OSError:
                return None
        rcode = data[3] & 0x0F
        return None if rcode else struct.unpack(">H", data[6:8])[0]
