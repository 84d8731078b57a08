# SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors.
"""0420: drop-in means drop-in.

Part 1: each difference found with today's module side by side, as a test of ours
(these need no second module: the expected values were seen with Debian's mod_md
2.6.10 and are written here).

Part 2: the differential harness (mdtest/dropin.py): the corpus of configurations
(dropin_corpus.txt, one case a line) through `apache2 -t` with both modules, and a few
scenarios started with both, comparing the md-status shape, the store tree after the
first renewal, the contact sent to the CA, and the answers to http-01 and a plain
request. Intended differences are listed in docs/migration.md.
"""
import email.utils
import glob
import json
import os
import pathlib
import re
import tempfile
import time

import pytest

from mdtest import dropin
from mdtest.procs import wait_until

RFC822 = re.compile(r"^\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT$")


def _problem(apache, domain):
    j = apache.md_status(domain)
    return j.get("renewal", {}).get("last", {}).get("problem")


def _wait_problem(apache, domain, timeout=30):
    return wait_until(lambda: _problem(apache, domain), timeout,
                      what=f"a problem in {domain}'s renewal")


def _md_lines_without_contact(apache):
    """The standard MD lines, without MDContactEmail: the contact is ServerAdmin."""
    apache.md_defaults = False
    apache.add(f"""
        MDStoreDir "{apache.store_dir}"
        MDCertificateAuthority {apache.ca.url}
        MDCACertificateFile "{apache.ca.ca_file}"
        MDCertificateAgreement accepted
        MDPortMap {apache.port_map}
    """)


# ---- part 1: the listed differences --------------------------------------------------

def test_0421_server_admin_mailto(apache, domain):
    """`ServerAdmin mailto:admin@...` is the contact `mailto:admin@...` (was
    `mailto:mailto:...`, refused by the CA as invalidContact); the same for a vhost's
    ServerAdmin written in upper case."""
    _md_lines_without_contact(apache)
    other = f"other.{domain}"
    apache.add(f"ServerAdmin mailto:admin@{domain}\n"
               f"MDomain {domain}\nMDCAChallenges http-01\n"
               f"<MDomain {other}>\n  MDRenewMode manual\n</MDomain>")
    apache.add_vhost(domain)
    apache.add_vhost(other, extra=f"ServerAdmin MAILTO:hostmaster@{domain}")
    apache.add_status_vhost()
    apache.start()
    assert apache.md_status(domain)["contacts"] == [f"mailto:admin@{domain}"]
    assert apache.md_status(other)["contacts"] == [f"MAILTO:hostmaster@{domain}"]
    apache.wait_for_cert(domain)
    accounts = glob.glob(apache.store_path("accounts", "*", "account.json")) \
        + glob.glob(apache.store_path("staging", domain, "account.json"))
    assert accounts
    with open(accounts[0]) as f:
        assert json.load(f)["contact"] == [f"mailto:admin@{domain}"]


def test_0422_unknown_challenge_types(apache, domain):
    """`MDCAChallenges invalid-01 invalid-02`: the server starts (with a warning), the
    MD's renewal fails with the problem `challenge-mismatch`, its names get 503."""
    apache.add(f"MDomain {domain}\nMDCAChallenges invalid-01 invalid-02\nMDRetryDelay 30s")
    apache.add_vhost(domain)
    apache.add_status_vhost()
    apache.expect_log(r"MD4004: .*unknown challenge type 'invalid-0[12]'", required=True)
    apache.expect_log(r"MD1102: .*challenge-mismatch", required=True)
    rc, out = apache.configtest()
    assert rc == 0, out
    apache.start()
    assert _wait_problem(apache, domain) == "challenge-mismatch"
    assert apache.https_get(domain).status == 503


def test_0423_eab_hmac_not_base64url(apache, domain):
    """`MDExternalAccountBinding kid-1 äöüß`: the server starts (with a warning), the
    renewal fails with the problem `apache:eab-hmac-invalid`."""
    apache.add(f"MDomain {domain}\nMDCAChallenges http-01\n"
               f"MDExternalAccountBinding kid-1 äöüß\nMDRetryDelay 30s")
    apache.add_vhost(domain)
    apache.add_status_vhost()
    apache.expect_log(r"MD4005: .*MDExternalAccountBinding", required=True)
    apache.expect_log(r"MD1102: .*apache:eab-hmac-invalid", required=True)
    apache.start()
    assert _wait_problem(apache, domain) == "apache:eab-hmac-invalid"


