"""ci/certify.sh end to end on the fake engine (the workflow recipes:
test_harness_recipes.py)."""
import os
import subprocess
import sys

from harness_support import FAKE_CASES, FAKE_PEER, REPO

CERTIFY = REPO / "ci" / "certify.sh"


def certify(tmp_path, *args, env=None):
    full = dict(os.environ, **(env or {}))
    for k in ("MBWS_BROKER_URL", "MBWS_CLIENT_CMD", "MBWS_TARGET_NAME", "MBWS_START_CMD", "MBWS_RUN_ID"):
        if not env or k not in env:
            full.pop(k, None)
    return subprocess.run([str(CERTIFY), "--no-build", "--peer", str(FAKE_PEER),
                           "--report-dir", str(tmp_path / "reports"), *args],
                          capture_output=True, text=True, timeout=120, env=full)


def test_certify_fails_on_failures_and_writes_reports_and_summary(tmp_path):
    summary = tmp_path / "summary.md"
    proc = certify(tmp_path, "--run-id", "ci1", "--", "--cases", str(FAKE_CASES),
                   env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    run = tmp_path / "reports" / "ci1"
    for f in ("index.html", "results.json", "junit.xml", "badge.svg"):
        assert (run / f).exists(), f
    assert "certification FAILED" in proc.stderr
    md = summary.read_text()
    assert "`B-FLOW-003-MBWS-binary` (fail)" in md and "| flow | 7 | 1 | 0 | 4 |" in md


def test_certify_passes_and_starts_and_stops_the_broker_under_test(tmp_path):
    # A stand-in "broker under test": a TCP listener on a fixed free port.
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    pidfile = tmp_path / "broker.pid"
    start = (f"echo $$ > {pidfile}; exec {sys.executable} -c \"import socket,time; "
             f"s=socket.socket(); s.bind(('127.0.0.1',{port})); s.listen(5); "
             f"[s.accept()[0].close() for _ in iter(int,1)]\"")
    proc = certify(tmp_path, "--run-id", "ci2", "--broker-url", f"ws://127.0.0.1:{port}/",
                   "--start", start, "--name", "acme", "--",
                   "--cases", str(FAKE_CASES), "-k", "B-FLOW-001",
                   env={"FAKE_PEER_LOG": str(tmp_path / "log")})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "certification passed" in proc.stdout
    pid = int(pidfile.read_text())
    try:
        os.kill(pid, 0)
        alive = True
    except ProcessLookupError:
        alive = False
    assert not alive, "certify.sh left the broker under test running"
    assert f"ws://127.0.0.1:{port}/" in (tmp_path / "log").read_text()
    assert '"name": "acme"' in (tmp_path / "reports" / "ci2" / "results.json").read_text()


def test_certify_rejects_bad_usage(tmp_path):
    assert certify(tmp_path, "--start", "true").returncode == 2
    assert certify(tmp_path, "--bogus").returncode == 2
