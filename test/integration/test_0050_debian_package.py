# SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors.
"""0050: the Debian package (debian/, `make deb`).

It is built (or taken from MDTEST_DEB), installed with dpkg -i into this
machine's Debian /etc/apache2 (CI machines are throwaway; everything is put
back: modules and a2enmod's records in /var/lib/apache2, package, files), and must:
  * install the module as mod_md_managed.so with mods-available/md_managed.load,
    mdctl with its man page, the docs and the contrib examples, and enable
    nothing by itself;
  * refuse to be enabled next to Debian's own "md" (a2enmod says so), and make
    apache2ctl -t fail with a message saying what to do when both are loaded;
  * after `a2dismod md && a2enmod md_managed`: apache2ctl -t passes and the
    loaded md_module is ours (a directive only ours has is accepted);
  * go away with dpkg -r, and with --purge take its .load file but leave the
    store /etc/apache2/md alone.
"""
import glob
import os
import shutil
import subprocess

import pytest

from mdtest.apache import SANITIZE
from mdtest.env import REPO_ROOT

PKG = "libapache2-mod-md-managed"
ETC = "/etc/apache2"
MODS_ENABLED = os.path.join(ETC, "mods-enabled")
STATE_DIR = "/var/lib/apache2"

pytestmark = [
    pytest.mark.skipif(shutil.which("dpkg-buildpackage") is None and not os.environ.get("MDTEST_DEB"),
                       reason="dpkg-buildpackage not installed (package dpkg-dev; .ci/run installs "
                              "it) and no MDTEST_DEB given"),
    pytest.mark.skipif(os.geteuid() != 0, reason="installs a package: needs root"),
    pytest.mark.skipif(SANITIZE, reason="the package holds the normal build, checked in the "
                                        "plain integration run; not built again for the ASan run"),
    pytest.mark.skipif(not os.path.isdir(MODS_ENABLED), reason="no Debian /etc/apache2"),
]


def run(*argv, check=True, timeout=300):
    r = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout)
    if check:
        assert r.returncode == 0, f"{' '.join(argv)} exited {r.returncode}:\n{r.stdout}{r.stderr}"
    return r


