# SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors.
"""0700: what a monitor reads: md-status JSON, server-status, certificate-status
and the Prometheus metrics, after real events.

One server manages four MDs:
  fresh   MDRenewMode manual: configured, never renewed, no certificate
  renewed gets a certificate from Pebble: staged, then live after a graceful restart
  errored an External Account Binding whose kid Pebble does not know: the CA
          answers urn:ietf:params:acme:error:unauthorized and the renewal fails
  static  MDCertificateFile/MDCertificateKeyFile: a self-signed certificate
"""
import datetime
import json
import os
import re
import shutil
import subprocess
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from mdtest import prometheus
from mdtest.selfsigned import write_self_signed
from mdtest.procs import wait_until

EAB_HMAC = "c2VjcmV0LWhtYWMtdmFsdWUtbm90LXRvLWJlLXNob3du"
RFC822 = re.compile(r"^\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT$")
DEBIAN_MOD_MD = "/usr/lib/apache2/modules/mod_md.so"


def not_after(cert):
    """notAfter in seconds since the epoch (any python3-cryptography version)."""
    return int(cert.not_valid_after.replace(tzinfo=datetime.timezone.utc).timestamp())


def metrics(apache):
    r = apache.status_get("/metrics")
    assert r.status == 200, r.status_line
    series = prometheus.parse(r.text)
    if shutil.which("promtool"):
        p = subprocess.run(["promtool", "check", "metrics"], input=r.text, text=True,
                           capture_output=True)
        assert p.returncode == 0, f"promtool: {p.stdout}{p.stderr}"
    return r.text, series


def auto_lines(apache):
    text = apache.server_status("auto")
    assert text is not None
    assert "(null)" not in text
    return dict(line.split(": ", 1) for line in text.splitlines() if ": " in line)


def md_index(auto, name):
    for key, value in auto.items():
        m = re.fullmatch(r"ManagedDomain\[(\d+)\]Domain", key)
        if m and value == name:
            return int(m.group(1))
    raise AssertionError(f"{name} not in server-status?auto")


def wait_for_job_errors(apache, name, timeout=30):
    path = apache.store_path("staging", name, "job.json")

    def errored():
        try:
            with open(path) as f:
                return json.load(f).get("errors", 0) > 0
        except (OSError, ValueError):
            return False
    wait_until(errored, timeout, what=f"a failed renewal run of {name}")


def wait_for_status(apache, name, check, timeout=15):
    """The snapshot is refreshed right after the job is saved: wait for that."""
    return wait_until(lambda: check(apache.md_status(name)) or None, timeout,
                      what=f"md-status of {name} to show the renewal")


@pytest.fixture
def four_mds(apache, domain):
    names = {k: f"{k}-{domain}" for k in ("fresh", "renewed", "errored", "static")}
    cert_path, key_path = write_self_signed(os.path.join(apache.server_root, "conf"),
                                            names["static"], [names["static"]])
    with open(cert_path, "rb") as f:
        static_cert = x509.load_pem_x509_certificate(f.read())
    # the restart path: a staged set waits for the next restart (test_0657 serves a first
    # certificate live)
    apache.add(f"""
        MDActivation restart
        <MDomain {names['fresh']}>
            MDRenewMode manual
        </MDomain>
        <MDomain {names['renewed']}>
            MDCAChallenges http-01
        </MDomain>
        <MDomain {names['errored']}>
            MDCAChallenges http-01
            MDExternalAccountBinding unknown-kid {EAB_HMAC}
        </MDomain>
        <MDomain {names['static']}>
            MDCertificateFile {cert_path}
            MDCertificateKeyFile {key_path}
        </MDomain>
    """)
    for name in names.values():
        apache.add_vhost(name)
    apache.add_status_vhost()
    # the failed renewal of `errored` is logged at error level, as it should be
    apache.expect_log(r"MD1102: " + re.escape(names["errored"]), required=True)
    apache.start()
    apache.wait_for_cert(names["renewed"])
    wait_for_job_errors(apache, names["errored"])
    wait_for_status(apache, names["errored"], lambda j: j.get("renewal", {}).get("errors"))
    wait_for_status(apache, names["renewed"], lambda j: j.get("renewal", {}).get("finished"))
    return names, static_cert


