"""Targets under test: a named implementation with a broker URL and/or a
client command. Also starts and stops the bundled reference broker."""

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from . import DEFAULT_PEER, REPO_DIR

BUNDLED = "bundled"  # --target NAME=bundled: the reference broker, started by the harness


class TargetError(Exception):
    """Bad target options, a missing binary or an unreachable target."""


@dataclass
class Target:
    name: str
    broker_url: str = None   # None: no broker to test; BUNDLED: start the reference one
    client_cmd: str = None   # None: no client to test
    bundled_client: bool = False
    broker_disconnect_cmd: str = None  # SES-7 trigger; None: those cases skip

    def roles(self):
        return [r for r, v in (("broker", self.broker_url), ("client", self.client_cmd)) if v]

    def describe(self, bundled_url=None):
        parts = []
        if self.broker_url:
            parts.append("broker " + (f"{bundled_url or ''} (bundled reference broker)".lstrip()
                                      if self.broker_url == BUNDLED else self.broker_url))
        if self.client_cmd:
            parts.append("client " + ("(reference echo client)" if self.bundled_client
                                      else repr(self.client_cmd)))
        return ", ".join(parts)


_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$")


def _check_name(name, option):
    if not _NAME_RE.match(name):
        raise TargetError(f"{option}: target name {name!r} must be 1-64 of A-Z a-z 0-9 _ . + - "
                          "(it appears in test IDs and file names)")


def check_url(url, option):
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss") or not parts.hostname:
        raise TargetError(f"{option}: {url!r} is not a ws:// or wss:// URL")
    try:
        parts.port
    except ValueError:
        raise TargetError(f"{option}: {url!r} has an invalid port") from None


def _split_pair(value, option):
    name, sep, rest = value.partition("=")
    if not sep or not rest:
        raise TargetError(f"{option}: expected NAME=VALUE, got {value!r}")
    _check_name(name, option)
    return name, rest


def build_targets(opt, peer):
    """Targets from the options; with none given, the reference broker and
    the reference echo client under the name 'reference'."""
    targets = {}

    def get(name):
        return targets.setdefault(name, Target(name))

    single_name = opt.target_name or ("target" if (opt.target_url or opt.client_cmd) else None)
    if single_name:
        _check_name(single_name, "--target-name")
    if opt.target_url:
        if opt.target_url != BUNDLED:
            check_url(opt.target_url, "--target-url")
        get(single_name).broker_url = opt.target_url
    if opt.client_cmd:
        get(single_name).client_cmd = opt.client_cmd
    for value in opt.targets or []:
        name, url = _split_pair(value, "--target")
        if url != BUNDLED:
            check_url(url, "--target")
        if get(name).broker_url:
            raise TargetError(f"--target: broker of target {name!r} given twice")
        get(name).broker_url = url
    for value in opt.clients or []:
        name, cmd = _split_pair(value, "--client")
        if cmd == BUNDLED:
            get(name).bundled_client = True
            cmd = f"{shlex.quote(str(peer))} echo"
        if get(name).client_cmd:
            raise TargetError(f"--client: client of target {name!r} given twice")
        get(name).client_cmd = cmd
    if opt.target_name and not (opt.target_url or opt.client_cmd):
        raise TargetError("--target-name names the target of --target-url/--client-cmd; "
                          "give one of those too (or use --target NAME=URL)")
    if not targets:
        targets["reference"] = Target("reference", broker_url=BUNDLED,
                                      client_cmd=f"{shlex.quote(str(peer))} echo",
                                      bundled_client=True)
    for t in targets.values():
        if t.broker_url == BUNDLED:
            t.broker_disconnect_cmd = bundled_disconnect_cmd(peer)
        elif t.broker_url:
            t.broker_disconnect_cmd = getattr(opt, "broker_disconnect_cmd", None)
    return list(targets.values())


# The bundled broker's --control-address, and the --broker-disconnect-cmd
# that uses it: publish "disconnect ADDRESS" there.
CONTROL_ADDRESS = "mbws-suite/control"


def bundled_disconnect_cmd(peer):
    return (f"{shlex.quote(str(peer))} client publish \"$MBWS_URL\" {CONTROL_ADDRESS} "
            f"\"disconnect $MBWS_ADDRESS\"")


def check_client_cmd(cmd, option="--client-cmd"):
    """Fail early when the client command's program does not exist."""
    try:
        words = shlex.split(cmd)
    except ValueError as exc:
        raise TargetError(f"{option}: cannot parse {cmd!r}: {exc}") from None
    if not words:
        raise TargetError(f"{option}: empty command")
    # Skip leading VAR=value assignments; give up on shell syntax we cannot judge.
    while words and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", words[0]):
        words.pop(0)
    if not words or any(c in words[0] for c in "$`(){};|&<>"):
        return
    prog = words[0]
    if "/" in prog:
        if not (os.path.isfile(prog) and os.access(prog, os.X_OK)):
            raise TargetError(f"{option}: {prog} is not an executable file")
    elif shutil.which(prog) is None and prog not in ("exec", "env", "cd", "."):
        raise TargetError(f"{option}: program {prog!r} not found on PATH")