@pytest.mark.parametrize("url,ok", [
    ("https://127.0.0.1:-443", False), ("http://127.0.0.1:99999", False),
    ("http://127.0.0.1:", False), ("http://:3128", False), ("ftp://127.0.0.1:21", False),
    ("http://127.0.0.1:3128", True), ("HTTPS://proxy.example.org", True),
    ("http://user:secret@[::1]:3128/", True),
])
def test_0424_http_proxy_url(apache, domain, url, ok):
    """MDHttpProxy refuses a URL with a bad port, as today's module does."""
    apache.add(f"MDomain {domain}\nMDHttpProxy {url}")
    rc, out = apache.configtest()
    assert (rc == 0) == ok, out
    if not ok:
        assert "MDHttpProxy" in out, out


def test_0425_wildcard_without_dns01(apache, domain):
    """A wildcard with only http-01: the problem is `challenge-mismatch`, as today's."""
    apache.add(f"MDomain {domain} *.{domain}\nMDCAChallenges http-01\nMDRetryDelay 30s")
    apache.add_vhost(domain)
    apache.add_status_vhost()
    apache.expect_log(r"MD1102: .*no usable challenge", required=True)
    apache.start()
    assert _wait_problem(apache, domain) == "challenge-mismatch"
    # today's log id first, so that alerting on AH10056 keeps working
    assert apache.wait_for_log(rf"\[md:error\].* AH10056: MD1102: {re.escape(domain)}: ", timeout=10)


def test_0426_manual_members_plain_vhost_quiet(apache, domain):
    """MDMembers manual and a vhost with names the MD lacks: no warning at start when
    the vhost does not serve the MD's certificate (plain http); a warning, once per
    start, when an SSL vhost does."""
    apache.add(f"MDomain {domain} manual\nMDRenewMode manual")
    apache.add_vhost(domain, aliases=[f"www.{domain}"], ssl=False)
    apache.start()
    apache.graceful()
    assert apache.log_lines(r"MD4002") == []
    apache.stop()
    apache.clear_config()
    apache.add(f"MDomain {domain} manual\nMDRenewMode manual")
    apache.add_vhost(domain, aliases=[f"www.{domain}"])
    apache.expect_log(r"MD4002: .*www\.", required=True)
    apache.start()
    assert len(apache.log_lines(r"MD4002")) == 1


def test_0427_status_without_certificate(apache, domain):
    """md-status of an MD without certificate: state-descr per key spec, a renew-at
    time, and `proto` present, as today's module writes them."""
    apache.add(f"MDomain {domain}\nMDRenewMode manual")
    apache.add(f"<MDomain ec.{domain}>\n  MDPrivateKeys P-256 RSA 3072\n</MDomain>")
    apache.add_vhost(domain)
    apache.add_vhost(f"ec.{domain}")
    apache.add_status_vhost()
    apache.start()
    j = apache.md_status(domain)
    assert j["state"] == 1 and j["state-descr"] == "certificate(rsa) is missing", j
    assert RFC822.match(j["renew-at"]), j
    at = email.utils.parsedate_to_datetime(j["renew-at"]).timestamp()
    assert abs(at - time.time()) < 120, j
    assert j["proto"] == {"acme-tls/1": []}, j
    assert apache.md_status(f"ec.{domain}")["state-descr"] == "certificate(P-256) is missing"


def test_0428_curve_names_as_configured(apache, domain):
    """`MDPrivateKeys P-256 RSA 3072`: files privkey.p-256.pem / pubcert.p-256.pem (the
    spec as configured, lower case), status key "P-256"; a store with our earlier
    names (secp256r1) is carried on without a new order."""
    apache.add(f"MDomain {domain}\nMDCAChallenges http-01\nMDPrivateKeys P-256 RSA 3072")
    apache.add_vhost(domain)
    apache.add_status_vhost()
    apache.start()
    apache.wait_for_cert(domain, cert_file="pubcert.p-256.pem")
    staged = sorted(os.listdir(apache.store_path("staging", domain)))
    assert "privkey.p-256.pem" in staged and "pubcert.pem" in staged, staged
    assert not any("secp256r1" in n for n in staged), staged
    apache.graceful()
    j = apache.md_status(domain)
    assert set(j["cert"]) == {"P-256", "rsa", "valid"}, j["cert"]
    assert j["privkey"][0] == {"type": "EC", "curve": "P-256"}, j
    serial = apache.get_cert(domain).serial_number
    apache.stop()
    # a store as our earlier versions wrote it
    d = apache.store_path("domains", domain)
    for kind in ("privkey", "pubcert"):
        os.rename(os.path.join(d, f"{kind}.p-256.pem"), os.path.join(d, f"{kind}.secp256r1.pem"))
    apache.start()
    assert apache.md_status(domain)["state"] == 2
    assert os.path.exists(os.path.join(d, "privkey.p-256.pem"))
    assert not os.path.exists(os.path.join(d, "privkey.secp256r1.pem"))
    assert apache.get_cert(domain).serial_number == serial


