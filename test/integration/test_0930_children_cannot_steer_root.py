# SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors.
"""0930: the children's part of the store cannot be turned against root.

Each test plays an attacker who runs code as www-data (the user of Apache's
children, e.g. through a web application) for real: `setpriv --reuid=33
--regid=33 --clear-groups`, against files owned by root outside the store
("victims"). What root does in the store (the parent at every start, mdctl run
as root) must never reach a victim: not through a link, not through a folder
swapped for a link in the middle of a walk, not by waiting on a FIFO.
docs/security.md names these tests for each claim.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time

import pytest

from mdtest.env import MDCTL

WWW_DATA = ["setpriv", "--reuid=33", "--regid=33", "--clear-groups"]


def as_www_data(script, wait=True, timeout=120):
    """Run a Python snippet as www-data; returns the process when not waiting."""
    cmd = WWW_DATA + [sys.executable, "-c", textwrap.dedent(script)]
    if not wait:
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f"attacker script failed:\n{r.stdout}{r.stderr}"
    return r


class Victim:
    """A root-only folder outside the store with `count` root 0600 files."""

    def __init__(self, count=1, names=None):
        self.dir = tempfile.mkdtemp(prefix="md-victim-")
        os.chmod(self.dir, 0o700)
        self.names = names or [f"f{i:05d}" for i in range(count)]
        for n in self.names:
            path = os.path.join(self.dir, n)
            with open(path, "w") as f:
                f.write("root's\n")
            os.chmod(path, 0o600)
        # www-data may reach the folder (to aim a link at it), not what is in it
        os.chmod(self.dir, 0o711)

    def damage(self):
        """What changed: files missing, given away, re-moded or rewritten; new files."""
        found = []
        present = set(os.listdir(self.dir))
        for n in self.names:
            path = os.path.join(self.dir, n)
            if n not in present:
                found.append(f"{n}: removed")
                continue
            st = os.lstat(path)
            if st.st_uid != 0 or st.st_gid != 0:
                found.append(f"{n}: owner {st.st_uid}:{st.st_gid}")
            if st.st_mode & 0o7777 != 0o600:
                found.append(f"{n}: mode {st.st_mode & 0o7777:o}")
            with open(path) as f:
                if f.read() != "root's\n":
                    found.append(f"{n}: content changed")
        found += [f"{n}: new file" for n in sorted(present - set(self.names))]
        return found

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def victim_factory():
    made = []

    def make(**kw):
        v = Victim(**kw)
        made.append(v)
        return v
    yield make
    for v in made:
        v.cleanup()


def _serving(apache, domain):
    """An MD the server knows (no renewal runs: manual mode), its vhost, started."""
    apache.add(f"""
        MDomain {domain}
        MDRenewMode manual
        MDStapling on
    """)
    apache.add_vhost(domain)
    apache.start()


SWAPPER = """
    import os, sys, time
    real, moved, target, seconds = sys.argv[1:5]
    end = time.monotonic() + float(seconds)
    n = 0
    while time.monotonic() < end:
        try:
            time.sleep(0.002)
            os.rename(real, moved)
            os.symlink(target, real)
            time.sleep(0.002)
            os.unlink(real)
            os.rename(moved, real)
            n += 1
        except OSError:
            time.sleep(0.001)
    print("swaps", n)