def check_reachable(url, timeout=3.0):
    """Open (and close) a TCP connection to the URL's host and port."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "wss" else 80)
    try:
        with socket.create_connection((parts.hostname, port), timeout=timeout):
            pass
    except OSError as exc:
        raise TargetError(f"target {url} is unreachable: cannot connect to "
                          f"{parts.hostname}:{port} ({exc.strerror or exc}); is the broker running?"
                          ) from None


def find_peer(option_value):
    """The mbws-peer binary: the given path (--peer), else build/peer/mbws-peer
    in the repo."""
    build_hint = (f"build it with:  cmake -S {REPO_DIR} -B {REPO_DIR}/build && "
                  f"cmake --build {REPO_DIR}/build -j2   (or pass --peer PATH)")
    path = Path(option_value) if option_value else DEFAULT_PEER
    if not path.is_file():
        raise TargetError(f"mbws-peer not found at {path}; {build_hint}")
    if not os.access(path, os.X_OK):
        raise TargetError(f"{path} is not executable")
    return path.resolve()


_PORT_RES = (re.compile(r"(?:127\.0\.0\.1|localhost|\]|0\.0\.0\.0):(\d{1,5})\b"),
             re.compile(r"\bport\D{0,3}(\d{1,5})\b", re.I),
             re.compile(r"^\s*(\d{1,5})\s*$"))


def parse_port(line):
    for rx in _PORT_RES:
        m = rx.search(line)
        if m and 0 < int(m.group(1)) < 65536:
            return int(m.group(1))
    return None


class BundledBroker:
    """The reference broker on 127.0.0.1 port 0, stopped by PID."""

    def __init__(self, argv_prefix, log_path, start_timeout=15.0, extra_args=(), tls=None):
        # tls: (certificate, key) to serve wss:// with
        # extra_args go after the suite's own options (sensitivity.py: --fault NAME)
        # --queue-bound below the credit (256): cases can fill an address until the
        # broker legitimately holds its window (BRK-6), making FLOW-3 conclusive.
        self.argv = list(argv_prefix) + ["broker", "--listen", "127.0.0.1:0",
                                         "--queue-bound", "64",
                                         # session-expiry 2 s: cases can wait for a detached
                                         # session to expire (RES-6) within the suite's budget
                                         "--session-expiry", "2",
                                         # the SES-7 trigger (bundled_disconnect_cmd)
                                         "--control-address", CONTROL_ADDRESS,
                                         # a binary string of 65532 octets (BIN-6) and a text one
                                         # of 65535 (TXT-6) only fit in frames above 65536 octets
                                         "--max-frame", "131072"] + list(extra_args)
        if tls:
            self.argv += ["--cert", tls[0], "--key", tls[1]]
        self.scheme = "wss" if tls else "ws"
        self.log_path = Path(log_path)
        self.start_timeout = start_timeout
        self.proc = None
        self.url = None
        self.returncode = None

    def start(self):
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "w", encoding="utf-8", errors="replace")
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, text=True, errors="replace",
                                     start_new_session=True)
        found = threading.Event()
        port = []

        def pump():  # read the port, then keep draining output into the log
            for line in self.proc.stdout:
                log.write(line)
                log.flush()
                if not port:
                    p = parse_port(line)
                    if p:
                        port.append(p)
                        found.set()
            log.close()
            found.set()

        threading.Thread(target=pump, daemon=True).start()
        found.wait(self.start_timeout)
        if not port:
            self.stop()
            tail = self._log_tail()
            raise TargetError("the bundled reference broker did not report its port within "
                              f"{self.start_timeout:.0f} s ({' '.join(self.argv)}); "
                              f"its output:\n{tail}")
        self.url = f"{self.scheme}://127.0.0.1:{port[0]}/"
        deadline = time.monotonic() + self.start_timeout
        while True:
            try:
                check_reachable(self.url, timeout=1.0)
                return self.url
            except TargetError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.stop()
                    raise TargetError(f"the bundled reference broker at {self.url} does not "
                                      f"accept connections; its output:\n{self._log_tail()}")
                time.sleep(0.05)

    def _log_tail(self, n=15):
        try:
            return "".join(self.log_path.read_text(errors="replace").splitlines(True)[-n:])
        except OSError:
            return "(no output)"

    def stop(self, grace=10.0):
        """SIGTERM by PID, then SIGKILL after the grace period."""
        if self.proc is None or self.returncode is not None:
            return self.returncode
        if self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self.returncode = self.proc.returncode
        return self.returncode
