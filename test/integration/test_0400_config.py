# SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors.
"""0400: configuration - every directive's valid and invalid forms.

Valid forms pass `apache2 -t`; invalid ones stop it with a message that
names the directive, the file and the line (httpd prints "Syntax error on
line N of FILE:" for errors a directive handler returns), and says what
would be valid.  Problems of the whole configuration (overlapping MDs) are
found by the module's check_config hook, which `apache2 -t` also runs; they
name the file and line of both definitions.

The effects of valid forms are checked in test_0410_config_effects.py.
"""
import glob
import os
import re

import pytest

DEBIAN_MD = "/usr/lib/apache2/modules/mod_md.so"

# (id, configuration, True) for valid forms: `apache2 -t` succeeds.
# `{d}` is the test's domain; `{cert}`/`{key}` an existing PEM file pair.
VALID = [
    ("mdomain", "MDomain {d} www.{d}", True),
    ("mdomain-auto", "MDomain {d} www.{d} auto", True),
    ("mdomain-manual-first", "MDomain manual {d}", True),
    ("mdomain-wildcard", "MDomain {d} *.{d}", True),
    ("mdomain-in-vhost", "<VirtualHost *:{https}>\nServerName {d}\nMDomain {d}\n</VirtualHost>", True),
    ("section", "<MDomain {d} www.{d}>\nMDRenewMode manual\n</MDomain>", True),
    ("section-quoted", '<MDomain "{d}" www.{d} manual>\n</MDomain>', True),
    ("section-old-name", "<MDomainSet {d}>\nMDMember www.{d}\n</MDomainSet>", True),
    ("member", "<MDomain {d}>\nMDMember www.{d}\nMDMember mail.{d} auto\n</MDomain>", True),
    ("members-global", "MDMembers manual\nMDMember auto", True),
    ("members-section", "<MDomain {d}>\nMDMembers manual\n</MDomain>", True),
    ("renewmode", "MDRenewMode always\nMDRenewMode automatic\nMDRenewMode stick\nMDRenewMode manual", True),
    ("drivemode", "MDDriveMode always", True),
    ("renewwindow", "MDRenewWindow 33%\nMDRenewWindow 0%\nMDRenewWindow 99%\nMDRenewWindow 21d\n"
                    "MDRenewWindow 30\nMDRenewWindow 12h\nMDRenewWindow 90mi\nMDRenewWindow 10s", True),
    ("warnwindow", "MDWarnWindow 10%\nMDWarnWindow 5d\nMDWarnWindow 3600s", True),
    ("requirehttps", "MDRequireHttps off\nMDRequireHttps temporary\nMDRequireHttps permanent", True),
    ("requirehttps-vhost", "<VirtualHost *:{https}>\nServerName {d}\nMDRequireHttps permanent\n</VirtualHost>", True),
    ("certfile", "<MDomain {d}>\nMDCertificateFile {cert}\nMDCertificateKeyFile {key}\n</MDomain>", True),
    ("storedir", "MDStoreDir md-other\nMDStoreDir {root}/md-abs", True),
    ("portmap", "MDPortMap http:- https:8443\nMDPortMap 80:8080 443:-\nMDPortMap https:443", True),
    ("baseserver", "MDBaseServer on\nMDBaseServer off", True),
    ("matchnames", "MDMatchNames servernames\nMDMatchNames all", True),
    ("matchnames-overlap", "MDMatchNames servernames\nMDomain {d}\nMDomain other.{d} {d}", True),
    ("notifycmd", "MDNotifyCmd /bin/true --flag\nMDMessageCmd /bin/echo hello", True),
    ("checkinterval", "MDCheckInterval 1s\nMDCheckInterval 6h\nMDCheckInterval 3600", True),
    ("initialdelay", "MDInitialDelay 0\nMDInitialDelay 5s", True),
    ("retrydelay", "MDRetryDelay 5s\nMDRetryDelay 500ms", True),
    ("storelocks", "MDStoreLocks on\nMDStoreLocks off\nMDStoreLocks 10s", True),
    ("activationdelay", "MDActivationDelay 1d\nMDActivationDelay 2\nMDActivationDelay 30mi", True),
    ("ca", "MDCertificateAuthority letsencrypt\nMDCertificateAuthority LetsEncrypt-Test Buypass\n"
           "MDCertificateAuthority https://acme.example/directory", True),
    ("agreement", "MDCertificateAgreement accepted", True),
    ("protocol", "MDCertificateProtocol ACME", True),
    ("challenges", "MDCAChallenges tls-alpn-01 http-01 dns-01", True),
    ("contact", "MDContactEmail webmaster@{d}", True),
    ("privatekeys", "MDPrivateKeys RSA 3072\nMDPrivateKeys secp384r1 rsa2048\nMDPrivateKeys Default", True),
    ("muststaple", "MDMustStaple on", True),
    ("stapling", "MDStapling on\nMDStapleOthers off\nMDStaplingKeepResponse 2d\n"
                 "MDStaplingRenewWindow 50%", True),
    ("status", "MDServerStatus off\nMDCertificateStatus off\n"
               "MDCertificateCheck crt.sh https://crt.sh?q=\nMDCertificateMonitor x https://x.example/?q=", True),
    ("profile", "MDProfile tlsserver\nMDProfileMandatory on\nMDRenewViaARI off", True),
    ("proxy", "MDHttpProxy http://proxy.example:3128\nMDHttpProxyCACertificateFile none", True),
    ("dns01", "MDChallengeDns01 /bin/true setup\nMDChallengeDns01Version 2\n"
              "MDChallengeDns01Wait 90s", True),
    ("eab", "MDExternalAccountBinding none\nMDExternalAccountBinding kid-1 c2VjcmV0", True),
    ("retryfailover", "MDRetryFailover 3", True),
]

