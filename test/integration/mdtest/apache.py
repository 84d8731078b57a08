# SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors.
"""An Apache httpd instance with a generated configuration.

Each instance has its own server root (conf/, logs/, run/, htdocs/, md/ for
the store) and runs Debian's /usr/sbin/apache2 directly - no systemd, no
/etc/apache2.  The parent runs as root, the children as www-data, as in a
real installation.

Besides the test ports (http, https) every instance listens on a private
control port with mod_status at /server-status; the harness uses it to see
that the server answers and which configuration generation serves.
"""
import contextlib
import fcntl
import json
import os
import re
import signal
import subprocess
import textwrap
import time

from . import tlsclient
from .ports import port_answers
from .procs import pid_alive, wait_until

APACHE_BIN = os.environ.get("APACHE_BIN", "/usr/sbin/apache2")

# MDTEST_ASAN=1: the module under test is built with ASan+UBSan (make asan-module).
# apache2 itself is not, so the ASan runtime is preloaded into it; reports go to files
# in <server root>/sanitizer/ (writable by the children's user), and check_log() fails
# the test on any of them. Leak detection is off: httpd leaves its pools to the exit.
SANITIZE = os.environ.get("MDTEST_ASAN", "") not in ("", "0")
SANITIZER_RE = re.compile(r"ERROR: AddressSanitizer|runtime error:|ERROR: LeakSanitizer"
                          r"|SUMMARY: (Address|UndefinedBehavior)Sanitizer")


def _libasan():
    out = subprocess.run(["gcc", "-print-file-name=libasan.so"], capture_output=True,
                         text=True).stdout.strip()
    return os.path.realpath(out) if out and os.path.isabs(out) else "libasan.so"


FRAME_RE = re.compile(r"\((/[^()+]+\.so|/[^()+]+/mdctl)\+(0x[0-9a-f]+)\)")


def symbolize(report):
    """Function and line for the frames of our own binaries (the runtime's own
    symbolizer is off: slow, and a child being stopped may die while it works)."""
    def one(m):
        if "mod_md" not in m.group(1) and not m.group(1).endswith("/mdctl"):
            return m.group(0)
        r = subprocess.run(["addr2line", "-f", "-C", "-e", m.group(1), m.group(2)],
                           capture_output=True, text=True)
        where = " ".join(r.stdout.split()) if r.returncode == 0 else ""
        return f"{m.group(0)} {where}"
    return FRAME_RE.sub(one, report)


def sanitizer_env(report_dir):
    """The environment for an apache2 command under the sanitizers."""
    env = dict(os.environ)
    common = "halt_on_error=1:print_stacktrace=1:symbolize=0"
    env["LD_PRELOAD"] = _libasan()
    env["ASAN_OPTIONS"] = (f"detect_leaks=0:{common}:abort_on_error=0:"
                           f"log_path={report_dir}/asan")
    env["UBSAN_OPTIONS"] = f"{common}:log_path={report_dir}/ubsan"
    return env
MODULES_DIR = "/usr/lib/apache2/modules"

# Modules loaded from MODULES_DIR, in this order.  log_config is built into
# Debian's apache2 (loading it again is an error) and so is watchdog, which
# the env adds here when `apache2 -l` does not list it.
DEFAULT_MODULES = ["mpm_event", "authz_core", "mime", "dir", "alias", "status",
                   "socache_shmcb", "ssl", "http2"]

# A line of the error log at warn level or worse, from any module:
# "[Fri Nov 28 14:15:22.123456 2026] [md:warn] [pid 1:tid 2] AH10085: ..."
BAD_LEVEL_RE = re.compile(r"\[[\w.-]*:(warn|error|crit|alert|emerg)\]")

# Messages at warn level or worse that are allowed in every test.  Only
# mod_ssl messages caused by the self-signed fallback certificate that the
# module provides before the first real certificate exists belong here;
# anything else a test expects it declares with Apache.expect_log().
DEFAULT_LOG_ALLOWLIST = [
    # mod_ssl, at every config pass while an MD has no certificate yet:
    # "AH10085: Init: x.test:443 will respond with '503 Service Unavailable'
    # for now. There are no SSL certificates configured and no other module
    # contributed any."  mod_ssl logs it when the module hands over only a
    # fallback certificate (ssl_add_fallback_cert_files); answering 503 with
    # a placeholder certificate is exactly the documented behaviour.
    r"\[ssl:warn\].* AH10085: Init: \S+ will respond with '503 Service Unavailable' for now\.",
    # Not listed, because the fallback certificate of today's module does not
    # cause them (it names the MD's domains in its SAN and is CA:FALSE):
    # AH01909 (certificate does not match the server name) and AH01906
    # (server certificate is a CA certificate).  A module whose fallback
    # certificate triggers them has a defect the tests should show.
]


