# SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors.
"""Shared parts of the benchmarks: machine facts, process CPU and memory,
timed Apache starts, and modules to compare.

The benchmarks use the integration harness (test/integration/mdtest) from a
plain script: one MdTestEnv (challtestsrv, Pebble), and one Apache instance
per measured server, each with a fresh server root and store.
"""
import datetime
import json
import os
import platform
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "test", "integration"))

from mdtest.apache import Apache  # noqa: E402
from mdtest.procs import pid_alive, wait_until  # noqa: E402

OURS = os.path.join(REPO, "build", "mod_md.so")
TODAY = "/usr/lib/apache2/modules/mod_md.so"
MODULE_PATHS = {"ours": OURS, "today": TODAY}
CLK_TCK = os.sysconf("SC_CLK_TCK")


def parse_list(text, allowed=None, conv=str):
    items = [conv(x.strip()) for x in text.split(",") if x.strip()]
    if allowed is not None:
        bad = [x for x in items if x not in allowed]
        if bad:
            raise SystemExit(f"unknown value(s) {bad}; allowed: {sorted(allowed)}")
    return items


def _first_line(argv):
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.SubprocessError):
        return "?"


def machine_facts():
    """Lines describing the machine and the software compared."""
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem = f.readline().split(":", 1)[1].strip()
    with open("/proc/loadavg") as f:
        load = " ".join(f.read().split()[:3])
    git = _first_line(["git", "-C", REPO, "log", "-1", "--format=%h %s"])
    return [
        f"date:        {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}",
        f"nproc:       {os.cpu_count()}",
        f"CPU model:   {model}",
        f"memory:      {mem}",
        f"kernel:      {platform.release()}",
        f"load avg:    {load} (at start; the machine is shared with other jobs)",
        f"apache2:     {_first_line(['apache2', '-v'])}",
        f"openssl:     {_first_line(['openssl', 'version'])}",
        f"pebble:      {_first_line(['dpkg-query', '-W', '-f=${Version}', 'pebble'])}",
        f"ours:        {OURS} (git {git})",
        f"today's:     {TODAY} (Debian apache2 package)",
    ]


# -- processes -----------------------------------------------------------------

def _stat_fields(pid):
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()


def children_of(pid):
    """Direct children of pid (Apache's MPM children)."""
    kids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            if int(_stat_fields(int(name))[1]) == pid:
                kids.append(int(name))
        except (OSError, IndexError, ValueError):
            pass
    return kids


def tree_cpu(pid):
    """CPU seconds (user+system) of a server: the parent, its live children,
    and children it already reaped (cutime/cstime of the parent)."""
    total = 0
    try:
        f = _stat_fields(pid)
        # after ')' : state=0 ppid=1 ... utime=11 stime=12 cutime=13 cstime=14
        total += sum(int(x) for x in f[11:15])
    except OSError:
        return None
    for k in children_of(pid):
        try:
            total += sum(int(x) for x in _stat_fields(k)[11:13])
        except (OSError, IndexError):
            pass
    return total / CLK_TCK


def proc_cpu(pid):
    """CPU seconds of one process (with reaped children)."""
    try:
        return sum(int(x) for x in _stat_fields(pid)[11:15]) / CLK_TCK
    except OSError:
        return None


def pss_kb(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_pss_mb(pid):
    """PSS of parent + children in MB, and the number of children."""
    kids = children_of(pid)
    return (pss_kb(pid) + sum(pss_kb(k) for k in kids)) / 1024.0, len(kids)


# -- Apache --------------------------------------------------------------------

class BenchApache(Apache):
    """An mdtest Apache with long timeouts and an optional mod_md.

    md_module=None gives a server without mod_md (mod_ssl alone): the
    LoadModule line and the MD* default lines are left out."""

    def config_text(self):
        text = super().config_text()
        if self.md_module is None:
            text = "\n".join(line for line in text.splitlines()
                             if not line.startswith("LoadModule md_module")) + "\n"
        return text

    def timed_start(self, timeout, answered=None):
        """Start; return (seconds until the server answers, parent pid).

        The clock starts right before `apache2 -k start`.  "Answers" means:
        the parent lives, the control port serves server-status and the
        http/https ports accept connections (as Apache.start() checks), and,
        if `answered` is given, answered() returned true (e.g. a first HTTPS
        response with status 200)."""
        if os.path.exists(self.pid_file):
            os.unlink(self.pid_file)
        self.write_config()
        t0 = self.t0 = time.monotonic()
        rc, out = self._ctl("-k", "start", timeout=timeout)
        if rc != 0:
            self._fail(f"{self.name}: apache2 -k start exited {rc}:\n{out}")
        self.started = True
        deadline = t0 + timeout
        pid = wait_until(self.pid, max(1, deadline - time.monotonic()), interval=0.05,
                         what=f"{self.name} pid file")
        self._wait_serving(deadline, pid, min_generation=None)
        if answered is not None:
            wait_until(answered, max(1, deadline - time.monotonic()), interval=0.05,
                       what=f"{self.name} first answer")
        # _wait_serving sleeps 0.2 s after the ports answer to see the parent
        # survive; that is not part of the start
        elapsed = time.monotonic() - t0
        if answered is None:
            elapsed -= 0.2
        return elapsed, pid

    def bad_log_lines(self):
        from mdtest.apache import BAD_LEVEL_RE
        return [line for line in self.log_text().splitlines() if BAD_LEVEL_RE.search(line)]


def finish_env(env, say, stop=True):
    """Stop the run's Pebble and challtestsrv (when it started them); remove the run
    directory unless BENCH_KEEP is set."""
    if stop:
        env.stop()
    if not os.environ.get("BENCH_KEEP"):
        env.cleanup()
    else:
        say(f"run directory kept: {env.run_dir}")


def stop_quietly(apache, timeout=300):
    try:
        apache.stop(timeout=timeout)
    except Exception as e:  # report and carry on with the next measurement
        print(f"    (stopping {apache.name}: {e})", flush=True)


def wait_gone(pid, timeout=60):
    wait_until(lambda: not pid_alive(pid), timeout, what=f"process {pid} to exit")


def fmt(x, digits=1):
    if x is None:
        return "-"
    if isinstance(x, str):
        return x
    return f"{x:.{digits}f}"


def table(headers, rows):
    """Plain-text table with right-aligned columns."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for n, row in enumerate(cells):
        lines.append("  ".join(c.rjust(w) for c, w in zip(row, widths)))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


class Tee:
    """Print to stdout and, if given, append to a results file."""

    def __init__(self, path=None):
        self.f = open(path, "w") if path else None

    def __call__(self, text=""):
        print(text, flush=True)
        if self.f:
            self.f.write(text + "\n")
            self.f.flush()

    def close(self):
        if self.f:
            self.f.close()


def sanitize(name):
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name)


def issued(apache, md, cert_file):
    """Is the MD's certificate there: active in domains/, or staged with its job finished?"""
    if os.path.exists(apache.store_path("domains", md, cert_file)):
        return True
    if not os.path.exists(apache.store_path("staging", md, cert_file)):
        return False
    try:
        with open(apache.store_path("staging", md, "job.json")) as f:
            return bool(json.load(f).get("finished"))
    except (OSError, ValueError):
        return False