# (id, configuration, (line marker, [regexes the message must match])).
# The marker is text of the line that httpd must name; the regexes are
# searched (case-insensitive) in the output of `apache2 -t`.
INVALID = [
    ("mdomain-empty", "MDomain", ("MDomain", [r"MDomain", r"needs at least one domain name"])),
    ("mdomain-only-mode", "MDomain auto", ("MDomain auto", [r"needs at least one domain name"])),
    ("mdomain-bad-name", "MDomain a/b.{d}", ("MDomain a/b", [r"MDomain", r"'a/b.*' is not a domain name"])),
    ("mdomain-in-section", "<MDomain {d}>\nMDomain x.{d}\n</MDomain>",
     ("MDomain x.", [r"MDomain", r"not allowed inside <MDomain>"])),
    ("mdomain-in-location", "<Location /x>\nMDomain {d}\n</Location>",
     ("MDomain {d}", [r"MDomain", r"not allowed in <Location> context"])),
    ("section-nested", "<MDomain {d}>\n<MDomain x.{d}>\n</MDomain>\n</MDomain>",
     ("<MDomain x.", [r"<MDomain", r"not allowed inside <MDomain>"])),
    ("section-empty", "<MDomain>\n</MDomain>", ("<MDomain>", [r"<MDomain", r"needs at least one domain name"])),
    ("section-old-empty", "<MDomainSet manual>\n</MDomainSet>",
     ("<MDomainSet", [r"<MDomainSet", r"needs at least one domain name"])),
    ("member-outside", "MDMember www.{d}", ("MDMember www", [r"MDMember", r"only inside <MDomain>.*'auto' or 'manual'"])),
    ("members-bad", "MDMembers sometimes", ("MDMembers", [r"MDMembers", r"'auto' or 'manual'"])),
    ("renewmode-bad", "MDRenewMode sometimes", ("MDRenewMode", [r"MDRenewMode", r"'sometimes' is not one of auto, always, manual"])),
    ("drivemode-bad", "MDDriveMode never", ("MDDriveMode", [r"MDDriveMode", r"not one of auto, always, manual"])),
    ("renewwindow-100", "MDRenewWindow 100%", ("MDRenewWindow", [r"MDRenewWindow", r"100% or more", r"0% to 99%"])),
    ("renewwindow-m", "MDRenewWindow 10m", ("MDRenewWindow", [r"MDRenewWindow", r"'10m'", r"mi \(minutes\)"])),
    ("warnwindow-100", "<MDomain {d}>\nMDWarnWindow 120%\n</MDomain>", ("MDWarnWindow", [r"MDWarnWindow", r"100% or more"])),
    ("warnwindow-bad", "MDWarnWindow soon", ("MDWarnWindow", [r"MDWarnWindow", r"'soon'"])),
    ("requirehttps-bad", "MDRequireHttps on", ("MDRequireHttps", [r"MDRequireHttps", r"'on' is not one of off, temporary, permanent"])),
    ("requirehttps-location", "<Location /x>\nMDRequireHttps temporary\n</Location>",
     ("MDRequireHttps", [r"MDRequireHttps cannot occur within"])),
    ("certfile-outside", "MDCertificateFile {cert}", ("MDCertificateFile", [r"MDCertificateFile", r"only allowed inside <MDomain>"])),
    ("certfile-missing", "<MDomain {d}>\nMDCertificateFile {root}/no-such.pem\nMDCertificateKeyFile {key}\n</MDomain>",
     ("no-such.pem", [r"MDCertificateFile", r"no-such.pem' does not exist"])),
    ("certfile-without-key", "<MDomain {d}>\nMDCertificateFile {cert}\n</MDomain>",
     ("<MDomain {d}>", [r"MDCertificateFile/MDCertificateKeyFile", r"1 MDCertificateFile and 0 MDCertificateKeyFile",
                        r"one MDCertificateKeyFile for each MDCertificateFile"])),
    ("keyfile-outside", "MDCertificateKeyFile {key}", ("MDCertificateKeyFile", [r"MDCertificateKeyFile", r"only allowed inside <MDomain>"])),
    ("keyfile-without-cert", "<MDomain {d}>\nMDCertificateKeyFile {key}\n</MDomain>",
     ("<MDomain {d}>", [r"0 MDCertificateFile and 1 MDCertificateKeyFile"])),
    ("storedir-section", "<MDomain {d}>\nMDStoreDir /tmp/x\n</MDomain>", ("MDStoreDir /tmp/x", [r"MDStoreDir", r"not allowed inside <MDomain>"])),
    ("storedir-location", "<Location /x>\nMDStoreDir /tmp/x\n</Location>", ("MDStoreDir /tmp/x", [r"MDStoreDir", r"not allowed in <Location> context"])),
    ("portmap-port", "MDPortMap http:70000", ("MDPortMap http:70000", [r"MDPortMap", r"local port must be 1-65535 or '-'"])),
    ("portmap-public", "MDPortMap ftp:21", ("MDPortMap ftp", [r"MDPortMap", r"public port must be 80, 443, http or https"])),
    ("portmap-form", "MDPortMap 8080", ("MDPortMap 8080", [r"MDPortMap", r"not of the form"])),
    ("portmap-three", "MDPortMap http:80 https:443 x:1", ("MDPortMap http:80 https:443 x:1", [r"MDPortMap takes 1-2 arguments"])),
    ("baseserver-bad", "MDBaseServer maybe", ("MDBaseServer", [r"MDBaseServer", r"'maybe' is neither 'on' nor 'off'"])),
    ("baseserver-section", "<MDomain {d}>\nMDBaseServer on\n</MDomain>", ("MDBaseServer", [r"not allowed inside <MDomain>"])),
    ("matchnames-bad", "MDMatchNames some", ("MDMatchNames", [r"MDMatchNames", r"neither 'all' nor 'servernames'"])),
    ("notifycmd-section", "<MDomain {d}>\nMDNotifyCmd /bin/true\n</MDomain>", ("MDNotifyCmd", [r"not allowed inside <MDomain>"])),
    ("messagecmd-section", "<MDomain {d}>\nMDMessageCmd /bin/true\n</MDomain>", ("MDMessageCmd", [r"MDMessageCmd", r"not allowed inside <MDomain>"])),
    ("checkinterval-0", "MDCheckInterval 0", ("MDCheckInterval", [r"MDCheckInterval", r"must be at least 1s"])),
    ("checkinterval-m", "MDCheckInterval 10m", ("MDCheckInterval", [r"MDCheckInterval", r"'10m'"])),
    ("initialdelay-neg", "MDInitialDelay -5", ("MDInitialDelay", [r"MDInitialDelay", r"'-5'"])),
    ("retrydelay-0", "MDRetryDelay 0", ("MDRetryDelay", [r"MDRetryDelay", r"must be greater than 0"])),
    ("storelocks-bad", "MDStoreLocks nope", ("MDStoreLocks", [r"MDStoreLocks", r"neither 'on', 'off' nor a duration"])),
    ("activationdelay-bad", "MDActivationDelay later", ("MDActivationDelay", [r"MDActivationDelay", r"'later'"])),
    ("activationdelay-section", "<MDomain {d}>\nMDActivationDelay 1d\n</MDomain>",
     ("MDActivationDelay", [r"MDActivationDelay: is not allowed inside <MDomain>"])),
    ("ca-bad", "MDCertificateAuthority nowhere", ("MDCertificateAuthority", [r"MDCertificateAuthority", r"LetsEncrypt, LetsEncrypt-Test, Buypass, Buypass-Test"])),
    ("protocol-bad", "MDCertificateProtocol SCEP", ("MDCertificateProtocol", [r"MDCertificateProtocol", r"only 'ACME'"])),
    ("privatekeys-small", "MDPrivateKeys RSA 1024", ("MDPrivateKeys", [r"MDPrivateKeys", r"must be 2048 or higher"])),
    ("privatekeys-default-bits", "MDPrivateKeys Default 2048", ("MDPrivateKeys", [r"MDPrivateKeys", r"'Default' allows no other parameter"])),
    ("privatekeys-twice", "MDPrivateKeys secp384r1 P-384", ("MDPrivateKeys", [r"MDPrivateKeys", r"two keys of type 'P-384' are not possible"])),
    ("muststaple-bad", "MDMustStaple yes", ("MDMustStaple", [r"MDMustStaple", r"neither 'on' nor 'off'"])),
    ("stapling-bad", "MDStapling yes", ("MDStapling", [r"MDStapling", r"neither 'on' nor 'off'"])),
    ("stapleothers-bad", "MDStapleOthers yes", ("MDStapleOthers", [r"MDStapleOthers"])),
    ("staplekeep-bad", "MDStaplingKeepResponse forever", ("MDStaplingKeepResponse", [r"MDStaplingKeepResponse"])),
    ("staplewindow-bad", "MDStaplingRenewWindow 100%", ("MDStaplingRenewWindow", [r"MDStaplingRenewWindow", r"100%"])),
    ("serverstatus-bad", "MDServerStatus yes", ("MDServerStatus", [r"MDServerStatus"])),
    ("certstatus-bad", "MDCertificateStatus yes", ("MDCertificateStatus", [r"MDCertificateStatus"])),
    ("certcheck-bad", "MDCertificateCheck crt.sh crt.sh", ("MDCertificateCheck", [r"MDCertificateCheck", r"not an http\(s\) URL"])),
    ("certmonitor-bad", "MDCertificateMonitor crt.sh", ("MDCertificateMonitor", [r"MDCertificateMonitor takes two arguments"])),
    ("profilemandatory-bad", "MDProfileMandatory yes", ("MDProfileMandatory", [r"MDProfileMandatory"])),
    ("ari-bad", "MDRenewViaARI yes", ("MDRenewViaARI", [r"MDRenewViaARI"])),
    ("proxy-bad", "MDHttpProxy proxy.example:3128", ("MDHttpProxy", [r"MDHttpProxy", r"http:// or https://"])),
    ("dns01wait-long", "MDChallengeDns01Wait 2h", ("MDChallengeDns01Wait", [r"MDChallengeDns01Wait", r"'2h'", r"at most 1h"])),
    ("dns01wait-bad", "MDChallengeDns01Wait soon", ("MDChallengeDns01Wait", [r"MDChallengeDns01Wait", r"'soon'"])),
    ("dns01version-bad", "MDChallengeDns01Version 3", ("MDChallengeDns01Version", [r"MDChallengeDns01Version", r"1 or 2"])),
    ("retryfailover-bad", "MDRetryFailover 0", ("MDRetryFailover", [r"MDRetryFailover", r"at least 1"])),
]