def apache2_t(*extra):
    """apache2 -t with Debian's environment (what apache2ctl -t runs), and extra args."""
    args = " ".join(f"'{a}'" for a in extra)
    return subprocess.run(["sh", "-c", f". {ETC}/envvars && apache2 -t {args}"],
                          capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def deb(tmp_path_factory):
    given = os.environ.get("MDTEST_DEB")
    if given:
        return given
    out = tmp_path_factory.mktemp("deb")
    run("make", "-C", REPO_ROOT, "deb", f"DEB_DIR={out}", timeout=900)
    found = [p for p in glob.glob(os.path.join(out, f"{PKG}_*.deb"))]
    assert len(found) == 1, os.listdir(out)
    return found[0]


@pytest.fixture
def system(deb, tmp_path):
    """The package installed; afterwards the modules enabled before, the package
    purged and a store made for the test removed again."""
    if run("dpkg", "-s", PKG, check=False).returncode == 0:
        pytest.skip(f"{PKG} is installed on this machine already: not touched")
    enabled = set(os.listdir(MODS_ENABLED))
    # a2enmod/a2dismod also keep who enabled what (enabled_by_admin/, ...)
    state = os.path.join(str(tmp_path), "var-lib-apache2")
    if os.path.isdir(STATE_DIR):
        shutil.copytree(STATE_DIR, state, symlinks=True)
    made_store = not os.path.exists(os.path.join(ETC, "md"))
    if made_store:
        os.makedirs(os.path.join(ETC, "md"))
    with open(os.path.join(ETC, "md", "mdtest-0050-marker"), "w") as f:
        f.write("the store is the administrator's: no package removes it\n")
    try:
        run("dpkg", "-i", deb)
        yield
    finally:
        for link in glob.glob(os.path.join(MODS_ENABLED, "md_managed.*")):
            os.unlink(link)
        run("dpkg", "--purge", PKG, check=False)
        now = set(os.listdir(MODS_ENABLED))
        for name in now - enabled:
            os.unlink(os.path.join(MODS_ENABLED, name))
        for name in enabled - now:
            os.symlink(os.path.join("..", "mods-available", name), os.path.join(MODS_ENABLED, name))
        if os.path.isdir(state):
            shutil.rmtree(STATE_DIR)
            shutil.copytree(state, STATE_DIR, symlinks=True)
        os.unlink(os.path.join(ETC, "md", "mdtest-0050-marker"))
        if made_store:
            os.rmdir(os.path.join(ETC, "md"))


def test_0050_package_installs_switches_and_leaves(system):
    modules = run("apxs", "-q", "LIBEXECDIR").stdout.strip()
    ours = os.path.join(modules, "mod_md_managed.so")
    load = os.path.join(ETC, "mods-available", "md_managed.load")
    # 1. installed, not enabled; Debian's own module untouched
    for path in (ours, load, "/usr/bin/mdctl", "/usr/share/man/man1/mdctl.1.gz",
                 f"/usr/share/doc/{PKG}/examples/dns01-nsupdate.sh",
                 f"/usr/share/doc/{PKG}/docs/mdctl.md.gz"):
        assert os.path.exists(path), path
    assert not os.path.exists(os.path.join(MODS_ENABLED, "md_managed.load"))
    assert os.path.exists(os.path.join(modules, "mod_md.so"))       # apache2's, kept
    assert run("/usr/bin/mdctl", "--help").returncode == 0

    # 2. next to Debian's md: a2enmod refuses, and loaded anyway it is an error
    run("a2enmod", "-q", "md")
    r = run("a2enmod", "md_managed", check=False)
    assert r.returncode != 0, r.stdout + r.stderr
    assert "Module md is enabled - cannot proceed due to conflicts" in r.stdout + r.stderr
    assert not os.path.exists(os.path.join(MODS_ENABLED, "md_managed.load"))
    run("a2enmod", "-q", "ssl")
    os.symlink("../mods-available/md_managed.load", os.path.join(MODS_ENABLED, "md_managed.load"))
    r = apache2_t()
    assert r.returncode != 0, r.stdout + r.stderr
    assert "another md_module is loaded already" in r.stderr and "a2dismod md" in r.stderr, r.stderr
    os.unlink(os.path.join(MODS_ENABLED, "md_managed.load"))

    # 3. the documented switch: ours is loaded, and the configuration passes
    run("a2dismod", "-q", "md")
    run("a2enmod", "-q", "md_managed")
    r = run("apache2ctl", "-t")
    assert "Syntax OK" in r.stdout + r.stderr
    r = run("apache2ctl", "-M")
    assert "md_module (shared)" in r.stdout, r.stdout
    r = run("apache2ctl", "-t", "-D", "DUMP_INCLUDES")
    assert "mods-enabled/md_managed.load" in r.stdout and "mods-enabled/md.load" not in r.stdout
    # MDChallengeDns01Wait exists only in ours: proof of whose md_module is loaded
    r = apache2_t("-c", "MDChallengeDns01Wait 10s")
    assert r.returncode == 0 and "Syntax OK" in r.stdout + r.stderr, r.stderr

    # 4. removed: files gone, the .load (a conffile) kept until purge, store kept
    run("a2dismod", "-q", "md_managed")
    run("dpkg", "-r", PKG)
    assert not os.path.exists(ours) and not os.path.exists("/usr/bin/mdctl")
    assert os.path.exists(load)
    run("dpkg", "--purge", PKG)
    assert not os.path.exists(load)
    assert os.path.exists(os.path.join(ETC, "md", "mdtest-0050-marker"))
    assert os.path.exists(os.path.join(modules, "mod_md.so"))
