"""The report files of a run on the fake engine: results.json against its
schema, JUnit XML, badge, self-contained HTML, reports/latest."""
import json
import re
import xml.etree.ElementTree as ET

import jsonschema

from harness_support import HARNESS, fake_run, run_suite  # noqa: F401


def test_results_json_follows_its_schema(fake_run):
    schema = json.loads((HARNESS / "schemas" / "results.schema.json").read_text())
    doc = fake_run.results()
    jsonschema.Draft202012Validator(schema).validate(doc)
    assert doc["summary"]["total"] == 21
    assert (doc["summary"]["pass"], doc["summary"]["fail"], doc["summary"]["error"],
            doc["summary"]["skip"]) == (15, 1, 1, 4)


def test_results_carry_requirements_failure_detail_and_wire(fake_run):
    recs = {r["id"]: r for r in fake_run.results()["results"]}
    f = recs["B-FLOW-003-MBWS-binary"]
    assert f["verdict"] == "fail" and f["requirements"] == ["FLOW-3", "ERR-1"]
    assert f["failed_step"]["expected"] == "ACK seq=5 within 1500 ms"  # the engine's words; shown with the profile's 1000 ms + tolerance
    assert f["reason"] == "no ERROR 7 after the excess MESSAGE"
    assert any("FAKE-WIRE-MARK" in (e.get("note") or "") for e in f["wire"])
    assert f["file"] == "harness/tests/fake_cases/flow/B-FLOW-003.json"
    assert recs["B-FLOW-004-MBWS-text"]["verdict"] == "skip"
    # failures first
    order = [r["verdict"] for r in fake_run.results()["results"]]
    assert order[:2] == ["error", "fail"] and order[-1] == "pass"


def test_summary_by_section_requirement_and_cases(fake_run):
    s = fake_run.results()["summary"]
    assert s["by_section"]["flow"]["fail"] == 1 and s["by_section"]["flow"]["skip"] == 4
    assert s["by_section"]["flow"]["pass_rate"] == 87.5
    assert s["by_section"]["flow"]["title"] == "8. Flow control"
    assert s["by_requirement"]["FLOW-3"] == {"pass": 3, "warn": 0, "fail": 1, "error": 0, "skip": 4,
                                             "total": 8, "pass_rate": 75.0,
                                             "title": "MESSAGE above the limit is code 7."}
    # a case passes when none of its combinations failed and one passed; an
    # all-skipped case is counted apart, never as a pass
    assert s["cases"] == {"pass": 4, "warn": 0, "fail": 2, "skip": 1}


def test_junit_xml(fake_run):
    root = ET.parse(fake_run.run_dir / "junit.xml").getroot()
    assert root.tag == "testsuites" and root.get("tests") == "21"
    assert (root.get("failures"), root.get("errors"), root.get("skipped")) == ("1", "1", "4")
    cases = {tc.get("name"): tc for tc in root.iter("testcase")}
    fail = cases["B-FLOW-003[MBWS-binary]"]
    assert fail.get("classname") == "mbws.reference.flow"
    el = fail.find("failure")
    assert el is not None and el.get("message") == "no ERROR 7 after the excess MESSAGE"
    assert "expected: ACK seq=5 within 1000 ms (+500 ms tolerance)" in el.text
    assert "FAKE-WIRE-MARK" in fail.find("system-out").text
    assert cases["B-WS-002[MBLWS-text]"].find("error") is not None
    assert cases["B-FLOW-004[MBLWS-binary]"].find("skipped") is not None
    assert {p.get("value") for p in fail.iter("property") if p.get("name") == "requirement"} == \
        {"FLOW-3", "ERR-1"}


def test_badge(fake_run):
    svg = (fake_run.run_dir / "badge.svg").read_text()
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    assert "MBWS profile 1" in svg and ">4/6<" in svg
    assert "#e05d44" in svg  # red: 2 of 6 cases failed


def test_html_is_self_contained_and_lists_failures_first(fake_run):
    html = (fake_run.run_dir / "index.html").read_text()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), "external reference"
    assert "<link" not in html and "@import" not in html
    ids = re.findall(r'<details class="rec (\w+)"', html)
    assert len(ids) == 21 and ids[:2] == ["error", "fail"] and ids[-1] == "pass"
    # wire logs load per record from wire/<anchor>.js, keeping the page small
    assert "FAKE-WIRE-MARK B-FLOW-003" not in html
    wire = (fake_run.run_dir / "wire" / "reference--B-FLOW-003-MBWS-binary.js").read_text()
    assert "FAKE-WIRE-MARK B-FLOW-003" in wire and '"close_reason":"flow exceeded"' in wire
    assert 'id="ftext"' in html and 'class="fv"' in html and 'id="fsection"' in html
    assert "Pass rate by section" in html and "Pass rate by requirement" in html


def test_latest_points_at_the_newest_run(tmp_path):
    first = run_suite(tmp_path, "-k", "B-ERR-001", "--run-id", "first")
    assert first.run_dir.name == "first"
    second = run_suite(tmp_path, "-k", "B-ERR-001", "--run-id", "second")
    assert second.run_dir.name == "second"
    assert (tmp_path / "reports" / "latest").resolve().name == "second"
    assert (tmp_path / "reports" / "first" / "results.json").exists()


