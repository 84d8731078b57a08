# SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors.
"""Background processes with their output in a log file, and waiting."""
import os
import signal
import subprocess
import time


def wait_until(predicate, timeout, interval=0.1, what="condition"):
    """Poll predicate() until it returns a true value; return that value.

    Raises TimeoutError naming `what` when `timeout` seconds pass first.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def pid_alive(pid):
    """True if process `pid` exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as f:
            # field 3, after the parenthesised command name, is the state
            state = f.read().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    except OSError:
        return False


class LogTail:
    """Reads what a log file gained since a mark (used to attach logs to reports)."""

    def __init__(self, path):
        self.path = path
        self.offset = 0

    def mark(self):
        self.offset = os.path.getsize(self.path) if os.path.exists(self.path) else 0

    def since_mark(self, limit=200_000):
        if not os.path.exists(self.path):
            return ""
        with open(self.path, "rb") as f:
            size = os.path.getsize(self.path)
            start = self.offset if self.offset <= size else 0
            if size - start > limit:
                start = size - limit
            f.seek(start)
            data = f.read().decode("utf-8", "replace")
        if start > self.offset:
            data = f"[... {start - self.offset} bytes cut ...]\n" + data
        return data


class BackgroundProcess:
    """A long-running child process (Pebble, challtestsrv) logging to a file."""

    def __init__(self, name, argv, log_path, env=None, cwd=None):
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self.env = env
        self.cwd = cwd
        self.proc = None
        self.tail = LogTail(log_path)

    def start(self):
        full_env = dict(os.environ)
        if self.env:
            full_env.update(self.env)
        with open(self.log_path, "ab") as log:
            log.write(f"==== starting: {' '.join(self.argv)} (env {self.env or {}})\n".encode())
            log.flush()
            self.proc = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, env=full_env, cwd=self.cwd,
                                         start_new_session=True)

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=10):
        """Terminate our own child by its pid (SIGTERM, then SIGKILL)."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=timeout)
        self.proc = None

    def log_text(self):
        if not os.path.exists(self.log_path):
            return ""
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")
