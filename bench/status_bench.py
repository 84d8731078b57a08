#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors.
"""Latency of the status outputs at 100, 1,000 and 10,000 managed domains:
md-status (all MDs), server-status?auto and the metrics endpoint, for our module
and today's (Debian's mod_md.so) side by side.  See bench/README.md.

    bench/status_bench.py [--sizes 100,1000,10000] [--requests 30]
                          [--ours build/mod_md.so] [--today /usr/lib/apache2/modules/mod_md.so]

The store is filled with self-signed certificates made here (no CA is needed):
every MD is `MDRenewMode manual`, so neither module contacts a CA.  Run as
root (Apache's children run as www-data).  Not part of CI.
"""
import argparse
import datetime
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

APACHE = "/usr/sbin/apache2"
MODULES = "/usr/lib/apache2/modules"
HERE = os.path.dirname(os.path.abspath(__file__))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_store(store, names):
    """domains/<name>/{md.json,pubcert.pem,privkey.pem} for every name; one EC key for
    all (in the files of the default key spec: both modules only check that key and
    certificate match)."""
    key = ec.generate_private_key(ec.SECP256R1())
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    now = datetime.datetime.now(datetime.timezone.utc)
    for name in names:
        d = os.path.join(store, "domains", name)
        os.makedirs(d, mode=0o700)
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(days=1))
                .not_valid_after(now + datetime.timedelta(days=89))
                .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
                .sign(key, hashes.SHA256()))
        with open(os.path.join(d, "pubcert.pem"), "wb") as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))
        with open(os.path.join(d, "privkey.pem"), "wb") as f:
            f.write(key_pem)
        os.chmod(os.path.join(d, "privkey.pem"), 0o600)
        md = {"name": name, "domains": [name], "contacts": [], "transitive": 0,
              "ca": {"proto": "ACME", "urls": ["https://ca.invalid/dir"]},
              "state": 2, "renew-mode": 0, "renew-window": "33%", "warn-window": "10%"}
        with open(os.path.join(d, "md.json"), "w") as f:
            json.dump(md, f)


def write_config(root, module, store, port, names):
    user = "User www-data\nGroup www-data\n" if os.geteuid() == 0 else ""
    mods = "".join(f"LoadModule {m}_module {MODULES}/mod_{m}.so\n"
                   for m in ("mpm_event", "authz_core", "status", "socache_shmcb", "ssl"))
    mds = "".join(f"MDomain {n}\n" for n in names)
    conf = f"""ServerRoot "{root}"
DefaultRuntimeDir "{root}/run"
PidFile "{root}/run/httpd.pid"
ErrorLog "{root}/logs/error_log"
LogLevel warn
ServerName localhost
{user}Listen 127.0.0.1:{port}
{mods}LoadModule md_module "{module}"
StartServers 1
ThreadsPerChild 10
MinSpareThreads 5
MaxSpareThreads 30
MaxRequestWorkers 40
ServerLimit 8
MDStoreDir "{store}"
MDRenewMode manual
MDCertificateAuthority https://ca.invalid/dir
MDServerStatus on
{mds}<Location /server-status>
    SetHandler server-status
</Location>
<Location /md-status>
    SetHandler md-status
</Location>
<Location /metrics>
    SetHandler md-metrics
</Location>
"""
    with open(os.path.join(root, "conf", "httpd.conf"), "w") as f:
        f.write(conf)


def wait_port(port, timeout=600):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"port {port} did not open")


def measure(port, path, requests):
    """Median and 90th percentile latency in ms over keep-alive requests. The first
    request is reported separately: it waits for the end of the start-up (the port
    accepts connections before the modules' post_config is done) and, for ours,
    parses the snapshot in the child."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    times, first, size, status = [], None, 0, None
    for i in range(requests + 1):
        t = time.perf_counter()
        conn.request("GET", path)
        r = conn.getresponse()
        body = r.read()
        dt = (time.perf_counter() - t) * 1000
        status, size = r.status, len(body)
        if i == 0:
            first = dt
        else:
            times.append(dt)
    conn.close()
    if status != 200:
        return None
    times.sort()
    return {"first": first, "median": statistics.median(times),
            "p90": times[int(len(times) * 0.9) - 1], "bytes": size}


def run(module, store_src, n, names, requests, workdir):
    root = tempfile.mkdtemp(prefix=f"status-bench-{n}-", dir=workdir)
    os.chmod(root, 0o755)
    for d in ("conf", "logs", "run"):
        os.makedirs(os.path.join(root, d))
    store = os.path.join(root, "md")
    shutil.copytree(store_src, store)
    port = free_port()
    write_config(root, module, store, port, names)
    conf = os.path.join(root, "conf", "httpd.conf")
    subprocess.run([APACHE, "-d", root, "-f", conf, "-k", "start"], check=True)
    try:
        wait_port(port)
        results = {}
        for label, path in (("md-status", "/md-status"), ("server-status?auto", "/server-status?auto"),
                            ("metrics", "/metrics")):
            results[label] = measure(port, path, requests)
        return results
    finally:
        subprocess.run([APACHE, "-d", root, "-f", conf, "-k", "stop"], check=False)
        time.sleep(2)
        shutil.rmtree(root, ignore_errors=True)


def fmt(r):
    return "n/a" if r is None else f"{r['median']:8.2f} ms (p90 {r['p90']:.2f}, first {r['first']:.1f}, {r['bytes']} B)"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100,1000,10000")
    ap.add_argument("--requests", type=int, default=30)
    ap.add_argument("--ours", default=os.path.join(HERE, "..", "build", "mod_md.so"))
    ap.add_argument("--today", default=os.path.join(MODULES, "mod_md.so"))
    ap.add_argument("--workdir", default="/tmp")
    args = ap.parse_args()
    for n in [int(s) for s in args.sizes.split(",")]:
        names = [f"md{i:05d}.bench.test" for i in range(n)]
        src = tempfile.mkdtemp(prefix=f"status-bench-store-{n}-", dir=args.workdir)
        t = time.perf_counter()
        make_store(src, names)
        print(f"\n== {n} MDs (store made in {time.perf_counter() - t:.1f}s)")
        ours = run(os.path.abspath(args.ours), src, n, names, args.requests, args.workdir)
        today = run(args.today, src, n, names, args.requests, args.workdir)
        shutil.rmtree(src, ignore_errors=True)
        for label in ("md-status", "server-status?auto", "metrics"):
            o, t_ = ours[label], today[label]
            ratio = f"{t_['median'] / o['median']:.1f}x faster" if o and t_ else "-"
            print(f"  {label:20s} ours  {fmt(o)}\n  {'':20s} today {fmt(t_)}   -> ours {ratio}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