def _dedent(text):
    return textwrap.dedent(text).strip("\n") + "\n"


class ApacheError(Exception):
    pass


class Apache:
    """One Apache httpd server for one test (see conftest.py's `apache`).

    Typical use:

        apache.add(f"MDomain {domain}")
        apache.add_vhost(domain)            # SSL vhost on the https port
        apache.start()
        apache.wait_for_cert(domain)
        apache.graceful()
        cert = apache.verify_cert(domain)   # verified against Pebble's root
    """

    def __init__(self, env, name, ca=None, http_port=None, https_port=None, ctrl_port=None):
        self.env = env
        self.name = name
        self.ca = ca if ca is not None else env.pebble
        self.server_root = os.path.join(env.run_dir, "apache", name)
        self.conf_path = os.path.join(self.server_root, "conf", "httpd.conf")
        self.error_log = os.path.join(self.server_root, "logs", "error_log")
        self.ctl_log = os.path.join(self.server_root, "logs", "ctl.log")
        self.pid_file = os.path.join(self.server_root, "run", "httpd.pid")
        self.sanitizer_dir = os.path.join(self.server_root, "sanitizer")
        self.store_dir = os.path.join(self.server_root, "md")
        self.htdocs = os.path.join(self.server_root, "htdocs")
        self.http_port = http_port or env.http_port
        self.https_port = https_port or env.https_port
        self.ctrl_port = ctrl_port or env.ctrl_port
        # knobs a test may change before start()/graceful()
        self.md_module = env.md_module
        self.modules = list(env.default_modules)
        self.log_level = env.log_level
        self.listen_http = True
        self.listen_https = True
        self.port_map = f"http:{self.http_port} https:{self.https_port}"
        self.md_defaults = True          # MDStoreDir/MDCertificateAuthority/... lines
        self.user = "www-data"
        self.parts = []                  # test-provided configuration text
        # error log policy
        self.log_allow = [re.compile(p) for p in DEFAULT_LOG_ALLOWLIST]
        self.log_required = []
        self._log_checked = 0
        self._ctl_output = []            # apache2 command output not yet checked
        self.started = False
        for d in ("conf", "logs", "run", "htdocs"):
            os.makedirs(os.path.join(self.server_root, d), exist_ok=True)
        for d in (os.path.join(env.run_dir, "apache"), self.server_root, self.htdocs):
            os.chmod(d, 0o755)
        if SANITIZE:
            os.makedirs(self.sanitizer_dir, exist_ok=True)
            os.chmod(self.sanitizer_dir, 0o1777)   # the children (www-data) report too

    # -- configuration ---------------------------------------------------
    def add(self, text):
        """Append configuration text (dedented) after the standard part."""
        self.parts.append(_dedent(text))

    def clear_config(self):
        """Forget everything added with add()/add_vhost()."""
        self.parts = []

    def add_vhost(self, server_name, aliases=(), port=None, ssl=True, doc_root=None,
                  content=None, extra=""):
        """Add a name-based <VirtualHost *:port> (default: the https port).

        With ssl (the default) it says `SSLEngine on` and names no
        certificate: the module provides it.  A DocumentRoot with an
        index.html holding `content` (default "<server_name> works\\n") is
        created.  Returns the index.html content.
        """
        port = port or (self.https_port if ssl else self.http_port)
        if doc_root is None:
            doc_root = os.path.join(self.htdocs, server_name)
        os.makedirs(doc_root, exist_ok=True)
        os.chmod(doc_root, 0o755)
        if content is None:
            content = f"{server_name} works\n"
        index = os.path.join(doc_root, "index.html")
        with open(index, "w") as f:
            f.write(content)
        os.chmod(index, 0o644)
        lines = [f"<VirtualHost *:{port}>", f"    ServerName {server_name}"]
        if aliases:
            lines.append("    ServerAlias " + " ".join(aliases))
        lines.append(f'    DocumentRoot "{doc_root}"')
        if ssl:
            lines.append("    SSLEngine on")
        lines += ["    " + line for line in _dedent(extra).splitlines() if extra]
        lines.append("</VirtualHost>")
        self.parts.append("\n".join(lines) + "\n")
        return content

    def config_text(self):
        r = self.server_root
        out = [f"# generated by mdtest for {self.name}",
               f'ServerRoot "{r}"',
               f'DefaultRuntimeDir "{r}/run"',
               f'PidFile "{self.pid_file}"',
               f'ErrorLog "{self.error_log}"',
               f"LogLevel {self.log_level}",
               "ServerName localhost"]
        if os.geteuid() == 0:
            out += [f"User {self.user}", f"Group {self.user}"]
        if self.listen_http:
            out.append(f"Listen 127.0.0.1:{self.http_port}")
        if self.listen_https:
            out.append(f"Listen 127.0.0.1:{self.https_port} https")
        out.append(f"Listen 127.0.0.1:{self.ctrl_port}")
        for m in self.modules:
            out.append(f"LoadModule {m}_module {MODULES_DIR}/mod_{m}.so")
        out.append(f'LoadModule md_module "{self.md_module}"')
        types = "/etc/mime.types" if os.path.exists("/etc/mime.types") else f"{r}/conf/mime.types"
        if not os.path.exists(types):
            open(types, "w").close()
        out += [
            # small and quick to restart; MaxSpareThreads >= MinSpareThreads
            # + ThreadsPerChild and MaxRequestWorkers a multiple of
            # ThreadsPerChild, or mpm_event warns about adjusting them
            "StartServers 1",
            "ThreadsPerChild 10",
            "MinSpareThreads 5",
            "MaxSpareThreads 30",
            "MaxRequestWorkers 40",
            "ServerLimit 8",
            "GracefulShutdownTimeout 5",
            f"TypesConfig {types}",
            f'DocumentRoot "{self.htdocs}"',
            f'<Directory "{self.htdocs}">',
            "    Require all granted",
            "</Directory>",
            f'SSLSessionCache "shmcb:{r}/run/ssl_scache(512000)"',
        ]
        if self.md_defaults:
            out += [
                f'MDStoreDir "{self.store_dir}"',
                f"MDCertificateAuthority {self.ca.url}",
                f'MDCACertificateFile "{self.ca.ca_file}"',
                "MDCertificateAgreement accepted",
                "MDContactEmail admin@example.org",
                f"MDPortMap {self.port_map}",
            ]
        # the preflight checks (MDPreflight, on by default) ask the DNS server the CA
        # resolves through, as in production the same public DNS; also for tests that
        # write their own MD lines; only a module that knows the directive gets it
        out += [
            "<IfDirective MDPreflightResolver>",
            f"    MDPreflightResolver 127.0.0.1:{self.preflight_dns_port()}",
            "</IfDirective>",
        ]
        out += [
            f"<VirtualHost 127.0.0.1:{self.ctrl_port}>",
            "    ServerName mdtest-control",
            "    <Location /server-status>",
            "        SetHandler server-status",
            "    </Location>",
            "</VirtualHost>",
            "# ---- test configuration ----",
        ]
        return "\n".join(out) + "\n" + "".join(self.parts)

    def preflight_dns_port(self):
        """The DNS server the CA of this server resolves through (a Pebble's
        dns_port, the upstream's for a proxy in front of one), else challtestsrv."""
        ca = self.ca
        for _ in range(3):
            if getattr(ca, "dns_port", None):
                return ca.dns_port
            ca = getattr(ca, "upstream", None)
        return self.env.challtestsrv.dns_port

    def write_config(self):
        with open(self.conf_path, "w") as f:
            f.write(self.config_text())

    # -- process control -------------------------------------------------
    def _ctl(self, *args, timeout=60, watch=True):
        """Run apache2 with this server's config; return (rc, output).

        With watch, and when the command succeeded, every output line
        counts for check_log(): start, graceful and stop print nothing when
        all is well, and messages from before the error log is open (e.g.
        "AH00112: Warning: DocumentRoot [...] does not exist") appear only
        here, without a level tag.  (A failing command raises ApacheError
        with its output instead.)"""
        argv = [APACHE_BIN, "-d", self.server_root, "-f", self.conf_path, *args]
        out_path = os.path.join(self.server_root, "logs", "ctl.out")
        # output goes to a file, not a pipe: a daemon keeping a pipe open
        # would make us wait forever
        with open(out_path, "w+b") as out:
            rc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                timeout=timeout,
                                env=sanitizer_env(self.sanitizer_dir) if SANITIZE else None
                                ).returncode
            out.seek(0)
            text = out.read().decode("utf-8", "replace")
        with open(self.ctl_log, "a") as log:
            log.write(f"$ {' '.join(argv)}  -> rc={rc}\n{text}")
        if watch and rc == 0:
            self._ctl_output += [f"apache2 {' '.join(args)}: {line}"
                                 for line in text.splitlines() if line.strip()]
        return rc, text

    def configtest(self):
        """Write the configuration and run `apache2 -t`. Returns (rc, output)."""
        self.write_config()
        return self._ctl("-t", watch=False)

    def pid(self):
        try:
            with open(self.pid_file) as f:
                return int(f.read().strip() or 0) or None
        except (OSError, ValueError):
            return None

    def running(self):
        pid = self.pid()
        return pid is not None and pid_alive(pid)

    def _fail(self, msg):
        raise ApacheError(f"{msg}\n--- error log tail ---\n{self.log_tail()}")

    def start(self, timeout=30):
        """Write the configuration and start the server; return when it serves.

        `apache2 -k start` may exit 0 and the daemon still die in its second
        configuration pass, so this waits for the pid file, a live parent and
        an answer on the control port."""
        if self.running():
            self._fail(f"{self.name}: already running")
        if os.path.exists(self.pid_file):
            os.unlink(self.pid_file)     # stale: its process is gone
        self.write_config()
        log_start = len(self.log_text())
        rc, out = self._ctl("-k", "start")
        if rc != 0:
            self._fail(f"{self.name}: apache2 -k start exited {rc}:\n{out}")
        self.started = True
        deadline = time.monotonic() + timeout

        def pid_ready():
            if "AH00016: Configuration Failed" in self.log_text()[log_start:]:
                self._fail(f"{self.name}: configuration failed in the second pass")
            return self.pid()
        pid = wait_until(pid_ready, timeout, what=f"{self.name} pid file")
        self._wait_serving(deadline, pid, min_generation=None)
        return pid

    def _wait_serving(self, deadline, pid, min_generation):
        def serving():
            if not pid_alive(pid):
                self._fail(f"{self.name}: server process {pid} died")
            gen = self.config_generation()
            if gen is None or (min_generation is not None and gen < min_generation):
                return None
            if self.listen_https and not port_answers(self.https_port):
                return None
            if self.listen_http and not port_answers(self.http_port):
                return None
            return True
        wait_until(serving, max(1.0, deadline - time.monotonic()), interval=0.2,
                   what=f"{self.name} to serve" +
                        ("" if min_generation is None else f" generation {min_generation}"))
        # a short second look: a parent that dies right after its children
        # came up would otherwise go unnoticed until the first request
        time.sleep(0.2)
        if not pid_alive(pid):
            self._fail(f"{self.name}: server process {pid} died after start")

    def stop(self, timeout=30):
        """Stop the server and wait until the parent is gone and ports are free."""
        pid = self.pid()
        if pid is None or not pid_alive(pid):
            self.started = False
            return
        rc, out = self._ctl("-k", "stop")
        if rc != 0:
            # `-k stop` reads the configuration on disk; when a test left a
            # broken one there, signal our server directly, as -k stop would
            os.kill(pid, signal.SIGTERM)
        try:
            wait_until(lambda: not pid_alive(pid), timeout, what=f"{self.name} parent {pid} to exit")
        except TimeoutError:
            os.kill(pid, signal.SIGKILL)   # our own server, by its pid
            wait_until(lambda: not pid_alive(pid), 10, what=f"{self.name} parent {pid} killed")
            raise ApacheError(f"{self.name}: did not stop within {timeout}s (killed), rc={rc} {out}")
        ports = [self.ctrl_port] + ([self.http_port] if self.listen_http else []) \
            + ([self.https_port] if self.listen_https else [])
        wait_until(lambda: not any(port_answers(p, timeout=0.2) for p in ports), 10,
                   what=f"{self.name} ports to close")
        self.started = False

    def restart(self):
        """Full stop and start (a new parent process)."""
        self.stop()
        return self.start()

    def graceful(self, timeout=30):
        """Rewrite the configuration, `apache2 -k graceful`, and wait until a
        child of the next configuration generation answers."""
        pid = self.pid()
        if pid is None or not pid_alive(pid):
            self._fail(f"{self.name}: graceful restart, but the server is not running")
        old = self.config_generation()
        if old is None:
            self._fail(f"{self.name}: no configuration generation before graceful")
        self.write_config()
        rc, out = self._ctl("-k", "graceful")
        if rc != 0:
            self._fail(f"{self.name}: apache2 -k graceful exited {rc}:\n{out}")
        self._wait_serving(time.monotonic() + timeout, pid, min_generation=old + 1)

    # -- status ----------------------------------------------------------
    def server_status(self, query="auto", timeout=5):
        """Text of /server-status?<query> on the control port (None if no answer)."""
        try:
            r = tlsclient.http_get(self.ctrl_port, "mdtest-control", f"/server-status?{query}",
                                   timeout=timeout)
        except OSError:
            return None
        return r.text if r.status == 200 else None

    def config_generation(self):
        """ParentServerConfigGeneration as seen by the child that answered."""
        text = self.server_status()
        if text is None:
            return None
        m = re.search(r"^ParentServerConfigGeneration: (\d+)", text, re.M)
        return int(m.group(1)) if m else None

    # -- error log -------------------------------------------------------
    def log_text(self):
        try:
            with open(self.error_log, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, limit=20000):
        text = self.log_text()
        return text[-limit:]

    def log_lines(self, regex=None):
        """Error log lines, optionally only those matching `regex`."""
        lines = self.log_text().splitlines()
        if regex is None:
            return lines
        r = re.compile(regex)
        return [line for line in lines if r.search(line)]

    def wait_for_log(self, regex, timeout=30):
        """Wait until a line matching `regex` is in the error log; return it."""
        return wait_until(lambda: (self.log_lines(regex) or [None])[0], timeout,
                          what=f"error log line /{regex}/")

    def expect_log(self, regex, required=False):
        """Declare warn/error lines matching `regex` as expected in this test.

        With required=True the test also fails if no line matches it."""
        self.log_allow.append(re.compile(regex))
        if required:
            self.log_required.append(re.compile(regex))

    def _allowed(self, line):
        return any(a.search(line) for a in self.log_allow)

    def check_log(self, final=False):
        """Problems since the last check: error log lines at warn level or
        worse, and any output of apache2 -k start/graceful/stop, that no
        allowlist entry or expect_log() pattern covers; with final=True also
        required patterns (expect_log(..., required=True)) never seen."""
        problems = []
        try:
            with open(self.error_log, "rb") as f:
                f.seek(self._log_checked)
                data = f.read()
            self._log_checked += len(data)
            for line in data.decode("utf-8", "replace").splitlines():
                if BAD_LEVEL_RE.search(line) and not self._allowed(line):
                    problems.append(line)
        except FileNotFoundError:
            pass
        problems += [line for line in self._ctl_output if not self._allowed(line)]
        self._ctl_output = []
        problems += self.sanitizer_reports()
        if final:
            seen = self.log_text()
            if os.path.exists(self.ctl_log):
                with open(self.ctl_log, errors="replace") as f:
                    seen += f.read()
            for r in self.log_required:
                if not r.search(seen):
                    problems.append(f"(expected log line not found: /{r.pattern}/)")
        return problems

    def sanitizer_reports(self):
        """ASan/UBSan reports of this server so far (never allowed), each as one
        problem with its first lines; also such lines in the error log (a report
        written to stderr when its file could not be opened)."""
        found = []
        if os.path.isdir(self.sanitizer_dir):
            for name in sorted(os.listdir(self.sanitizer_dir)):
                with open(os.path.join(self.sanitizer_dir, name), errors="replace") as f:
                    text = f.read()
                if text.strip():
                    found.append(f"sanitizer report {name}:\n{symbolize(text)[:8000]}")
        found += [f"sanitizer output in the error log: {line}"
                  for line in self.log_text().splitlines() if SANITIZER_RE.search(line)]
        return found

    # -- store -----------------------------------------------------------
    def store_path(self, *parts):
        return os.path.join(self.store_dir, *parts)

    @contextlib.contextmanager
    def md_locked(self, md):
        """Hold `md`'s store lock (locks/<md>.lock, the fcntl lock the module's
        renewal takes), so that the store can be changed under a running server
        without racing a renewal's writes."""
        path = self.store_path("locks", f"{md}.lock")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "a") as f:
            fcntl.lockf(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.lockf(f, fcntl.LOCK_UN)

    def wait_for_store_file(self, relpath, timeout=60):
        """Wait until store_dir/relpath exists; return its full path."""
        path = self.store_path(relpath)
        try:
            wait_until(lambda: os.path.exists(path), timeout, interval=0.25,
                       what=f"store file {relpath}")
        except TimeoutError as e:
            raise TimeoutError(f"{e}\n--- error log tail ---\n{self.log_tail(6000)}") from None
        return path

    def add_ec_mds(self, names, extra=""):
        """One MD per name with its SSL vhost, http-01 and an EC P-256 key (cheap
        to make), as the tests that renew many MDs at once need; extra: more
        global lines."""
        for name in names:
            self.add(f"MDomain {name}\nMDCAChallenges http-01")
            self.add_vhost(name)
        self.add("MDPrivateKeys secp256r1" + (f"\n{extra}" if extra else ""))

    # ---- the status handlers, on a vhost of the control port ----

    STATUS_HOST = "mdstat"

    def add_status_vhost(self):
        """md-status at /md-status and md-metrics at /metrics, on the control port."""
        self.add(f"""
            <VirtualHost 127.0.0.1:{self.ctrl_port}>
                ServerName {self.STATUS_HOST}
                <Location /md-status>
                    SetHandler md-status
                </Location>
                <Location /metrics>
                    SetHandler md-metrics
                </Location>
            </VirtualHost>
        """)

    def status_get(self, path, method="GET"):
        return tlsclient.http_get(self.ctrl_port, self.STATUS_HOST, path, method=method)

    def md_status(self, name=None):
        """The md-status JSON of all MDs, or of one."""
        r = self.status_get("/md-status" + (f"/{name}" if name else ""))
        assert r.status == 200, f"{r.status_line}\n{r.text}"
        return json.loads(r.text)

    def serve_first_cert(self, domain):
        """The common start of a test about an MD that has its certificate: MDomain
        with http-01 and an SSL vhost, the server started, the certificate issued and
        live (after a graceful restart). Returns the served certificate's serial."""
        self.add(f"MDomain {domain}\nMDCAChallenges http-01")
        self.add_vhost(domain)
        self.start()
        self.wait_for_cert(domain)
        self.graceful()
        return self.verify_cert(domain).serial_number

    def wait_for_cert(self, md, timeout=60, cert_file="pubcert.pem"):
        """Wait until the MD has a certificate from the CA: in staging/<md>/
        (to be activated at the next restart) with its job.json saying
        finished, or already in domains/<md>/.  Returns "staging" or
        "domains"."""
        staged = self.store_path("staging", md, cert_file)
        active = self.store_path("domains", md, cert_file)

        def where():
            if os.path.exists(active):
                return "domains"
            if os.path.exists(staged) and self._job_finished(md):
                return "staging"
            return None
        try:
            return wait_until(where, timeout, interval=0.25, what=f"certificate of {md}")
        except TimeoutError as e:
            raise TimeoutError(f"{e}\n--- error log tail ---\n{self.log_tail(6000)}") from None

    def staging_job(self, md):
        """staging/<md>/job.json, parsed; {} while there is none (or it is being
        replaced)."""
        try:
            with open(self.store_path("staging", md, "job.json")) as f:
                return json.load(f)
        except (OSError, ValueError):
            return {}

    def _job_finished(self, md):
        return bool(self.staging_job(md).get("finished"))

    # -- clients ---------------------------------------------------------
    def get_cert(self, name, port=None):
        """The certificate served for SNI `name` (not verified)."""
        return tlsclient.get_served_cert(port or self.https_port, name)

    def verify_cert(self, name, port=None, cafile=None):
        """The certificate served for `name`, verified against the CA's root
        only (Pebble's /roots/0 by default) and checked to match `name`.
        Raises ssl.SSLCertVerificationError if it does not verify."""
        return tlsclient.verify_served_cert(port or self.https_port, name,
                                            cafile or self.ca.root_path)

    def https_get(self, name, path="/", verify=False, **kw):
        """HTTPS request with SNI/Host `name`; verify=True checks the chain
        against the CA's root."""
        cafile = self.ca.root_path if verify else None
        return tlsclient.https_get(self.https_port, name, path, cafile=cafile, **kw)

    def http_get(self, name, path="/", **kw):
        return tlsclient.http_get(self.http_port, name, path, **kw)