def _cert_pair(apache, domain):
    """A self-signed certificate and key for `domain` in the server root."""
    from mdtest.selfsigned import write_self_signed
    return write_self_signed(apache.server_root, "static", [domain])


def _fill(apache, domain, text):
    cert, key = _cert_pair(apache, domain)
    return text.format(d=domain, cert=cert, key=key, root=apache.server_root,
                       https=apache.https_port, http=apache.http_port)


@pytest.mark.parametrize("name,conf,ok", VALID, ids=[v[0] for v in VALID])
def test_0400_valid(apache, domain, name, conf, ok):
    apache.add(_fill(apache, domain, conf))
    rc, out = apache.configtest()
    assert rc == 0, out
    assert "Syntax OK" in out


# Accepted with a warning naming file, line and value, as today's module starts with them
# (it then reports the MD's renewal failing with a named problem; test_0422,
# test_0423). Both were configuration errors before.
WARNED = [
    ("challenges-unknown", "MDCAChallenges http-02",
     r"MD4004: (\S+):(\d+): MDCAChallenges: unknown challenge type 'http-02' \(known: http-01, tls-alpn-01, dns-01\)"),
    ("eab-not-base64url", "MDExternalAccountBinding kid-1 not+base64url",
     r"MD4005: (\S+):(\d+): MDExternalAccountBinding: the hmac of 'kid-1' is not base64url"),
    # today's module starts with these too (checked side by side, corpus of test_0434)
    ("contact-bad", "MDContactEmail nobody",
     r"MD4014: (\S+):(\d+): MDContactEmail: 'nobody' is not an email address"),
    ("cacert-missing", "MDCACertificateFile {root}/none.pem",
     r"MD4015: (\S+):(\d+): MDCACertificateFile: the file '\S+/none.pem' does not exist"),
    ("proxyca-missing", "MDHttpProxyCACertificateFile {root}/none.pem",
     r"MD4015: (\S+):(\d+): MDHttpProxyCACertificateFile: the file '\S+/none.pem' does not exist"),
    # program lines are split once, at start, as they are run (no shell): a line that is
    # no command line is never run (today's module starts with each of these)
    ("notifycmd-empty", "MDNotifyCmd",
     r"MD4018: (\S+):(\d+): MDNotifyCmd: '' is not a command line"),
    ("messagecmd-open-quote", "MDMessageCmd /bin/true \"x",
     r"MD4018: (\S+):(\d+): MDMessageCmd: '/bin/true \"x' is not a command line"),
    ("dns01-open-quote", "MDChallengeDns01 /bin/true 'x",
     r"MD4018: (\S+):(\d+): MDChallengeDns01: '/bin/true 'x' is not a command line"),
    ("renewwindow-neg", "MDRenewWindow -1d",
     r"MD4016: (\S+):(\d+): MDRenewWindow: '-1d' is negative and ignored"),
]


