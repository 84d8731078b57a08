# SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors.
"""Owners and modes of a mod_md store, as documented in docs/security.md
(and the compatibility reference for the layout):

    md_store.json                 0600, root
    domains/ archive/ tmp/        dirs 0700, files 0600, root
    accounts/ staging/            dirs 0755, owned by the children's user (www-data)
    challenges/ ocsp/             when the parent runs as root; files 0644
    any private key               0600 wherever it is (encrypted or not)
    nothing                       group- or world-writable, no symlinks

check_store(store_dir, child_user="www-data") returns a list of violations (empty
when all is well); assert_store() fails a test with all of them listed.
"""
import os
import pwd
import stat

ROOT_ONLY = ("domains", "archive", "tmp")
FOR_CHILDREN = ("accounts", "staging", "challenges", "ocsp")


def _is_key(path):
    try:
        with open(path, "rb") as f:
            return b"PRIVATE KEY-----" in f.read(1 << 20)
    except OSError:
        return False


def _owner(st):
    try:
        return pwd.getpwuid(st.st_uid).pw_name
    except KeyError:
        return str(st.st_uid)


def _expect(rel, st, is_dir, child_user):
    """(mode, owner) expected for a store entry; None: no rule for it."""
    parts = rel.split(os.sep)
    group = parts[0]
    as_root = os.geteuid() == 0
    if rel == "md_store.json":
        return 0o600, "root" if as_root else None
    if group in ROOT_ONLY:
        return (0o700 if is_dir else 0o600), "root" if as_root else None
    if group in FOR_CHILDREN:
        owner = child_user if as_root else None
        if len(parts) == 1:
            # the group directory itself is given to the children at start
            return 0o755, owner
        return (0o755 if is_dir else 0o644), owner
    return None


def check_store(store_dir, child_user="www-data"):
    problems = []
    for dirpath, dirnames, filenames in os.walk(store_dir):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, store_dir)
            try:
                st = os.lstat(path)
            except FileNotFoundError:
                continue    # a live store: a temporary file renamed while we walked
            mode = stat.S_IMODE(st.st_mode)
            if stat.S_ISLNK(st.st_mode):
                problems.append(f"{rel}: a symlink")
                continue
            if mode & 0o022:
                problems.append(f"{rel}: group/world-writable ({mode:o})")
            is_dir = stat.S_ISDIR(st.st_mode)
            if not is_dir and _is_key(path):
                if mode != 0o600:
                    problems.append(f"{rel}: private key with mode {mode:o}, not 600")
                expected = _expect(rel, st, False, child_user)
                if expected and expected[1] and _owner(st) != expected[1]:
                    problems.append(f"{rel}: owned by {_owner(st)}, not {expected[1]}")
                continue
            expected = _expect(rel, st, is_dir, child_user)
            if expected is None:
                continue
            want_mode, want_owner = expected
            if mode != want_mode:
                problems.append(f"{rel}: mode {mode:o}, not {want_mode:o}")
            if want_owner and _owner(st) != want_owner:
                problems.append(f"{rel}: owned by {_owner(st)}, not {want_owner}")
    return problems


def assert_store(store_dir, child_user="www-data", when=""):
    problems = check_store(store_dir, child_user)
    assert not problems, (f"store {store_dir} {when}: " if when else f"store {store_dir}: ") \
        + "\n  ".join([""] + problems)


def world_readable_files(store_dir):
    """Paths of regular files anyone on the machine can read (all their
    parent directories searchable by others, the file readable by others)."""
    found = []
    for dirpath, _dirs, filenames in os.walk(store_dir):
        if not _others_can_reach(store_dir, dirpath):
            continue
        for name in filenames:
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            if stat.S_ISREG(st.st_mode) and st.st_mode & stat.S_IROTH:
                found.append(path)
    return found


def _others_can_reach(store_dir, dirpath):
    path = dirpath
    while True:
        if not os.stat(path).st_mode & stat.S_IXOTH:
            return False
        if os.path.samefile(path, store_dir):
            return True
        path = os.path.dirname(path)
