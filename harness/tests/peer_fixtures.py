"""Shared helpers for the reference peer's tests (test_peer_*.py): find the
mbws-peer binary, start brokers and clients on 127.0.0.1 port 0, stop them
by PID, and a loopback TCP proxy that can cut every connection through it."""
import asyncio
import os
import resource
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MBWS = "MBWS.huawei.com"
MBLWS = "MBLWS.huawei.com"


def peer_binary():
    cand = os.environ.get("MBWS_PEER") or str(REPO / "build" / "peer" / "mbws-peer")
    return cand if os.access(cand, os.X_OK) else None


PEER = peer_binary()
needs_peer = pytest.mark.skipif(PEER is None, reason="mbws-peer not built (set MBWS_PEER or build build/)")


def raise_nofile():
    """Raise this process's soft open-file limit to the hard limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class Broker:
    """`mbws-peer broker` on 127.0.0.1, a free port; stderr goes to a file."""

    def __init__(self, tmp_path, *args, wrapper=(), name="broker", ready_timeout=10):
        self.log_path = Path(tmp_path) / f"{name}.log"
        self._log = open(self.log_path, "w")
        cmd = [*wrapper, PEER, "broker", "--listen", "127.0.0.1:0", *args]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self._log, text=True,
                                     preexec_fn=raise_nofile)
        line = _readline_timeout(self.proc.stdout, ready_timeout)
        if not line.startswith("listening on "):
            self.stop()
            raise RuntimeError(f"broker did not start: {line!r}\n{self.log()}")
        self.url = line.split()[2]
        self.port = int(self.url.rstrip("/").rsplit(":", 1)[1])

    def log(self):
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text()

    def stop(self, sig=signal.SIGTERM, timeout=15):
        """Signal by PID and wait; returns the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()
        return self.proc.returncode


def _readline_timeout(stream, timeout):
    out = []
    t = threading.Thread(target=lambda: out.append(stream.readline()), daemon=True)
    t.start()
    t.join(timeout)
    return out[0] if out else ""


def client(*args, stdin=None, timeout=60, env=None):
    """Run `mbws-peer client ...` to completion."""
    return subprocess.run([PEER, "client", *args], input=stdin, capture_output=True, text=True,
                          timeout=timeout, env=env)


def start_client(*args, stdin=subprocess.DEVNULL, env=None):
    return subprocess.Popen([PEER, "client", *args], stdin=stdin, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def start_echo(url, subprotocol, encoding, addr_in, addr_out):
    env = dict(os.environ, MBWS_URL=url, MBWS_SUBPROTOCOL=subprotocol, MBWS_ENCODING=encoding,
               MBWS_IN=addr_in, MBWS_OUT=addr_out)
    return subprocess.Popen([PEER, "echo"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)


def stop(proc, sig=signal.SIGTERM, timeout=10, grace=0):
    """Waits up to grace seconds for proc to exit by itself, then signals it
    and waits; returns the exit status (negative: killed by that signal)."""
    if grace:
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            pass
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    return proc.returncode


class CutProxy:
    """A loopback TCP proxy (asyncio, in its own thread) in front of a
    broker. cut() drops every connection through it at once, both sides,
    without a WebSocket close: an abnormal loss for both peers (RES-2)."""

    def __init__(self, target_port):
        self.target_port = target_port
        self.loop = asyncio.new_event_loop()
        self.pairs = set()
        self.cuts = 0
        self.accepted = 0
        ready = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(ready,), daemon=True)
        self.thread.start()
        ready.wait(5)
        self.url = f"ws://127.0.0.1:{self.port}/"

    def _run(self, ready):
        asyncio.set_event_loop(self.loop)
        self.server = self.loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", 0))
        self.port = self.server.sockets[0].getsockname()[1]
        ready.set()
        self.loop.run_forever()

    async def _handle(self, reader, writer):
        self.accepted += 1
        try:
            ur, uw = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.transport.abort()
            return
        pair = (writer, uw)
        self.pairs.add(pair)

        async def pump(r, w):
            try:
                while True:
                    data = await r.read(65536)
                    if not data:
                        break
                    w.write(data)
                    await w.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                w.transport.abort()

        await asyncio.gather(pump(reader, uw), pump(ur, writer))
        self.pairs.discard(pair)

    def _cut(self):
        for a, b in list(self.pairs):
            a.transport.abort()
            b.transport.abort()
        self.pairs.clear()

    def cut(self):
        """Drop every live connection; returns how many were cut."""
        n = len(self.pairs)
        self.loop.call_soon_threadsafe(self._cut)
        self.cuts += 1
        time.sleep(0.05)
        return n

    def close(self):
        def _stop():
            self._cut()
            self.server.close()
            self.loop.stop()
        self.loop.call_soon_threadsafe(_stop)
        self.thread.join(5)


class LineReader:
    """Collects a process's stdout lines in a thread."""

    def __init__(self, proc):
        self.proc = proc
        self.lines = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def join(self, timeout=10):
        self.thread.join(timeout)
