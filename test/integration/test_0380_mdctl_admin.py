# SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors.
"""0380: mdctl for administrators: it finds the store in Apache's configuration
(MDStoreDir, Include, ServerRoot) or says where it looked; `status` shows every
MD from the running server's md-status or from the store, saying which; `renew`
makes the running server renew an MD without a restart, writing the request as
the store's owner (docs/mdctl.md)."""
import json
import os
import pwd
import re
import subprocess

from cryptography import x509

from mdtest.env import MDCTL
from mdtest.procs import wait_until


def mdctl(*args, env=None):
    e = dict(os.environ)
    e.pop("NO_COLOR", None)
    e.update(env or {})
    r = subprocess.run([MDCTL, *args], capture_output=True, text=True, timeout=60, env=e)
    return r.returncode, r.stdout, r.stderr


def _served_cert(apache, domain):
    with open(apache.store_path("domains", domain, "pubcert.pem"), "rb") as f:
        return x509.load_pem_x509_certificate(f.read())


def _wait_staged(apache, domain):
    staged = apache.store_path("staging", domain, "pubcert.pem")
    wait_until(lambda: os.path.exists(staged) and apache._job_finished(domain), 60,
               interval=0.25, what=f"a renewed certificate of {domain} in staging")
    with open(staged, "rb") as f:
        return x509.load_pem_x509_certificate(f.read())


def test_0380_status_store_view(apache, domain):
    """`mdctl -d STORE status`: the MD with its names, key type, the served
    certificate's end, the next renewal and 'ok'; it says it shows the store."""
    apache.serve_first_cert(domain)
    cert = _served_cert(apache, domain)
    rc, out, err = mdctl("-d", apache.store_dir, "status")
    assert rc == 0, out + err
    assert f"the store {apache.store_dir}" in out, out
    line = next(l for l in out.splitlines() if l.startswith(domain))
    assert "rsa" in line, out
    assert cert.not_valid_after.strftime("%Y-%m-%d %H:%M") in line, out
    assert re.search(r"\bok\b", line), out
    assert "\033[" not in out                     # no colour without a terminal
    # the alias of today's command
    rc, out2, _ = mdctl("-d", apache.store_dir, "list")
    assert rc == 0 and domain in out2


def test_0381_status_json_has_md_status_fields(apache, domain):
    """`status --json` (store view) has the md-status JSON's field names and
    values for the MD; with the server's md-status reachable through the
    configuration, mdctl shows the server's view and says so."""
    apache.add_status_vhost()
    apache.serve_first_cert(domain)
    server = apache.md_status()["managed-domains"][0]
    rc, out, err = mdctl("-d", apache.store_dir, "status", "--json", "--store")
    assert rc == 0, err
    doc = json.loads(out)
    assert doc["source"] == "store"
    mine = doc["managed-domains"][0]
    for key in ("name", "domains", "state", "cert", "renew-at", "renew-mode", "ca"):
        assert mine[key] == server[key], (key, mine[key], server[key])
    assert set(server) - set(mine) <= {"watched", "renew"}, set(server) ^ set(mine)
    # no -d: the configuration names the store and the md-status handler
    rc, out, err = mdctl("-f", apache.conf_path, "status", "--json")
    assert rc == 0, err
    doc = json.loads(out)
    assert doc["source"] == "server", doc.get("source-description")
    assert doc["managed-domains"][0]["cert"] == server["cert"]
    rc, out, err = mdctl("-f", apache.conf_path, "status")
    assert rc == 0, err
    assert "Showing the running server" in out and domain in out, out


def test_0382_store_found_through_includes(apache, domain, tmp_path):
    """MDStoreDir relative to ServerRoot, in a file an IncludeOptional
    wildcard pulls in; a missing store says where mdctl looked and what to do."""
    apache.serve_first_cert(domain)
    root = apache.server_root
    os.makedirs(os.path.join(root, "conf.d"), exist_ok=True)
    with open(os.path.join(root, "conf.d", "md.conf"), "w") as f:
        f.write("<IfModule md_module>\n    MDStoreDir md\n</IfModule>\n")
    conf = tmp_path / "apache2.conf"
    conf.write_text(f'ServerRoot "{root}"\n# a comment\nIncludeOptional conf.d/*.conf\n'
                    'IncludeOptional nosuch.d/*.conf\n')
    rc, out, err = mdctl("-f", str(conf), "status")
    assert rc == 0, err
    assert f"the store {root}/md" in out and domain in out, out

    conf.write_text(f'ServerRoot "{tmp_path}"\n')
    rc, out, err = mdctl("-f", str(conf), "status")
    assert rc == 3, out + err
    assert str(conf) in err and f"{tmp_path}/md: does not exist" in err, err
    assert "-d DIR" in err, err
    rc, out, err = mdctl("-d", str(tmp_path / "nosuch"), "renew", domain)
    assert rc == 3 and "nosuch: does not exist" in err, err


