# SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors.
"""0500: the store - taking over today's store, shared stores, the configuration test.

Today's module is Debian's /usr/lib/apache2/modules/mod_md.so, run here against the
same Pebble to produce a real store, which ours then takes over.
"""
import hashlib
import json
import os
import time

import pytest

from mdtest.ports import free_ports
from mdtest.procs import wait_until

DEBIAN_MD = "/usr/lib/apache2/modules/mod_md.so"


def _tree_digest(root):
    """Names, modes and contents of every file below root."""
    h = hashlib.sha256()
    for d, dirs, files in sorted(os.walk(root)):
        dirs.sort()
        for name in sorted(files):
            p = os.path.join(d, name)
            st = os.lstat(p)
            h.update(f"{p} {st.st_mode:o} {st.st_uid}\n".encode())
            with open(p, "rb") as f:
                h.update(f.read())
    return h.hexdigest()


def _account_of(apache, group, md):
    with open(apache.store_path(group, md, "md.json")) as f:
        return json.load(f)["ca"]["account"]


@pytest.mark.skipif(not os.path.exists(DEBIAN_MD), reason="needs Debian's mod_md.so")
def test_0500_takeover_of_todays_store(apache, domain):
    """A store written by today's module (account with an encrypted key, a served
    certificate) is taken over: ours serves the certificate at once, and its next
    renewal is ordered with the same account."""
    apache.md_module = DEBIAN_MD
    old_serial = apache.serve_first_cert(domain)
    account = _account_of(apache, "domains", domain)
    with open(apache.store_path("accounts", account, "account.json")) as f:
        account_url = json.load(f)["url"]
    apache.stop()

    # the same configuration and store, our module
    apache.md_module = apache.env.md_module
    apache.start()
    assert apache.verify_cert(domain).serial_number == old_serial
    apache.add("MDRenewWindow 3650d")          # renew now
    apache.expect_log(r"MD4012: .*MDRenewWindow 3650d is not shorter", required=True)
    apache.graceful()
    wait_until(lambda: os.path.exists(apache.store_path("staging", domain, "md.json")),
               60, what="the renewal staged by our module")
    assert _account_of(apache, "staging", domain) == account
    with open(apache.store_path("accounts", account, "account.json")) as f:
        assert json.load(f)["url"] == account_url
    apache.graceful()
    assert apache.verify_cert(domain).serial_number != old_serial


def test_0501_configtest_leaves_store_alone(apache, domain):
    """apache2 -t on a configuration whose MDs changed writes nothing to the store."""
    apache.add(f"MDomain {domain}\nMDCAChallenges http-01")
    apache.add_vhost(domain)
    apache.start()
    apache.wait_for_cert(domain)
    apache.stop()
    before = _tree_digest(apache.store_dir)
    apache.add(f"MDomain other.{domain}\nMDRenewWindow 50%")
    apache.add_vhost(f"other.{domain}")
    rc, out = apache.configtest()
    assert rc == 0, out
    assert _tree_digest(apache.store_dir) == before


def test_0502_two_servers_one_store(apache_factory, domain):
    """Two servers on one store directory manage the same MD: one of them orders,
    and both serve the new certificate after a restart."""
    a = apache_factory("a")
    # b listens elsewhere: the CA validates through a, which answers from the shared
    # store whichever server wrote the challenge
    http, https, ctrl = free_ports(3)
    b = apache_factory("b", http_port=http, https_port=https, ctrl_port=ctrl)
    b.store_dir = a.store_dir
    for srv in (a, b):
        srv.add(f"MDomain {domain}\nMDCAChallenges http-01\nMDRetryDelay 1s")
        srv.add_vhost(domain)
    a.start()
    b.start()
    a.wait_for_cert(domain)
    time.sleep(3)                       # give the other server every chance to order too
    issued = [srv for srv in (a, b) if srv.log_lines(r"MD1101: ")]
    assert len(issued) == 1, "exactly one server ordered the certificate"
    a.graceful()
    b.graceful()
    assert a.verify_cert(domain).serial_number == b.verify_cert(domain).serial_number
    assert b.https_get(domain, verify=True).status == 200
