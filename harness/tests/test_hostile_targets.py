"""Hostile targets (issue 15): whatever a target or a client under test
sends ends as a clear verdict per execution, in bounded time, memory and
disk. A full `--section acks` run of the harness against each hostile
stand-in (harness/standin/hostile_broker.py, and clients that write without
end or leave a child behind) must give every execution its own verdict with
a reason, keep the engine's process tree under 100 MB (sampled from /proc),
every report file under 10 MB, no execution more than 1 s past its case
timeout, and no raw escape sequence on the terminal."""
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from engine_fixtures import PY, ROOT, STANDIN, peer_binary

SUITE = ROOT / "harness" / "mbws-suite"
MB = 1 << 20
MEMORY_LIMIT = 100 * MB
FILE_LIMIT = 10 * MB
CASE_TIMEOUT_MS = 20000


def _descendants(root):
    """PIDs below root (from the parent PIDs in /proc/*/stat)."""
    children = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                stat = Path(f"/proc/{d}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(d))
    out, todo = [], [root]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def _is_engine(pid):
    """An `mbws-peer run` process: the engine or one of its workers."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return len(argv) > 1 and argv[0].endswith(b"mbws-peer") and argv[1] == b"run"


def _pss(pid):
    """Proportional set size: pages shared by forked workers count once."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


class EnginePeak(threading.Thread):
    """Samples every 20 ms the summed PSS of the engine processes below root."""

    def __init__(self, root):
        super().__init__(daemon=True)
        self.root = root
        self.peak = 0
        self.samples = 0
        self._done = threading.Event()

    def run(self):
        while not self._done.is_set():
            total = sum(_pss(p) for p in _descendants(self.root) if _is_engine(p))
            self.peak = max(self.peak, total)
            self.samples += 1
            self._done.wait(0.02)

    def stop(self):
        self._done.set()
        self.join(5)


@pytest.fixture(scope="module")
def hostile():
    proc = subprocess.Popen([PY, str(STANDIN / "hostile_broker.py")], cwd=STANDIN,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline()
    assert line.startswith("PORT "), f"hostile broker did not start: {line!r}"
    yield f"ws://127.0.0.1:{line.split()[1]}"
    proc.kill()
    proc.wait()


def case_timeout(case_file):
    doc = json.loads((ROOT / case_file).read_text())
    t = doc.get("timeout_ms") or CASE_TIMEOUT_MS
    return min(t, CASE_TIMEOUT_MS)


def run_suite(tmp_path, run_id, target_args):
    """A full --section acks run; returns (stdout bytes, run dir, engine peak)."""
    argv = [PY, str(SUITE), "-q", "--peer", peer_binary(), "--section", "acks",
            "--case-timeout", str(CASE_TIMEOUT_MS), "--report-dir", str(tmp_path),
            "--run-id", run_id, *target_args]
    t0 = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=ROOT)
    sampler = EnginePeak(proc.pid)
    sampler.start()
    try:
        out, _ = proc.communicate(timeout=300)
    finally:
        sampler.stop()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 1, (f"suite exit {proc.returncode} after "
                                  f"{time.monotonic() - t0:.0f} s (want 1: failures)\n"
                                  + out.decode("utf-8", "replace")[-3000:])
    assert sampler.samples > 0
    return out, tmp_path / run_id, sampler.peak


def check_bounds(out, run_dir, peak, n_min):
    """The checks every hostile run must pass; returns the results."""
    assert b"\x1b" not in out and b"\x07" not in out, "raw control characters on the terminal"
    assert peak < MEMORY_LIMIT, f"engine peak memory {peak / MB:.1f} MB"
    for f in run_dir.rglob("*"):
        if f.is_file():
            assert f.stat().st_size < FILE_LIMIT, f"{f.name}: {f.stat().st_size / MB:.1f} MB"
    results = json.loads((run_dir / "results.json").read_text())["results"]
    assert len(results) >= n_min
    keys = {(r["case"], r["subprotocol"], r["encoding"]) for r in results}
    assert len(keys) == len(results), "an execution without its own result"
    for r in results:
        assert r["verdict"] in ("fail", "error", "skip"), r
        assert r["reason"] and "no result from the engine" not in r["reason"], r["reason"]
        if r.get("duration_ms") is not None:
            limit = case_timeout(r["file"]) + 1000
            assert r["duration_ms"] <= limit, f"{r['case']}: {r['duration_ms']} ms > {limit} ms"
    return results


FLOODED = ("target flooded", "frames on this connection")  # bound hit, or a step timed out in it


@pytest.mark.parametrize("mode,expect", [
    ("flood", FLOODED),
    ("ping-flood", FLOODED),
    ("fragments", FLOODED),
    ("bad-close", ("\\xff\\xfe",)),
    ("escape", ("\\x1b[31m",)),
    ("bad-protocol", ("\\xff",)),
])
def test_hostile_broker(hostile, tmp_path, mode, expect):
    out, run_dir, peak = run_suite(tmp_path, mode, ["--target-url", f"{hostile}/{mode}"])
    results = check_bounds(out, run_dir, peak, n_min=30)
    hits = [r for r in results if any(e in r["reason"] for e in expect)]
    assert len(hits) >= len(results) // 2, \
        f"{mode}: reasons do not say what happened: {[r['reason'] for r in results][:5]}"
    assert not any("\x1b" in r["reason"] for r in results), "a raw ESC in a reason"
    if mode in ("flood", "ping-flood", "fragments"):
        assert all(r["verdict"] == "fail" for r in hits)
    print(f"{mode}: {len(results)} executions, engine peak {peak / MB:.1f} MB, "
          f"largest file {max(f.stat().st_size for f in run_dir.rglob('*') if f.is_file()) / MB:.2f} MB",
          file=sys.stderr)


def test_client_writes_forever(tmp_path):
    """A client that prints escape sequences and invalid UTF-8, then writes
    without end: its output is kept as a bounded tail, nothing on disk grows,
    every execution ends at its accept deadline."""
    cmd = r"printf '\033]0;owned\007\377\376'; exec yes 'hostile output é'"
    out, run_dir, peak = run_suite(tmp_path, "yes", ["--client-cmd", cmd])
    check_bounds(out, run_dir, peak, n_min=20)
    engine = [r for f in (run_dir / "engine").glob("*.json") if f.name != "index.json"
              for r in json.loads(f.read_text())["results"] if r["verdict"] != "skip"]
    assert engine
    for r in engine:
        assert len(r["client_output"].encode()) <= 4000, len(r["client_output"].encode())
        assert r["client_output_total"] > 4000  # it wrote more; only the tail was kept
        assert "hostile output é" in r["client_output"]


def test_orphan_child_keeps_no_port(tmp_path):
    """A client that leaves a setsid child behind: the child inherits no
    listening socket (close-on-exec), so the next execution on the same fixed
    port still listens and gets its own verdict."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    pidfile = tmp_path / "orphans"
    cmd = (f"setsid sleep 30 </dev/null >/dev/null 2>&1 & echo $! >> {pidfile}; "
           f"exec {PY} {STANDIN / 'standin_client.py'} good")
    cases = ["C-ACK-001", "C-ACK-002"]  # cases the stand-in client passes
    argv = [peer_binary(), "run", "--listen", f"127.0.0.1:{port}", "--client-cmd", cmd,
            "--subprotocol", "MBWS.huawei.com", "--json", str(tmp_path / "r.json")]
    for c in cases:
        argv += ["--case", str(ROOT / "cases" / "acks" / f"{c}.json")]
    try:
        proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              timeout=120)
    finally:
        for pid in pidfile.read_text().split() if pidfile.exists() else []:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass
    results = json.loads((tmp_path / "r.json").read_text())["results"]
    assert len(results) == 2 * len(cases)
    assert len(pidfile.read_text().split()) == len(results)  # every execution left one
    for r in results:
        assert "already in use" not in r["reason"] and "cannot listen" not in r["reason"], r
        assert r["verdict"] == "pass", (r["case"], r["reason"], proc.stderr[-2000:])
