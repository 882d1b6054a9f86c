"""Requirement coverage (harness/coverage.py): the table, the gaps it
reports (no case, a bound role without a case, an unknown ID), and the real
corpus, which must cover every requirement in every role it binds."""
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

HARNESS = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(HARNESS))
import coverage  # noqa: E402

SECTIONS = {"flow": "8. Flow control"}
REQS = {
    "FLOW-2": {"id": "FLOW-2", "section": "flow", "binds": "both"},
    "FLOW-3": {"id": "FLOW-3", "section": "flow", "binds": "both"},
    "FLOW-5": {"id": "FLOW-5", "section": "flow", "binds": "broker"},
}


def case(case_id, *reqs):
    return SimpleNamespace(id=case_id, requirements=reqs,
                           role="broker" if case_id.startswith("B-") else "client")


def test_full_coverage_has_no_gaps():
    cases = [case("B-FLOW-002", "FLOW-2"), case("C-FLOW-002", "FLOW-2"),
             case("B-FLOW-003", "FLOW-3", "FLOW-5"), case("C-FLOW-003", "FLOW-3")]
    text, missing, unknown, role_gaps = coverage.build_table(cases, SECTIONS, REQS)
    assert (missing, unknown, role_gaps) == ([], [], [])
    assert "| FLOW-3 | both | B-FLOW-003 | C-FLOW-003 |" in text
    assert "| FLOW-5 | broker | B-FLOW-003 | - |" in text


def test_a_requirement_without_case_is_missing():
    cases = [case("B-FLOW-002", "FLOW-2"), case("C-FLOW-002", "FLOW-2"), case("B-FLOW-005", "FLOW-5")]
    text, missing, _, _ = coverage.build_table(cases, SECTIONS, REQS)
    assert missing == ["FLOW-3"]
    assert "| FLOW-3 | both | **none** | **none** |" in text


def test_a_bound_role_without_case_is_a_gap():
    cases = [case("B-FLOW-002", "FLOW-2"), case("B-FLOW-003", "FLOW-3"), case("C-FLOW-003", "FLOW-3"),
             case("C-FLOW-005", "FLOW-5")]
    text, missing, _, role_gaps = coverage.build_table(cases, SECTIONS, REQS)
    assert missing == []
    assert sorted(role_gaps) == [("FLOW-2", "client"), ("FLOW-5", "broker")]
    assert "| FLOW-2 | both | B-FLOW-002 | **none** |" in text


def test_an_unknown_id_is_reported():
    cases = [case("B-FLOW-002", "FLOW-2", "FLOW-9")]
    _, _, unknown, _ = coverage.build_table(cases, SECTIONS, REQS)
    assert unknown == [("B-FLOW-002", "FLOW-9")]


def test_the_corpus_covers_every_requirement_in_every_bound_role(tmp_path):
    out = tmp_path / "coverage.md"
    run = subprocess.run([sys.executable, str(HARNESS / "coverage.py"), "--check", "--out", str(out)],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 role gaps" in out.read_text()


def test_the_committed_table_is_up_to_date(tmp_path):
    """docs/coverage.md is generated: a case added without regenerating it
    would make the published table lie."""
    out = tmp_path / "coverage.md"
    run = subprocess.run([sys.executable, str(HARNESS / "coverage.py"), "--out", str(out)],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    committed = (HARNESS.parent / "docs" / "coverage.md").read_text()
    assert out.read_text() == committed, "docs/coverage.md is stale: run harness/coverage.py"