def test_0700_md_status_json(apache, four_mds):
    names, static_cert = four_mds
    listing = apache.md_status()
    assert listing["version"]
    mds = {m["name"]: m for m in listing["managed-domains"]}
    assert [m["name"] for m in listing["managed-domains"]] == sorted(mds), "not sorted by name"
    assert set(names.values()) <= set(mds)
    assert all("log" not in m.get("renewal", {}) for m in mds.values()), "job log in the list"
    # fresh: configured, nothing to show
    fresh = mds[names["fresh"]]
    assert fresh["state"] == 1 and fresh["state-descr"]
    assert fresh["renew-mode"] == 0 and fresh["cert"] == {} and "renewal" not in fresh
    # renewed: a staged certificate in the renewal
    renewal = mds[names["renewed"]]["renewal"]
    assert renewal["finished"] is True and renewal["errors"] == 0
    staged = renewal["cert"]["rsa"]
    assert re.fullmatch(r"[0-9A-F]+", staged["serial"])
    assert re.fullmatch(r"[0-9a-f]{64}", staged["sha256-fingerprint"])
    assert RFC822.match(staged["valid"]["until"])
    assert re.fullmatch(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+", staged["ari-cert-id"])
    assert staged["issuer-name"].startswith("/CN=Pebble Intermediate CA")
    # errored: the CA's problem, and the secret masked
    err = mds[names["errored"]]
    assert err["renew"] is True and err["renewal"]["errors"] >= 1
    assert err["renewal"]["last"]["problem"] == "urn:ietf:params:acme:error:unauthorized"
    assert RFC822.match(err["renewal"]["next-run"])
    assert err["eab"] == {"kid": "unknown-kid", "hmac": "***"}
    # static: the configured file's certificate, under index 0
    static = mds[names["static"]]
    assert static["state"] == 2
    assert int(static["cert"]["0"]["serial"], 16) == static_cert.serial_number
    assert static["cert"]["0"]["sha256-fingerprint"] == static_cert.fingerprint(hashes.SHA256()).hex()
    # one MD, by name or by domain, with the activity log
    one = apache.md_status(names["errored"])
    types = [e["type"] for e in one["renewal"]["log"]["entries"]]
    assert "renewal-error" in types
    assert apache.md_status(names["renewed"])["name"] == names["renewed"]
    assert apache.status_get("/md-status/unknown.example").status == 404
    # the secret appears nowhere: not in answers, not in the snapshot file
    snapshot = os.path.join(apache.server_root, "run", "md-status", "status.json")
    with open(snapshot) as f:
        snap_text = f.read()
    # readable by the children who serve it (its owner), by nobody else
    assert oct(os.stat(snapshot).st_mode & 0o777) == "0o640"
    import pwd
    assert pwd.getpwuid(os.stat(snapshot).st_uid).pw_name == apache.user
    for text in (apache.status_get("/md-status").text, json.dumps(one), snap_text):
        assert EAB_HMAC not in text


def test_0701_server_status(apache, four_mds):
    names, _ = four_mds
    auto = auto_lines(apache)
    assert int(auto["ManagedCertificatesTotal"]) == 4
    assert int(auto["ManagedCertificatesErrored"]) == 1
    assert int(auto["ManagedCertificatesReady"]) == 1
    assert int(auto["ManagedCertificatesOK"]) == 1        # the static one
    i = md_index(auto, names["errored"])
    assert auto[f"ManagedDomain[{i}]ActivityLastProblem"] == "urn:ietf:params:acme:error:unauthorized"
    assert auto[f"ManagedDomain[{i}]ActivityFinished"] == "no"
    assert int(auto[f"ManagedDomain[{i}]ActivityNextRun"]) >= 0
    i = md_index(auto, names["renewed"])
    assert auto[f"ManagedDomain[{i}]ActivityNewStaged"] == "1"
    i = md_index(auto, names["static"])
    assert auto[f"ManagedDomain[{i}]Status"] == "good"
    assert auto[f"ManagedDomain[{i}]CheckAtURL"].startswith("https://crt.sh?q=")
    # stapling counters labelled for what they count
    for key in ("Total", "OK", "Revoked", "Unknown", "Renew", "Errored"):
        assert auto[f"ManagedStaplings{key}"] == "0"
    html = apache.server_status("")
    assert "<h3>Managed Certificates</h3>" in html and "(null)" not in html
    assert names["errored"] in html and "urn:ietf:params:acme:error:unauthorized" in html


def test_0702_certificate_status_and_activation(apache, four_mds, pebble):
    names, static_cert = four_mds
    # before activation: the staged certificate, on the vhost that still answers 503
    r = apache.https_get(names["renewed"], "/.httpd/certificate-status")
    assert r.status == 200, r.status_line
    staged = json.loads(r.text)["renewal"]["cert"]["rsa"]
    assert set(staged) == {"valid", "serial", "sha256-fingerprint"}, "only public data"
    assert apache.https_get(names["renewed"]).status == 503
    # static: its certificate
    cs = json.loads(apache.https_get(names["static"], "/.httpd/certificate-status").text)
    assert int(cs["0"]["serial"], 16) == static_cert.serial_number
    # only GET
    r = apache.https_get(names["static"], "/.httpd/certificate-status", method="POST", body=b"")
    assert r.status == 501
    # after a graceful restart the staged certificate is the served one
    apache.graceful()
    served = apache.verify_cert(names["renewed"])
    fingerprint = served.fingerprint(hashes.SHA256()).hex()
    cs = json.loads(apache.https_get(names["renewed"], "/.httpd/certificate-status", verify=True).text)
    assert cs["rsa"]["sha256-fingerprint"] == fingerprint == staged["sha256-fingerprint"]
    assert "renewal" not in cs
    md = apache.md_status(names["renewed"])
    assert md["state"] == 2 and md["cert"]["rsa"]["sha256-fingerprint"] == fingerprint
    assert RFC822.match(md["renew-at"]) and md["renew-reason"] == "window"
    auto = auto_lines(apache)
    i = md_index(auto, names["renewed"])
    assert auto[f"ManagedDomain[{i}]Status"] == "good"
    assert auto[f"ManagedDomain[{i}]CheckAtFingerprint"] == fingerprint
    _, series = metrics(apache)
    expires = prometheus.value(series, "mod_md_certificate_not_after_seconds",
                                 md=names["renewed"], key="rsa")
    assert expires == not_after(served)


def test_0703_metrics(apache, four_mds):
    names, static_cert = four_mds
    text, series = metrics(apache)
    assert "# TYPE mod_md_acme_orders_total counter" in text
    v = lambda name, **labels: prometheus.value(series, name, **labels)  # noqa: E731
    assert v("mod_md_domains") == 4
    assert v("mod_md_domain_state", md=names["fresh"]) == 1
    assert v("mod_md_domain_state", md=names["static"]) == 2
    assert v("mod_md_renewal_consecutive_failures", md=names["errored"]) >= 1
    assert v("mod_md_renewal_last_problem_info", md=names["errored"],
             problem="urn:ietf:params:acme:error:unauthorized") == 1
    assert v("mod_md_renewal_staged", md=names["renewed"]) == 1
    assert v("mod_md_renewal_last_success_seconds", md=names["renewed"]) > time.time() - 300
    assert v("mod_md_certificate_not_after_seconds", md=names["static"], key="0") == \
        not_after(static_cert)
    # counted by the renewal process, read by the request handlers
    assert v("mod_md_acme_orders_total") >= 1
    assert v("mod_md_acme_challenges_total") >= 1
    assert v("mod_md_renewal_errors_total") >= 1
    assert apache.status_get("/metrics", method="POST").status == 501
    assert apache.status_get("/md-status", method="POST").status == 501


def test_0704_parser_rejects_bad_exposition():
    """The checker above is strict: it catches what a scraper would reject."""
    good = "# HELP a_total x\n# TYPE a_total counter\na_total 1\nb{x=\"1\\\"\"} 2\n"
    assert prometheus.value(prometheus.parse(good), "b", x='1"') == 2
    for bad in ("a 1", "# TYPE a counter\na 1\n", "a{x=1} 1\n", "a 1\nb 1\na 2\n",
                "a x\n", "a{x=\"\\t\"} 1\n", "a 1\na 1\n", "a 1\n# TYPE a gauge\n"):
        with pytest.raises(prometheus.ExpositionError):
            prometheus.parse(bad)


def test_0705_server_status_off(apache, domain):
    apache.add(f"MDomain {domain}\nMDRenewMode manual\nMDServerStatus off")
    apache.add_vhost(domain)
    apache.add_status_vhost()
    apache.start()
    text = apache.server_status("auto")
    assert "ParentServerConfigGeneration" in text and "Managed" not in text
    assert domain not in apache.server_status("")
    assert apache.md_status()["managed-domains"][0]["name"] == domain


@pytest.mark.skipif(not os.path.exists(DEBIAN_MOD_MD), reason="Debian's mod_md.so not installed")
def test_0706_same_keys_as_today(apache, apache_factory, domain):
    """Our md-status and today's module's, for the same configuration and store,
    have the same keys (docs/status.md lists the known differences)."""
    apache.add(f"MDomain {domain}\nMDCAChallenges http-01")
    apache.add_vhost(domain)
    apache.add_status_vhost()
    apache.start()
    apache.wait_for_cert(domain)
    apache.graceful()
    ours = apache.md_status(domain)
    apache.stop()
    today = apache_factory("today")
    today.md_module = DEBIAN_MOD_MD
    today.store_dir = apache.store_dir
    today.parts = list(apache.parts)
    today.expect_log(r".")       # today's module logs at its own levels; not ours to judge
    today.start()
    theirs = today.md_status(domain)
    today.stop()
    known = {"renew-reason", "last-renewal", "proto"}   # docs/status.md
    diff = flat_keys(ours) ^ flat_keys(theirs)
    assert {k for k in diff if k.split(".")[0] not in known} == set(), diff
    for key in ("name", "domains", "state", "renew-mode", "renew-window", "warn-window"):
        assert ours[key] == theirs[key], key
    assert ours["cert"] == theirs["cert"]
    # the same window, computed with another rounding: a second apart at most
    at = [datetime.datetime.strptime(j["renew-at"], "%a, %d %b %Y %H:%M:%S GMT") for j in (ours, theirs)]
    assert abs((at[0] - at[1]).total_seconds()) <= 2


def flat_keys(j, prefix=""):
    keys = set()
    for k, v in j.items():
        keys.add(prefix + k)
        if isinstance(v, dict) and k not in ("log",):
            keys |= flat_keys(v, prefix + k + ".")
    return keys