"""


def _swapper(real, target, seconds):
    """www-data swapping the folder `real` for a link to `target`, back and forth."""
    cmd = WWW_DATA + [sys.executable, "-c", textwrap.dedent(SWAPPER), real, real + ".real",
                      target, str(seconds)]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _stop(proc):
    try:
        out, _ = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    return out


@pytest.mark.parametrize("trigger", ["children-chmod", "owner-record-lost"])
def test_0931_ownership_walk_follows_no_swapped_folder(apache, domain, victim_factory, trigger):
    """Finding 1: root repairs the owner of the children's files at a start. A
    folder swapped for a link to a root-only folder while root walks it must
    not hand that folder's files to www-data. 'children-chmod': www-data's own
    `chmod g+w staging` was the trigger (now only a root-owned record is);
    'owner-record-lost': the walk runs (as after an upgrade) and is raced."""
    _serving(apache, domain)
    count = 20000
    victim = victim_factory(count=count)
    big = apache.store_path("staging", "big")
    as_www_data(f"""
        import os
        os.mkdir({big!r})
        for i in range({count}):
            open(os.path.join({big!r}, "f%05d" % i), "w").close()
    """)
    for attempt in range(3):
        # the trigger of old: www-data's own chmod of its folder; now only a record of root's
        as_www_data(f"import os; os.chmod({apache.store_path('staging')!r}, 0o775)")
        record = apache.store_path("children.json")
        if trigger == "owner-record-lost" and os.path.exists(record):
            os.remove(record)
        swapper = _swapper(big, victim.dir, 10)
        time.sleep(0.5)
        apache.graceful()
        out = _stop(swapper)
        assert "swaps" in out, out
        damage = victim.damage()
        assert not damage, f"attempt {attempt}: root changed files outside the store:\n" \
                           + "\n".join(damage[:10])
        if trigger == "owner-record-lost":
            # the walk ran: the record is back, staging has the store's mode again
            assert os.path.exists(record)
            assert os.stat(apache.store_path("staging")).st_mode & 0o7777 == 0o755


def test_0932_removal_follows_no_link(apache, domain, victim_factory):
    """Finding 2: root removes damaged OCSP responses and leftover staging
    folders at a start. A link planted in their place must lose only itself."""
    _serving(apache, domain)
    victim = victim_factory(names=["broken.json", "privkey.pem", "job.json"])
    with open(os.path.join(victim.dir, "broken.json"), "w") as f:
        f.write("root's\n")      # not JSON: the scan would remove it as damage
    ocsp = apache.store_path("ocsp", domain)
    as_www_data(f"""
        import os, shutil
        shutil.rmtree({ocsp!r}, ignore_errors=True)
        os.symlink({victim.dir!r}, {ocsp!r})
        os.symlink({victim.dir!r}, {apache.store_path("staging", domain)!r})
    """)
    apache.graceful()
    assert not victim.damage()
    apache.restart()
    assert not victim.damage()
    r = apache.https_get(domain)
    assert r.status in (200, 503, 404), r.status_line


def test_0933_fifo_holds_nobody(apache, domain):
    """Finding 3: a FIFO where root expects a file (an OCSP response, a lock
    file, the restart marker) must not hold the parent at a restart: the
    server restarts and answers as usual."""
    _serving(apache, domain)
    as_www_data(f"""
        import os
        os.makedirs({apache.store_path("ocsp", domain)!r}, exist_ok=True)
        os.mkfifo({apache.store_path("ocsp", domain, "ocsp-0000.json")!r})
        os.makedirs({apache.store_path("staging", domain)!r}, exist_ok=True)
        os.mkfifo({apache.store_path("staging", domain, "job.json")!r})
        os.mkfifo({apache.store_path("staging", domain, "md.json")!r})
        os.makedirs({apache.store_path("locks")!r}, exist_ok=True)
        lock = {apache.store_path("locks", domain + ".lock")!r}
        if os.path.exists(lock):
            os.remove(lock)
        os.mkfifo(lock)
        os.mkfifo({apache.store_path("staging", ".renew-requests")!r})
    """)
    start = time.monotonic()
    apache.graceful(timeout=20)
    assert time.monotonic() - start < 20
    r = apache.http_get(domain, "/")
    assert r.status in (200, 301, 302, 404, 503), r.status_line
    apache.stop()
    apache.start(timeout=20)


def test_0934_root_writes_through_no_link(apache, pebble, domain, victim_factory):
    """Finding 4: mdctl, run as root, saves an account (new contacts) into
    accounts/<acct>/. A www-data that swaps that folder for a link to a
    root-only folder meanwhile must not get files written (and given to it)
    there."""
    apache.serve_first_cert(domain)
    acct = sorted(os.listdir(apache.store_path("accounts")))[0]
    victim = victim_factory(count=1)
    real = apache.store_path("accounts", acct)
    swapper = _swapper(real, victim.dir, 30)
    try:
        for i in range(20):
            subprocess.run([MDCTL, "-d", apache.store_dir, "account-contacts", "-c",
                            pebble.ca_file, acct, f"admin{i}@example.org"],
                           capture_output=True, text=True, timeout=60)
            if victim.damage():
                break
    finally:
        out = _stop(swapper)
    assert "swaps" in out, out
    assert not victim.damage(), "\n".join(victim.damage())
