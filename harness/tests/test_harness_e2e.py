"""End to end with the real engine, reference broker and echo client (skipped
until they are built: set MBWS_PEER or build build/peer/mbws-peer)."""
import os
import subprocess
import time
from pathlib import Path

import pytest

from harness_support import REPO, run_suite


def real_peer():
    cand = os.environ.get("MBWS_PEER") or str(REPO / "build" / "peer" / "mbws-peer")
    if not os.access(cand, os.X_OK):
        return None
    probe = subprocess.run([cand, "run"], capture_output=True, text=True, timeout=10)
    if "not implemented" in probe.stderr:
        return None
    return Path(cand)


PEER = real_peer()
HAVE_CASES = (REPO / "cases" / "schema.json").exists()
pytestmark = pytest.mark.skipif(PEER is None or not HAVE_CASES,
                                reason="real mbws-peer (with `run`) or cases/ not available yet")


@pytest.fixture(scope="module")
def full_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("e2e")
    t0 = time.monotonic()
    run = run_suite(tmp, peer=PEER, cases=REPO / "cases", timeout=600)
    run.wall_s = time.monotonic() - t0
    return run


def test_full_suite_under_a_minute_with_a_result_for_every_execution(full_run):
    from mbws_harness.cases import load_cases
    cases = load_cases(REPO / "cases", REPO)
    expected = sum(len(c.combinations()) for c in cases)
    doc = full_run.results()
    assert doc["summary"]["total"] == expected, full_run.out[-3000:]
    missing = [r["id"] for r in doc["results"] if r["reason"].startswith("no result from the engine")]
    assert missing == [], missing[:10]
    assert doc["engine_problems"] == [], doc["engine_problems"]
    assert full_run.wall_s < 60, f"the full suite took {full_run.wall_s:.1f} s"


def test_full_report_of_one_target_stays_under_1_mb_with_a_certificate(full_run):
    html = (full_run.run_dir / "index.html").read_text()
    assert len(html.encode()) < 1_000_000, f"index.html is {len(html.encode())} bytes"
    assert "${" not in html
    cert = full_run.results()["certificate"]["targets"][0]
    assert cert["connected_name"]  # the reference broker announces a name
    ids = {q["id"] for q in cert["requirements"]}
    protocol = (REPO / "docs" / "protocol.md").read_text()
    assert all(f'<a id="{i}"></a>' in protocol for i in ids), "a requirement without its anchor"


def test_exit_status_and_pytest_outcomes_follow_the_verdicts(full_run):
    doc = full_run.results()
    outcomes = full_run.pytest_outcomes()
    mapping = {"pass": "passed", "skip": "skipped", "fail": "failed", "error": "failed"}
    for r in doc["results"]:
        assert outcomes[f"test_case[{r['id']}]"] == mapping[r["verdict"]], r["id"]
    bad = doc["summary"]["fail"] + doc["summary"]["error"]
    assert full_run.rc == (1 if bad else 0), full_run.out[-3000:]


def test_xdist_verdicts_equal_serial(full_run, tmp_path):
    run = run_suite(tmp_path, "-n", "2", peer=PEER, cases=REPO / "cases", timeout=600)
    a = {r["id"]: r["verdict"] for r in run.results()["results"]}
    b = {r["id"]: r["verdict"] for r in full_run.results()["results"]}
    diff = {k: (a.get(k), b.get(k)) for k in set(a) | set(b) if a.get(k) != b.get(k)}
    assert diff == {}


def test_valgrind_run_of_one_section(tmp_path):
    run = run_suite(tmp_path, "--valgrind", "--section", "handshake", "-k", "MBWS-binary",
                    peer=PEER, cases=REPO / "cases", timeout=600)
    vg = run.results()["valgrind"]
    assert vg["enabled"] and vg["processes"] >= 1
    dirty = any(log["errors"] for log in vg["logs"])
    # -k deselected test_valgrind[...]; memcheck errors must still fail the run
    assert "test_valgrind[engine]" not in run.pytest_outcomes()
    if dirty:
        assert run.rc == 1, run.out[-2000:]
    assert "valgrind:" in run.out


def test_valgrind_tests_report_memcheck_errors(tmp_path):
    run = run_suite(tmp_path, "--valgrind", "--section", "session",
                    peer=PEER, cases=REPO / "cases", timeout=600)
    vg = run.results()["valgrind"]
    outcomes = run.pytest_outcomes()
    for proc in ("engine", "broker"):
        logs = [log for log in vg["logs"] if log["process"] == proc]
        assert logs, f"no {proc} ran under valgrind"
        assert outcomes[f"test_valgrind[{proc}]"] == (
            "failed" if any(log["errors"] or not log["complete"] for log in logs) else "passed")