def test_0429_failing_notify_cmd(apache, domain):
    """A failing MDNotifyCmd: the MD's renewal shows the problem today's module names
    (`urn:org:apache:httpd:log:AH10108:`) and errors, and the command is retried on the
    renewal's backoff (MDRetryDelay doubling), not at every look."""
    apache.add(f"MDomain {domain}\nMDCAChallenges http-01\nMDPrivateKeys secp256r1\n"
               f"MDNotifyCmd /bin/false\nMDRetryDelay 1s")
    apache.add_vhost(domain)
    apache.add_status_vhost()
    apache.expect_log(r"MD1106: .*'renewed' program failed", required=True)
    apache.start()
    apache.wait_for_cert(domain, cert_file="pubcert.secp256r1.pem")
    first = time.time()
    assert wait_until(lambda: _problem(apache, domain), 20) == "urn:org:apache:httpd:log:AH10108:"
    time.sleep(max(0.0, 12 - (time.time() - first)))
    tries = apache.log_lines(r"MD1106")
    # backoff from 1s doubling (+-50 %): at most 1+1.5+3+6 ... -> 5 tries in 12 s
    assert 2 <= len(tries) <= 5, tries
    j = apache.md_status(domain)
    assert j["renewal"]["errors"] >= 2, j["renewal"]


def test_0430_stop_while_ca_hangs(apache, domain, acmeproxy_factory):
    """A stop, a graceful and a plain restart while a renewal waits for a CA that
    accepts and never answers: no child is killed by the parent ("still did not
    exit"), and the stop is quick."""
    proxy = acmeproxy_factory()
    proxy.add_fault(r"^/", "hang", count=None)
    apache.ca = proxy
    apache.add(f"MDomain {domain}\nMDCAChallenges http-01\nMDCATimeout 300s")
    apache.add_vhost(domain)
    apache.start()
    time.sleep(2)          # the renewal is waiting for the CA's directory
    apache.graceful()
    time.sleep(2)
    pid = apache.pid()
    apache._ctl("-k", "restart")
    apache._wait_serving(time.monotonic() + 30, pid, min_generation=None)
    time.sleep(2)
    _assert_quick_clean_stop(apache)


def _assert_quick_clean_stop(apache):
    """Stop the server: within 5 s, and no child killed by the parent."""
    t0 = time.monotonic()
    apache.stop()
    took = time.monotonic() - t0
    assert apache.log_lines(r"still did not exit|AH00045|AH00046") == []
    assert took < 5, f"stop took {took:.1f}s"


def test_0431_stop_while_a_program_hangs(apache, domain):
    """A stop and a graceful restart while the renewal waits for a program that does not
    end (a dns-01 program waiting on an unreachable DNS server, MDProgramTimeout long):
    the program is stopped with the child, no child is killed by the parent ("still
    did not exit"), the stop is quick, and no program is left behind."""
    where = tempfile.mkdtemp(prefix="mdtest-0431-")
    os.chmod(where, 0o777)                # the program runs as the children's user
    marker = pathlib.Path(where, "hanging-program")
    apache.add(f"MDomain {domain}\nMDCAChallenges dns-01\nMDProgramTimeout 300s\n"
               f'MDChallengeDns01 /bin/sh -c "echo $$ >{marker}; exec sleep 290" dns01')
    apache.add_vhost(domain)
    apache.start()
    wait_until(lambda: marker.exists() and marker.read_text().strip(), 30,
               what="the dns-01 program to start")
    first = int(marker.read_text())
    marker.unlink()
    apache.graceful()
    wait_until(lambda: not os.path.exists(f"/proc/{first}"), 10,
               what="the program of the old generation to be stopped")
    wait_until(lambda: marker.exists() and marker.read_text().strip(), 30,
               what="the dns-01 program to start again")
    second = int(marker.read_text())
    _assert_quick_clean_stop(apache)
    assert not os.path.exists(f"/proc/{second}"), "the dns-01 program outlived the server"


# ---- part 2: the differential harness ----------------------------------------------------

today = pytest.mark.skipif(not dropin.today_available(), reason="Debian's mod_md.so is not installed")
CORPUS = dropin.load_corpus()

# md-status keys whose difference is intended (docs/migration.md, docs/status.md)
INTENDED_KEYS = ("renew-reason", "last-renewal", "store-damage", "renewal.last.activity",
                 "renewal.log", "renewal.valid-from", "renewal.last.valid-from",
                 "renewal.next-run", "renewal.last.detail", "live")


