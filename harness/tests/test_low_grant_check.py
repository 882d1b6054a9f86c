"""harness/low_grant_check.py against the reference broker granting credit 1:
a corpus that keeps within the grant passes; a case added that publishes
seq 2 first without a look at the credit (fine against the default credit
256) is reported with configuration, case, combination and reason, exit 1."""
import json
import shutil
import subprocess
from pathlib import Path

from engine_fixtures import PY, peer_binary

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SCRIPT = HERE.parent / "low_grant_check.py"

# A gap as the first publication, with no look at the credit: fine against
# the default credit 256 (the broker answers ERROR 5, SEQ-2); against credit 1
# seq 2 is above the limit, and no FLOW can raise it since the broker has
# received nothing yet, so the engine must refuse it whatever the timing.
# (Back-to-back sends would be caught only when no FLOW slips in between.)
GREEDY = {
    "id": "B-FLOW-991", "title": "A gap as the first publication, without a look at the credit",
    "description": "A test case that does not keep FLOW-6 towards a broker granting credit 1.",
    "requirements": ["SEQ-2"], "section": "flow", "ignore": ["ACK", "FLOW"],
    "steps": [
        {"open_session": True},
        {"send": "MESSAGE", "fields": {"seq": 2, "address": "${addr}"}, "body": "gap"},
        {"expect": "ERROR", "fields": {"code": 5}, "within_ms": 1500},
        {"expect_close": 4005, "within_ms": 1500},
    ],
}


def run(cases, tmp_path):
    return subprocess.run(
        [PY, str(SCRIPT), "--peer", peer_binary(), "--cases", str(cases), "--config",
         "broker-credit-1", "--jobs", "4", "--report-dir", str(tmp_path / "reports")],
        capture_output=True, text=True, timeout=180)


def test_help():
    r = subprocess.run([PY, str(SCRIPT), "--help"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and "broker-credit-1" in r.stdout and "exit status" in r.stdout


def test_a_case_sending_above_the_grant_fails_the_check(tmp_path):
    cases = tmp_path / "cases"
    (cases / "flow").mkdir(parents=True)
    for name in ("schema.json", "requirements.json"):
        shutil.copy(ROOT / "cases" / name, cases / name)
    shutil.copy(ROOT / "cases" / "flow" / "B-FLOW-001.json", cases / "flow")
    good = run(cases, tmp_path)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "low-grant: broker-credit-1 (--credit 1): 4 pass" in good.stdout, good.stdout

    (cases / "flow" / "B-FLOW-991.json").write_text(json.dumps(GREEDY))
    bad = run(cases, tmp_path)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "error" in bad.stdout.split("broker-credit-1 (--credit 1):")[1].splitlines()[0]
    lines = [ln for ln in bad.stderr.splitlines() if "B-FLOW-991" in ln]
    assert lines, bad.stderr
    assert all(ln.strip().startswith("broker-credit-1: B-FLOW-991 ") and ": error: " in ln
               and "above the limit" in ln and "FLOW-6" in ln for ln in lines), lines
    assert "B-FLOW-001" not in bad.stderr