def test_summarize_case_level_counts():
    """Unit check of the aggregation with hand-made records."""
    from mbws_harness.report import summarize

    class S:
        sections, requirements = {}, {}
    recs = [dict(target="t", case=c, section="s", requirements=["R-1"], verdict=v)
            for c, v in [("B-A-001", "pass"), ("B-A-001", "skip"), ("B-A-002", "skip"),
                         ("B-A-003", "pass"), ("B-A-003", "error")]]
    s = summarize(recs, S())
    assert s["cases"] == {"pass": 1, "warn": 0, "fail": 1, "skip": 1}
    assert s["pass_rate"] == 66.7 and s["by_requirement"]["R-1"]["total"] == 5


def test_warn_verdict_is_counted_apart_and_exits_0(tmp_path):
    """verdict warn (a SHOULD or a project reading did not hold): exit 0, counted and
    shown apart in every report; --strict hands --strict to the engine and fails."""
    from harness_support import run_suite
    run = run_suite(tmp_path, "-k", "B-ERR-001", env={"FAKE_PEER_VERDICT": "warn"})
    assert run.rc == 0, run.out
    doc = run.results()
    schema = json.loads((HARNESS / "schemas" / "results.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(doc)
    s = doc["summary"]
    assert s["warn"] == s["total"] > 0 and s["pass"] == 0 and s["fail"] == 0
    assert s["pass_rate"] == 100.0 and s["cases"]["warn"] == 1
    rec = doc["results"][0]
    assert rec["verdict"] == "warn" and rec["warnings"][0]["clause"] == "ERR-1"
    root = ET.parse(run.run_dir / "junit.xml").getroot()
    assert root.get("warnings") == str(s["total"]) and root.get("failures") == "0"
    tc = next(root.iter("testcase"))
    assert tc.find("failure") is None and tc.find("skipped") is None
    assert any(p.get("name") == "warning" and "ERR-1" in p.get("value") for p in tc.iter("property"))
    html = (run.run_dir / "index.html").read_text()
    assert '<details class="rec warn"' in html and "ERROR seq is absent" in html
    assert "passed with warnings" in run.out and "MbwsNonStrict" in run.out
    assert all("--strict" not in inv["argv"] for inv in run.invocations())

    (tmp_path / "strict").mkdir()
    strict = run_suite(tmp_path / "strict", "-k", "B-ERR-001", "--strict",
                       env={"FAKE_PEER_VERDICT": "warn"})
    assert strict.rc == 1, strict.out
    assert all("--strict" in inv["argv"] for inv in strict.invocations())
    assert strict.results()["summary"]["fail"] == strict.results()["summary"]["total"]


def test_skips_are_listed_at_the_top_of_every_summary(fake_run):
    """Issue 11: a skip is a finding; the summary names what was not exercised."""
    s = fake_run.results()["summary"]
    reason = ("the broker raised its limit as fast as messages arrived (profile appendix B); "
              "limit (peer_limit: not known)")  # the fake case leaves ${peer_limit} unexpanded
    assert s["skipped"] == [{"target": "reference", "case": "B-FLOW-004",
                             "title": "A broker that keeps its window open cannot be provoked",
                             "requirement": "FLOW-3", "requirements": ["FLOW-3"],
                             "combinations": ["MBWS-binary", "MBWS-text", "MBLWS-binary", "MBLWS-text"],
                             "reasons": [reason]}]
    assert s["not_exercised"] == []  # other FLOW-3 cases ran
    html = (fake_run.run_dir / "index.html").read_text()
    top = html.index('id="not-exercised"')
    assert top < html.index("Pass rate by section")
    assert "FLOW-3 not exercised by B-FLOW-004" in html[top:]
    assert "FLOW-3 not exercised by B-FLOW-004" in fake_run.out


def test_requirement_with_every_execution_skipped_is_not_exercised():
    from mbws_harness.report import skip_lines, skips
    recs = [dict(target="t", case=c, requirements=r, verdict=v, reason=why, combination="MBWS-binary",
                 title="x")
            for c, r, v, why in [("B-FLOW-103", ["FLOW-3", "ERR-1"], "skip", "limit raised first"),
                                 ("B-ERR-001", ["ERR-1"], "pass", "")]]
    skipped, not_ex = skips(recs)
    assert [e["requirement"] for e in skipped] == ["FLOW-3"]
    assert not_ex == [{"target": "t", "requirement": "FLOW-3", "cases": ["B-FLOW-103"],
                       "reasons": ["limit raised first"]}]
    lines = skip_lines({"skipped": skipped, "not_exercised": not_ex}, False)
    assert lines[0] == ("FLOW-3 NOT EXERCISED: every case citing it skipped (B-FLOW-103): "
                        "limit raised first")


def test_ci_summary_lists_what_was_not_exercised_first(fake_run):
    """ci/summary_md.py (CI job summaries): skips are findings there too."""
    import subprocess
    out = subprocess.run(["/usr/bin/python3", str(HARNESS.parent / "ci" / "summary_md.py"),
                          str(fake_run.run_dir / "results.json")],
                         capture_output=True, text=True, check=True).stdout
    assert "FLOW-3 not exercised by `B-FLOW-004`" in out
    assert out.index("Not exercised") < out.index("Executions:")