def _values(a, domain):
    cert = os.path.join(a.server_root, "conf", "static.cert.pem")
    key = os.path.join(a.server_root, "conf", "static.key.pem")
    if not os.path.exists(cert):
        from mdtest.selfsigned import make_self_signed
        c, k = make_self_signed([domain])
        with open(cert, "wb") as f:
            f.write(c)
        with open(key, "wb") as f:
            f.write(k)
    return {"d": domain, "http": a.http_port, "https": a.https_port, "cert": cert, "key": key,
            "dir": a.htdocs}


@today
@pytest.mark.parametrize("case", CORPUS, ids=[c.id for c in CORPUS])
def test_0434_corpus_configtest(apache_factory, domain, case):
    """Each corpus configuration through `apache2 -t` with both modules: the same
    verdict, or the documented difference."""
    rc = {}
    out = {}
    for side, a in dropin.pair(apache_factory).items():
        a.add(case.text(_values(a, domain)))
        rc[side], out[side] = a.configtest()
    why = dropin.verdict(case, rc["ours"], rc["today"])
    assert why is None, f"{case.id} (corpus line {case.lineno}): {why}\n--- ours:\n{out['ours']}" \
                        f"\n--- today's:\n{out['today']}"


@today
def test_0432_first_renewal_side_by_side(apache_factory, domain):
    """One MD with http-01, started with each module: the status JSON before and after
    the first renewal has the same shape (keys and value types, bar the intended
    differences), the staged files carry the same names, the contact sent to the CA is
    the same, and a plain request and an unknown http-01 token get the same answers."""
    seen = {}
    for side, a in dropin.pair(apache_factory).items():
        _md_lines_without_contact(a)
        a.add(f"ServerAdmin mailto:admin@{domain}\nMDomain {domain}\nMDCAChallenges http-01\n"
              f"MDPrivateKeys P-256 RSA 3072")
        a.add_vhost(domain)
        a.add_status_vhost()
        a.start()
        before = a.md_status(domain)
        plain = a.https_get(domain).status
        token = a.http_get(domain, "/.well-known/acme-challenge/no-such-token").status
        a.wait_for_cert(domain, cert_file="pubcert.p-256.pem")
        after = wait_until(lambda: (lambda j: j if j.get("renewal", {}).get("finished") else None)(
            a.md_status(domain)), 30, what="finished renewal in status")
        staged = sorted(n for n in os.listdir(a.store_path("staging", domain))
                        if n.endswith(".pem") and not n.startswith("account"))
        accounts = glob.glob(a.store_path("accounts", "*", "account.json")) \
            + glob.glob(a.store_path("staging", domain, "account.json"))
        with open(accounts[0]) as f:
            contact = json.load(f)["contact"]
        a.stop()
        seen[side] = dict(before=before, after=after, plain=plain, token=token,
                          staged=staged, contact=contact)
    ours, theirs = seen["ours"], seen["today"]
    for when in ("before", "after"):
        diff = dropin.shape_diff(dropin.shape(ours[when]), dropin.shape(theirs[when]),
                                 INTENDED_KEYS)
        assert diff == [], f"md-status {when} the first renewal:\n" + "\n".join(diff)
        for key in ("state", "state-descr", "privkey", "contacts", "proto"):
            assert ours[when].get(key) == theirs[when].get(key), (when, key)
    assert set(ours["after"]["renewal"]["cert"]) == set(theirs["after"]["renewal"]["cert"])
    assert ours["staged"] == theirs["staged"]
    assert ours["contact"] == theirs["contact"] == [f"mailto:admin@{domain}"]
    assert ours["plain"] == theirs["plain"] == 503
    assert ours["token"] == theirs["token"], (ours["token"], theirs["token"])


@pytest.mark.parametrize("conf", ["MDCACertificateFile {root}/none.pem", "MDContactEmail nobody"],
                         ids=["cacert-missing", "contact-no-at"])
def test_0433_starts_where_todays_starts(apache, domain, conf):
    """Values today's module starts with (checked side by side in the corpus) start ours
    too, with a warning naming the line: the server serves, and the MD's renewal fails
    with its reason in md-status instead of the whole server refusing to start."""
    apache.add(conf.format(root=apache.server_root) + f"\nMDomain {domain}\nMDRetryDelay 30s")
    apache.add_vhost(domain)
    apache.add_status_vhost()
    apache.expect_log(r"MD401[45]: ", required=True)
    apache.expect_log(rf"MD1102: {domain}: renewal failed", required=True)
    apache.start()
    r = apache.https_get(domain, "/")
    assert r.status == 503, r.status_line      # the fallback, as with no certificate yet
    wait_until(lambda: apache.md_status(domain).get("renewal", {}).get("last", {}).get("detail"),
               30, what="the renewal's failure in md-status")