def test_0383_renew_request_running_server(apache, domain):
    """`mdctl renew NAME`: the marker is written as the owner of staging/ (the
    children's user) even though mdctl runs as root; the running server renews
    the MD at once without a restart, logs who asked and why, and the status
    shows the request."""
    apache.add_status_vhost()
    apache.serve_first_cert(domain)
    served = _served_cert(apache, domain).serial_number

    # 1. written while the server is stopped: owned like staging/, kept
    apache.stop()
    rc, out, err = mdctl("-d", apache.store_dir, "renew", "--reason", "key rotation", domain)
    assert rc == 0, err
    assert "renewal requested" in out, out
    marker = apache.store_path("staging", ".renew-requests")
    st, sd = os.stat(marker), os.stat(apache.store_path("staging"))
    assert (st.st_uid, st.st_gid) == (sd.st_uid, sd.st_gid), (st, sd)
    assert pwd.getpwuid(st.st_uid).pw_name == "www-data"
    with open(marker) as f:
        line = f.read()
    assert line.startswith(f"{domain}\t") and "mdctl renew: key rotation" in line, line
    rc, out, err = mdctl("-d", apache.store_dir, "status", domain)
    assert rc == 0 and "renewal requested, not yet started" in out, out
    rc, out, err = mdctl("-d", apache.store_dir, "status", "--json", domain)
    assert json.loads(out)["pending-requests"][0]["name"] == domain

    # 2. the server started again takes it and renews
    apache.start()
    apache.wait_for_log(rf"MD1109: {re.escape(domain)}: renewal requested \(requested by "
                        r"\S+ with mdctl renew: key rotation\)")
    _wait_staged(apache, domain)
    apache.graceful()
    assert _served_cert(apache, domain).serial_number != served

    # 3. while it runs: renewed without a restart
    served = _served_cert(apache, domain).serial_number
    pid, gen = apache.pid(), apache.config_generation()
    rc, out, err = mdctl("-d", apache.store_dir, "renew", domain)
    assert rc == 0, err
    assert _wait_staged(apache, domain).serial_number != served
    assert (apache.pid(), apache.config_generation()) == (pid, gen)
    renewal = wait_until(lambda: apache.md_status(domain).get("renewal", {}).get("requested"),
                         10, interval=0.25, what="the request in md-status")
    assert "with mdctl renew" in renewal["reason"], renewal
    entries = apache.md_status(domain)["renewal"]["log"]["entries"]
    assert any(e["type"] == "renewal-requested" for e in entries), entries
    rc, out, err = mdctl("-f", apache.conf_path, "status", domain)
    assert rc == 0 and "renewal requested" in out and "renewed, live after" in out, out


def test_0384_renew_refuses_unknown_names(apache, domain):
    """A name that is no MD: exit 1, nothing written, the message says what to do;
    usage errors exit 2."""
    apache.serve_first_cert(domain)
    rc, out, err = mdctl("-d", apache.store_dir, "renew", "nosuch.test")
    assert rc == 1, out + err
    assert "mdctl status" in err, err
    assert not os.path.exists(apache.store_path("staging", ".renew-requests"))
    rc, out, err = mdctl("-d", apache.store_dir, "renew")
    assert rc == 2, out + err
    rc, out, err = mdctl("-d", apache.store_dir, "status", "nosuch.test")
    assert rc == 1 and "no managed domain has the name nosuch.test" in err, err
    rc, out, err = mdctl("-f", "/nonexistent/apache2.conf", "bogus")
    assert rc == 2 and "unknown command 'bogus'" in err, err


def test_0385_status_shows_a_failing_renewal(apache, domain):
    """An MD whose renewal fails: mdctl status says so (no certificate yet,
    renewal failing) with the last error under it, the next try as its next
    renewal, and a renewal request lifts the backoff: the server tries again at
    once (a second failed attempt, logged)."""
    apache.add_status_vhost()
    apache.add(f"MDomain {domain} *.{domain}\nMDRetryDelay 1h")
    apache.add_vhost(domain, aliases=[f"*.{domain}"])
    apache.expect_log(rf"MD1102: {domain}: renewal failed", required=True)
    apache.start()
    wait_until(lambda: apache.md_status(domain).get("renewal", {}).get("errors"), 30,
               interval=0.25, what="the first failed renewal")
    rc, out, err = mdctl("-f", apache.conf_path, "status")
    assert rc == 0, err
    lines = out.splitlines()
    i = next(k for k, l in enumerate(lines) if l.startswith(domain))
    assert "no certificate yet" in lines[i] and "renewal failing (1 attempts)" in lines[i], out
    assert lines[i + 1].strip().startswith("last error:"), out
    assert f"no usable challenge for *.{domain}" in lines[i + 1], out
    # backing off for about an hour; a request makes it try now
    rc, out, err = mdctl("-f", apache.conf_path, "renew", domain)
    assert rc == 0, err
    wait_until(lambda: apache.md_status(domain).get("renewal", {}).get("errors", 0) >= 2, 30,
               interval=0.25, what="a second attempt right after the request")
