# SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors.
"""mdtest: integration test harness for the mod_md re-implementation.

Everything runs on 127.0.0.1: a Pebble ACME CA, pebble-challtestsrv as its DNS
server, and Apache httpd (Debian's binary) with the module under test.

Modules:
    ports      free loopback TCP ports
    certs      a throw-away CA and server certificate for Pebble's own HTTPS
    procs      small helpers for background processes and waiting
    pebble     Pebble and pebble-challtestsrv process control
    apache     an Apache httpd instance with a generated configuration
    tlsclient  fetch/verify served certificates, HTTP(S) requests with SNI
    env        the per-run environment (run dir, ports, CA, Pebble, paths)
    storecheck owners and modes of the store (check_store, assert_store)
"""