@pytest.mark.parametrize("name,conf,warning", WARNED, ids=[v[0] for v in WARNED])
def test_0405_warned(apache, domain, name, conf, warning):
    import re
    apache.add(_fill(apache, domain, conf))
    rc, out = apache.configtest()
    assert rc == 0, out
    m = re.search(warning, out)
    assert m, out
    line = _line_of(apache, _fill(apache, domain, conf))
    assert m.group(1) == apache.conf_path and int(m.group(2)) == line, out


def _line_of(apache, marker):
    """1-based number of the first configuration line containing `marker`."""
    lines = apache.config_text().splitlines()
    start = lines.index("# ---- test configuration ----")
    for i, line in enumerate(lines[start:], start + 1):
        if marker in line:
            return i
    raise AssertionError(f"marker {marker!r} not in the configuration")


@pytest.mark.parametrize("name,conf,expect", INVALID, ids=[v[0] for v in INVALID])
def test_0401_invalid(apache, domain, name, conf, expect):
    import re
    apache.add(_fill(apache, domain, conf))
    marker, patterns = expect
    rc, out = apache.configtest()
    assert rc != 0, out
    line = _line_of(apache, _fill(apache, domain, marker))
    assert f"Syntax error on line {line} of {apache.conf_path}:" in out, out
    for p in patterns:
        assert re.search(p, out, re.I), f"/{p}/ not in:\n{out}"


