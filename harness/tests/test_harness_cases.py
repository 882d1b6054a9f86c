"""Case loading: schema validation stops early with file, JSON pointer and
reason; combinations; requirement list."""
import json
import shutil

import pytest

from harness_support import FAKE_CASES, run_suite
from mbws_harness.cases import CaseError, load_cases, load_requirements


def copy_cases(tmp_path):
    dst = tmp_path / "cases"
    shutil.copytree(FAKE_CASES, dst)
    return dst


def test_loads_every_fake_case_with_its_combinations():
    cases = {c.id: c for c in load_cases(FAKE_CASES)}
    assert set(cases) == {"B-FLOW-001", "B-FLOW-003", "B-FLOW-004", "B-SES-002", "B-ERR-001",
                          "B-WS-002", "C-ECHO-001"}
    assert len(cases["B-FLOW-001"].combinations()) == 4
    assert cases["B-SES-002"].combinations() == [("MBWS.huawei.com", "binary"),
                                                 ("MBWS.huawei.com", "text")]
    assert cases["C-ECHO-001"].role == "client" and cases["B-FLOW-003"].role == "broker"
    assert cases["B-FLOW-003"].requirements == ("FLOW-3", "ERR-1")
    assert cases["B-FLOW-003"].path.endswith("flow/B-FLOW-003.json")


def test_invalid_nested_field_names_file_pointer_and_reason(tmp_path):
    d = copy_cases(tmp_path)
    bad = d / "flow" / "B-FLOW-001.json"
    doc = json.loads(bad.read_text())
    doc["steps"] = [{"kind": "send"}, {"kind": "teleport"}]
    bad.write_text(json.dumps(doc))
    with pytest.raises(CaseError) as err:
        load_cases(d, tmp_path)
    msg = str(err.value)
    assert "cases/flow/B-FLOW-001.json" in msg
    assert "/steps/1/kind" in msg
    assert "teleport" in msg


def test_not_json_and_duplicate_ids_are_refused(tmp_path):
    d = copy_cases(tmp_path)
    (d / "flow" / "B-FLOW-009.json").write_text("{not json")
    with pytest.raises(CaseError, match=r"B-FLOW-009.json: not JSON"):
        load_cases(d)
    (d / "flow" / "B-FLOW-009.json").write_text((d / "flow" / "B-FLOW-001.json").read_text())
    with pytest.raises(CaseError, match=r"duplicate case id B-FLOW-001"):
        load_cases(d)


def test_missing_schema_is_an_error(tmp_path):
    d = copy_cases(tmp_path)
    (d / "schema.json").unlink()
    with pytest.raises(CaseError, match="schema.json: case schema not found"):
        load_cases(d)


def test_requirement_list_gives_section_titles():
    sections, reqs = load_requirements(FAKE_CASES)
    assert sections["flow"] == "8. Flow control"
    assert reqs["FLOW-3"]["section"] == "flow"


def test_invalid_case_stops_the_run_before_the_engine(tmp_path):
    d = copy_cases(tmp_path)
    doc = json.loads((d / "errors" / "B-ERR-001.json").read_text())
    del doc["title"]
    (d / "errors" / "B-ERR-001.json").write_text(json.dumps(doc))
    run = run_suite(tmp_path, cases=d)
    assert run.rc == 4, run.out
    assert "B-ERR-001.json" in run.out and "'title' is a required property" in run.out
    assert run.invocations() == []  # nothing ran


def test_real_cases_validate_against_the_real_schema():
    """The repository's own cases, once they exist, must all be valid."""
    from mbws_harness import REPO_DIR
    if not (REPO_DIR / "cases" / "schema.json").exists():
        pytest.skip("cases/schema.json not committed yet")
    cases = load_cases(REPO_DIR / "cases", REPO_DIR)
    assert cases, "no case files next to cases/schema.json"
    assert all(c.id.startswith(("B-", "C-")) for c in cases)
