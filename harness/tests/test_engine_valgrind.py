"""The engine is Valgrind-clean in both roles: every worker process runs
under memcheck, and a worker with a memcheck error turns its result into an
`error` (engine_sched.c), so the run's exit status shows it."""
import shutil
import subprocess

import pytest

from engine_fixtures import ROOT, case, client_cmd, peer, standin  # noqa: F401

pytestmark = pytest.mark.skipif(not shutil.which("valgrind"), reason="valgrind not installed")
VG = ["valgrind", "-q", "--leak-check=full", "--errors-for-leak-kinds=definite,possible",
      "--error-exitcode=99"]


def run(cmd):
    return subprocess.run(VG + cmd, capture_output=True, text=True, timeout=240)


def test_broker_role_under_valgrind(peer, standin):
    cases = [case(n) for n in ("B-ENG-001", "B-ENG-003", "B-ENG-006", "B-ENG-009", "B-ENG-012")]
    cases.append(ROOT / "cases" / "session" / "B-SIZE-002.json")
    args = [a for c in cases for a in ("--case", str(c))]
    p = run([peer, "run", *args, "--target", standin + "/good", "--jobs", "2",
             "--encoding", "binary"])
    assert "==" not in p.stderr, p.stderr[-3000:]
    assert p.returncode == 0, p.stderr[-3000:]


def test_failures_and_client_role_under_valgrind(peer, standin):
    p = run([peer, "run", "--case", str(case("B-ENG-001")), "--target", standin + "/no-ack",
             "--subprotocol", "MBWS.huawei.com", "--encoding", "text"])
    assert "==" not in p.stderr and p.returncode == 1, p.stderr[-3000:]
    p = run([peer, "run", "--case", str(case("C-ENG-001")), "--listen", "127.0.0.1:0",
             "--client-cmd", client_cmd("good"), "--subprotocol", "MBLWS.huawei.com"])
    assert "==" not in p.stderr and p.returncode == 0, p.stderr[-3000:]


def test_invalid_case_under_valgrind(peer, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"id": "B-X-001", "steps": []}')
    p = run([peer, "run", "--case", str(bad), "--target", "ws://127.0.0.1:1/"])
    assert "==" not in p.stderr and p.returncode == 2, p.stderr[-3000:]
