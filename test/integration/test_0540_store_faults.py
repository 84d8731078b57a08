"""0540: the store's owner, damaged store files, and the parent killed while activating.

- MDStoreOwner gives the parts the children write to another user; the children still
  renew through the group, root's parts stay root's.
- A damaged file of any kind is reported with its path in the log and in the status, and
  never costs the certificate that serves.
- The parent killed (SIGKILL) at each step of an activation: the next start serves a
  complete set, old or new, and nothing is lost (a fault-injecting build, see
  docs/store.md "How it is tested").
"""
import grp
import json
import os
import pwd
import stat

import pytest

from mdtest.procs import wait_until

CHILD_GROUPS = ["accounts", "staging", "challenges", "ocsp", "locks"]


def _st(path):
    st = os.stat(path)
    return st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)


def test_0540_store_owner(apache, domain):
    """MDStoreOwner daemon www-data: the children's parts belong to daemon and are
    group-writable for www-data, through which the children (User www-data) still
    get the certificate; domains/ and tmp/ stay root's 0700, keys there 0600."""
    daemon = pwd.getpwnam("daemon").pw_uid
    www = grp.getgrnam("www-data").gr_gid
    apache.add(f"MDStoreOwner daemon www-data\nMDomain {domain}\nMDCAChallenges http-01")
    apache.add_vhost(domain)
    apache.start()
    for g in CHILD_GROUPS:
        uid, gid, mode = _st(apache.store_path(g))
        assert (uid, gid) == (daemon, www), g
        assert mode == 0o2775, f"{g}: {mode:o}"
    apache.wait_for_cert(domain)
    # what the children wrote: in the store's group, group-writable, keys not for others
    acct = os.listdir(apache.store_path("accounts"))[0]
    uid, gid, mode = _st(apache.store_path("accounts", acct, "account.pem"))
    assert gid == www and mode == 0o660
    uid, gid, mode = _st(apache.store_path("staging", domain, "privkey.pem"))
    assert gid == www and mode == 0o660
    apache.graceful()
    assert apache.verify_cert(domain)
    for g in ["domains", "tmp", "archive"]:
        uid, gid, mode = _st(apache.store_path(g))
        assert uid == 0 and mode == 0o700, g
    uid, gid, mode = _st(apache.store_path("domains", domain, "privkey.pem"))
    assert (uid, mode) == (0, 0o600)
    uid, gid, mode = _st(apache.store_path("locks", f"{domain}.lock"))
    assert gid == www and mode & 0o060 == 0o060
    assert _st(apache.store_path("md_store.json"))[::2] == (0, 0o600)


@pytest.mark.parametrize("owner,error", [
    ("no-such-user-0540", r"MDStoreOwner: unknown user 'no-such-user-0540'"),
    ("daemon no-such-group-0540", r"MDStoreOwner: unknown group 'no-such-group-0540'"),
    ("nobody nogroup", r"MD6001: MDStoreOwner \(.*httpd.conf:\d+\): the store's group"),
])
def test_0541_store_owner_invalid(apache, domain, owner, error):
    """An unknown user or group, or a group the children are not in, stops the
    configuration test and the start with a message naming the directive and line."""
    import re
    apache.add(f"MDStoreOwner {owner}\nMDomain {domain}\nMDCAChallenges http-01")
    apache.add_vhost(domain)
    rc, out = apache.configtest()
    assert rc != 0
    assert re.search(error, out), out
    if "MD6001" not in error:
        assert re.search(r"line \d+ of .*httpd.conf", out), out
