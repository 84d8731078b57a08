#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors.
"""Demo: a managed domain gets a certificate from a local Pebble CA.

Starts pebble-challtestsrv, Pebble and Apache httpd with the module (from
$MD_MODULE, default build/mod_md.so) on free 127.0.0.1 ports, waits until
the managed domain demo.test has its certificate, restarts Apache
gracefully, and shows the served certificate and an HTTPS request.
Everything is stopped at the end.  Run as root (Apache's children run as
www-data).  Options: --keep keeps the run directory, --timeout SECONDS.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from mdtest import tlsclient  # noqa: E402
from mdtest.env import MdTestEnv  # noqa: E402

DOMAIN = "demo.test"


def step(text):
    print(f"\n==> {text}", flush=True)


def show_cert(cert, indent="    "):
    d = tlsclient.describe_cert(cert)
    print(f"{indent}issuer:     {d['issuer']}")
    print(f"{indent}subject:    {d['subject']}")
    print(f"{indent}SAN names:  {', '.join(d['dns_names']) or '(none)'}")
    print(f"{indent}notBefore:  {d['not_before']}")
    print(f"{indent}notAfter:   {d['not_after']}")


def show_response(r, indent="    "):
    print(f"{indent}{r.status_line}")
    for line in r.text.splitlines() or [""]:
        print(f"{indent}| {line}")


def run(env, apache, timeout):
    step("Starting pebble-challtestsrv (DNS for Pebble, every name -> 127.0.0.1) "
         "and Pebble (ACME CA, validation on)")
    env.start()
    print(f"    ACME directory: {env.pebble.url}")
    print(f"    Pebble validates http-01 at 127.0.0.1:{env.http_port}, "
          f"tls-alpn-01 at 127.0.0.1:{env.https_port}")

    step(f"Starting Apache with the module {env.md_module}")
    apache.add(f"MDomain {DOMAIN}")
    content = apache.add_vhost(
        DOMAIN, content=f"Hello from {DOMAIN}: served with a certificate from the local Pebble CA\n")
    apache.start()
    print(f"    server root: {apache.server_root}")
    print(f"    config:      {apache.conf_path}")
    print(f"    store:       {apache.store_dir}")

    step(f"Before the first certificate: what https://{DOMAIN}/ serves")
    show_cert(apache.get_cert(DOMAIN))
    show_response(apache.https_get(DOMAIN))

    step(f"Waiting (up to {timeout}s) for the module to obtain the certificate for {DOMAIN}")
    where = apache.wait_for_cert(DOMAIN, timeout=timeout)
    print(f"    certificate is in {apache.store_path(where, DOMAIN, 'pubcert.pem')}")

    step("Graceful restart of Apache to activate it")
    apache.graceful()

    step(f"Certificate served for {DOMAIN} (chain verified against Pebble's root only)")
    show_cert(apache.verify_cert(DOMAIN))

    step(f"GET https://{DOMAIN}/ (SNI and Host {DOMAIN}, to 127.0.0.1:{env.https_port})")
    r = apache.https_get(DOMAIN, verify=True)
    show_response(r)
    if r.status != 200 or r.text != content:
        raise RuntimeError("unexpected answer")

    problems = apache.check_log(final=True)
    if problems:
        step("Warnings/errors in Apache's error log:")
        for p in problems:
            print(f"    {p}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--keep", action="store_true", help="keep the run directory")
    ap.add_argument("--timeout", type=int, default=120,
                    help="seconds to wait for the certificate (default 120)")
    args = ap.parse_args()

    env = MdTestEnv()
    apache = env.new_apache("demo")
    ok = False
    try:
        run(env, apache, args.timeout)
        ok = True
    except Exception as e:
        print(f"\nDEMO FAILED: {e}", file=sys.stderr)
        print("--- Apache error log (tail) ---", file=sys.stderr)
        print(apache.log_tail(6000), file=sys.stderr)
    finally:
        step("Stopping Apache, Pebble and challtestsrv")
        try:
            apache.stop()
        finally:
            env.stop()
        if ok and not args.keep:
            env.cleanup()
        else:
            print(f"    run directory kept: {env.run_dir}")
    print("\nDemo " + ("succeeded." if ok else "FAILED."))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