def test_0402_overlap(apache, domain):
    """Two MDs with a common name (MDMatchNames all): both definitions named."""
    apache.add(f"MDomain {domain} www.{domain}\nMDomain other.{domain} WWW.{domain}")
    rc, out = apache.configtest()
    assert rc != 0, out
    first, second = _line_of(apache, f"MDomain {domain}"), _line_of(apache, f"MDomain other.")
    assert "MD4001" in out and f"'www.{domain}' is in two managed domains" in out, out
    assert f"{apache.conf_path}:{first}" in out and f"{apache.conf_path}:{second}" in out, out


def test_0403_manual_names_reported(apache, domain):
    """MDMembers manual and a vhost with a name the MD lacks: `apache2 -t`
    passes, with a warning naming the vhost and the missing name."""
    apache.add(f"MDomain {domain} manual")
    apache.add_vhost(domain, aliases=[f"www.{domain}"])
    rc, out = apache.configtest()
    assert rc == 0, out
    assert "MD4002" in out and f"VirtualHost {domain}" in out and f"contain: www.{domain}." in out, out


# Configurations as they are written for today's module: both modules accept them.
COMPAT = [
    ("simple", """
        ServerAdmin webmaster@{d}
        MDCertificateAgreement accepted
        MDomain {d} www.{d}
        <VirtualHost *:{https}>
            ServerName {d}
            ServerAlias www.{d}
            SSLEngine on
        </VirtualHost>
     """),
    ("sections", """
        MDContactEmail admin@{d}
        MDPrivateKeys secp256r1 rsa3072
        MDRenewWindow 33%
        MDWarnWindow 10%
        MDStapling off
        MDMatchNames all
        <MDomain {d} manual>
            MDMember www.{d}
            MDRequireHttps permanent
            MDRenewMode always
            MDCAChallenges http-01
        </MDomain>
        <MDomainSet shop.{d}>
            MDDriveMode manual
            MDCertificateAuthority LetsEncrypt-Test
        </MDomainSet>
        <VirtualHost *:{https}>
            ServerName {d}
            ServerAlias www.{d}
            SSLEngine on
            Protocols h2 http/1.1 acme-tls/1
        </VirtualHost>
     """),
    ("global-tuning", """
        MDPortMap http:80 https:443
        MDPortMap 80:- 443:{https}
        MDBaseServer off
        MDCheckInterval 6h
        MDInitialDelay 5s
        MDRetryDelay 30s
        MDRetryFailover 13
        MDStoreLocks 5s
        MDActivationDelay 1d
        MDNotifyCmd /bin/true notify
        MDMessageCmd /bin/true msg
        MDServerStatus on
        MDCertificateStatus on
        MDCertificateCheck crt.sh https://crt.sh?q=
        MDRequireHttps temporary
        MDomain {d}
     """),
    ("static", """
        <MDomain {d}>
            MDCertificateFile {cert}
            MDCertificateKeyFile {key}
        </MDomain>
     """),
]


