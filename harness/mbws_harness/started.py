"""--start CMD: start the broker under test, wait until its URL accepts
connections, and stop it again, with everything it spawned.

The command runs through /bin/sh in a new session (its own process group),
so stopping sends SIGTERM, then SIGKILL, to the whole group: a shell wrapper
cannot leave the real broker behind. Its output goes to the run directory
(broker-under-test.log), which CI recipes upload with the reports."""

import os
import signal
import socket
import subprocess
import time
from urllib.parse import urlsplit

from .targets import TargetError


def host_port(url):
    """Host and TCP port of a ws:// or wss:// URL (80 / 443 when the URL has none)."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        raise TargetError(f"--target-url: {url!r} has an invalid port") from None
    return parts.hostname, port or (443 if parts.scheme == "wss" else 80)


def accepts(host, port, timeout=0.5):
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


class StartedBroker:
    """The broker under test, started by --start CMD."""

    def __init__(self, cmd, url, log_path, ready_timeout=30.0):
        self.cmd = cmd
        self.url = url
        self.log_path = log_path
        self.ready_timeout = ready_timeout
        self.proc = None
        self.exit_status = None  # set once stopped

    def start(self):
        host, port = host_port(self.url)
        if accepts(host, port):
            # Something else already listens there: certifying it would certify
            # the wrong process (a stale broker of an earlier run, say).
            raise TargetError(
                f"--start: {host}:{port} (from {self.url}) already accepts connections before "
                f"the broker was started; another process holds the port (an earlier broker "
                f"still running?). Refusing to certify it; stop it or use another port.")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(["/bin/sh", "-c", self.cmd], stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        deadline = time.monotonic() + self.ready_timeout
        while not accepts(host, port):
            code = self.proc.poll()
            if code is not None:
                self.stop()
                raise TargetError(f"--start: the broker under test exited (status {code}) before "
                                  f"{host}:{port} accepted connections; its output "
                                  f"({self.log_path}):\n{self.log_tail()}")
            if time.monotonic() > deadline:
                self.stop()
                raise TargetError(f"--start: the broker under test did not accept connections at "
                                  f"{host}:{port} within {self.ready_timeout:.0f} s; its output "
                                  f"({self.log_path}):\n{self.log_tail()}")
            time.sleep(0.1)
        return self.url

    def log_tail(self, n=20):
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "(no output)"
        return "\n".join(lines[-n:]) or "(no output)"

    def stop(self, grace=5.0):
        """SIGTERM to the process group, SIGKILL to it after the grace period."""
        if self.proc is None:
            return None
        pgid = self.proc.pid  # start_new_session: the group id is the shell's pid
        _signal_group(pgid, signal.SIGTERM)
        try:
            self.proc.wait(grace)
        except subprocess.TimeoutExpired:
            pass
        # The shell may be gone while its children still run: wait for the group.
        deadline = time.monotonic() + grace
        while _group_alive(pgid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _group_alive(pgid):
            _signal_group(pgid, signal.SIGKILL)
        if self.proc.poll() is None:
            self.proc.wait(5)
        return self.proc.returncode


def _signal_group(pgid, sig):
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _group_alive(pgid):
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
