# SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors.
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
import re
import signal
import stat
import subprocess

import pytest
from cryptography.hazmat.primitives import serialization

from mdtest.apache import APACHE_BIN
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
    apache.add(f"MDStoreOwner {owner}\nMDomain {domain}\nMDCAChallenges http-01")
    apache.add_vhost(domain)
    rc, out = apache.configtest()
    assert rc != 0
    assert re.search(error, out), out
    if "MD6001" not in error:
        assert re.search(r"line \d+ of .*httpd.conf", out), out



# ---- damaged files ---------------------------------------------------------------

def _truncate(path):
    with open(path, "rb") as f:
        data = f.read()
    with open(path, "wb") as f:
        f.write(data[: len(data) // 2])


def _account(apache, domain):
    with open(apache.store_path("domains", domain, "md.json")) as f:
        return json.load(f)["ca"]["account"]


# kind -> (the file, relative to the store, as a function of apache and the MD;
#          what the status says was done; does the served certificate stay?)
DAMAGE = {
    "md.json": (lambda a, d: ("domains", d, "md.json"), "written again from the configuration", True),
    "job.json": (lambda a, d: ("domains", d, "job.json"), "a fresh job replaces it", True),
    "account.json": (lambda a, d: ("accounts", _account(a, d), "account.json"), "not valid JSON", True),
    "account.pem": (lambda a, d: ("accounts", _account(a, d), "account.pem"),
                    "not a private key that the store key decrypts", True),
    "ocsp": (lambda a, d: ("ocsp", d, "ocsp-0540.json"), "fetched again", True),
    "pubcert.pem": (lambda a, d: ("domains", d, "pubcert.pem"), "the MD gets a new certificate", False),
    "privkey.pem": (lambda a, d: ("domains", d, "privkey.pem"), "the MD gets a new certificate", False),
}


@pytest.mark.parametrize("kind", list(DAMAGE))
def test_0542_damaged_file_reported(apache, domain, kind):
    """A damaged store file is reported at the next start with its path, in the log
    and in the MD's status (md-status "store-damage", server-status StoreDamage);
    what can be rebuilt is; the last good certificate keeps serving, or, when it is
    the served set that is damaged, the MD gets a new one."""
    where, done, keeps = DAMAGE[kind]
    apache.add_status_vhost()
    serial = apache.serve_first_cert(domain)
    path = apache.store_path(*where(apache, domain))
    if kind == "ocsp":
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write('{"response": "MIIB')
    else:
        _truncate(path)
    apache.expect_log(r"MD6002: " + re.escape(path) + " is damaged", required=True)
    if not keeps:
        apache.expect_log(r"AH10085: .*503", required=False)   # the fallback, meanwhile
    apache.restart()
    st = apache.md_status(domain)
    damage = {e["path"]: e["problem"] for e in st.get("store-damage", [])}
    assert path in damage, st.get("store-damage")
    assert done in damage[path]
    auto = apache.server_status("auto")
    assert re.search(r"ManagedDomain\[0\]StoreDamage\[0\]: " + re.escape(path), auto), auto
    if keeps:
        assert apache.verify_cert(domain).serial_number == serial
        if kind in ("job.json", "ocsp"):       # rebuilt: removed, made again when needed
            assert not os.path.exists(path) or json.load(open(path))
    else:
        wait_until(lambda: apache._job_finished(domain), 60, what="the new certificate")
        apache.graceful()
        assert apache.verify_cert(domain).serial_number != serial


def test_0543_damaged_staged_set(apache, domain):
    """A staged (renewed, not yet active) set with a damaged certificate is not
    activated: it is reported and removed, the served certificate stays, and the
    renewal starts over and stages a good set."""
    apache.add_status_vhost()
    serial = apache.serve_first_cert(domain)
    apache.add("MDRenewWindow 3650d")
    apache.expect_log(r"MD4012: ", required=True)
    apache.graceful()
    wait_until(lambda: os.path.exists(apache.store_path("staging", domain, "pubcert.pem"))
               and apache._job_finished(domain), 60, what="the renewed certificate")
    apache.stop()
    path = apache.store_path("staging", domain, "pubcert.pem")
    _truncate(path)
    apache.expect_log(r"MD6002: " + re.escape(path) + " is damaged", required=True)
    apache.start()
    assert apache.verify_cert(domain).serial_number == serial
    damage = {e["path"]: e["problem"] for e in apache.md_status(domain).get("store-damage", [])}
    assert "staging removed; the renewal starts over" in damage[path]
    wait_until(lambda: os.path.exists(path) and apache._job_finished(domain), 60,
               what="a good renewed certificate")
    apache.graceful()
    assert apache.verify_cert(domain).serial_number != serial


# ---- the parent killed while activating ------------------------------------------

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# every step of an activation (src/core/md_store.c, md_store_activate/_recover)
ACTIVATION_POINTS = [
    "activate-copying",         # staging -> tmp/<md>: one file copied, the rest not
    "activate-copied",          # all copied, no .complete marker yet
    "activate-marked",          # tmp/<md>/.complete written
    "activate-archived",        # domains/<md> moved to archive/, tmp/<md> not yet in place
    "activate-renamed",         # tmp/<md> is domains/<md>, marker and staging still there
    "activate-staging-purged",  # staging/<md> gone, the marker still in domains/<md>
]


@pytest.fixture(scope="module")
def fault_module():
    """build-fault/mod_md.so: the module with its crash points (make fault-module)."""
    r = subprocess.run(["make", "-C", REPO, "fault-module"], capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    return os.path.join(REPO, "build-fault", "mod_md.so")


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def _run_until_killed(apache, point):
    """The server in the foreground with MD_FAULT_POINT set: it kills itself there."""
    apache.write_config()
    env = dict(os.environ, MD_FAULT_POINT=point)
    proc = subprocess.Popen([APACHE_BIN, "-d", apache.server_root, "-f", apache.conf_path,
                             "-DFOREGROUND"], env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        rc = proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()                 # ours, by its pid: the point was never reached
        proc.wait()
        pytest.fail(f"the crash point {point} was not reached")
    assert rc == -signal.SIGKILL, f"exit {rc}"


@pytest.mark.parametrize("point", ACTIVATION_POINTS)
def test_0545_parent_killed_in_activation(apache, domain, fault_module, point):
    """The parent is killed (SIGKILL) at a step of activating a renewed set of two
    key specs; at the next start the renewed set serves, complete (both
    certificates of the new set), the old one is in the archive, no leftovers."""
    specs = ["pubcert.pem", "pubcert.secp256r1.pem"]
    apache.md_module = fault_module
    apache.add(f"MDomain {domain}\nMDCAChallenges http-01\nMDPrivateKeys RSA secp256r1")
    apache.add_vhost(domain)
    apache.start()
    staged = lambda: all(os.path.exists(apache.store_path("staging", domain, f)) for f in specs) \
        and apache._job_finished(domain)
    wait_until(staged, 60, what="the first certificates")
    apache.graceful()
    old = {f: _read(apache.store_path("domains", domain, f)) for f in specs}
    # a renewal, staged
    apache.add("MDRenewWindow 3650d")
    apache.expect_log(r"MD4012: ", required=True)
    apache.graceful()
    wait_until(staged, 60, what="the renewed certificates")
    new = {f: _read(apache.store_path("staging", domain, f)) for f in specs}
    assert new != old
    apache.stop()

    _run_until_killed(apache, point)
    apache.start()
    # the renewed set serves, whole; nothing half-done is left
    for f in specs:
        assert _read(apache.store_path("domains", domain, f)) == new[f], f
    assert not os.path.exists(apache.store_path("tmp", domain))
    assert not os.path.exists(apache.store_path("domains", domain, ".complete"))
    # the old set in the archive (the first start archived a set without certificate)
    archived = [apache.store_path("archive", d, "pubcert.pem")
                for d in os.listdir(apache.store_path("archive")) if d.startswith(domain + ".")]
    assert [_read(p) for p in archived if os.path.exists(p)] == [old["pubcert.pem"]]
    served = apache.verify_cert(domain)
    assert served.public_bytes(serialization.Encoding.PEM) in b"".join(new.values())