@pytest.mark.parametrize("name,conf", COMPAT, ids=[c[0] for c in COMPAT])
def test_0404_compat(apache_factory, domain, name, conf):
    """The same configuration passes `apache2 -t` with today's module and ours."""
    if not os.path.exists(DEBIAN_MD):
        pytest.skip("Debian's mod_md.so is not installed")
    results = {}
    for label, module in (("ours", None), ("debian", DEBIAN_MD)):
        a = apache_factory(label)
        if module:
            a.md_module = module
        import textwrap
        a.add(_fill(a, domain, textwrap.dedent(conf)))
        results[label] = a.configtest()
    for label, (rc, out) in results.items():
        assert rc == 0, f"{label}:\n{out}"


# ---- global settings inside <MDomain> ----------------------------------------------------

DOCS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "directives")
# today's module starts with these inside <MDomain> (applying them to the whole server):
# ours does too, with a warning; every other global setting is refused there
TODAY_ACCEPTS = {"MDServerStatus", "MDCertificateStatus", "MDCertificateCheck",
                 "MDCertificateMonitor"}


def _global_examples():
    """(directive, its example line) of every page saying: not inside <MDomain>."""
    found = []
    for page in sorted(glob.glob(os.path.join(DOCS, "MD*.md"))):
        name = os.path.basename(page)[:-3]
        text = open(page).read()
        if "not inside `<MDomain>`" not in text:
            continue
        example = re.search(rf"^```apache\n(?:.*\n)*?({name} .*)$", text, re.M)
        if not example:
            continue                     # the section forms (<MDomain>, <MDomainSet>)
        line = example.group(1)
        if name in ("MDMessageCmd", "MDNotifyCmd"):
            line = f"{name} /bin/true"   # the example's program is not on this machine
        found.append((name, line))
    return found


GLOBALS = _global_examples()


@pytest.mark.parametrize("name,line", GLOBALS, ids=[g[0] for g in GLOBALS])
def test_0406_global_setting_inside_mdomain(apache, domain, name, line):
    """Each global directive inside <MDomain>: refused, naming the directive and the
    fix, or (where today's module starts with it) accepted with a warning naming file
    and line; never silently taken as the MD's."""
    assert len(GLOBALS) >= 15, GLOBALS
    apache.add(f"<MDomain {domain}>\n{line}\n</MDomain>")
    rc, out = apache.configtest()
    if name in TODAY_ACCEPTS:
        assert rc == 0, out
        m = re.search(rf"MD4017: (\S+):(\d+): {name}: is a global setting", out)
        assert m, out
        assert m.group(1) == apache.conf_path and int(m.group(2)) == _line_of(apache, line), out
    else:
        assert rc != 0, out
        assert re.search(rf"{name}: is not allowed inside <MDomain>; put it outside", out), out
