"""--expected-failures (xfail / xpass), --exclude, and selections that select
nothing: exit statuses, what the reports say, and that a run which executed
nothing still leaves a report."""
import json

from harness_support import run_suite


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def test_listed_failure_is_xfail_and_the_run_exits_0(tmp_path):
    known = write(tmp_path, "known.txt", "# accepted deviations\n"
                  "B-FLOW-003 MBWS binary: grants credit late, tracked upstream\n")
    run = run_suite(tmp_path, "--expected-failures", known, "--exclude", "B-WS-002", "-rxX")
    assert run.rc == 0, run.out
    assert "XFAIL" in run.out and "grants credit late" in run.out
    doc = run.results()
    rec = next(r for r in doc["results"] if r["id"] == "B-FLOW-003-MBWS-binary")
    assert rec["verdict"] == "fail"  # the report stays honest: still a failure, but a known one
    assert rec["expected_failure"]["outcome"] == "xfail"
    assert rec["expected_failure"]["reason"] == "grants credit late, tracked upstream"
    assert doc["summary"]["xfail"] == 1 and doc["summary"]["xpass"] == 0
    assert not any(r["case"] == "B-WS-002" for r in doc["results"])
    assert doc["selection"]["excluded"] == ["B-WS-002"]


def test_new_failure_exits_1_and_a_listed_pass_is_xpass(tmp_path):
    known = write(tmp_path, "known.json", json.dumps([
        {"case": "B-FLOW-003", "subprotocol": "MBWS", "encoding": "text",
         "reason": "listed, but this combination passes"}]))
    run = run_suite(tmp_path, "--expected-failures", known, "--exclude", "B-WS-002", "-rxX")
    assert run.rc == 1, run.out  # B-FLOW-003 MBWS binary is not listed: a new failure
    assert "XPASS" in run.out and "prune the entry" in run.out
    doc = run.results()
    assert doc["summary"]["xpass"] == 1 and doc["summary"]["xfail"] == 0
    rec = next(r for r in doc["results"] if r["id"] == "B-FLOW-003-MBWS-text")
    assert rec["verdict"] == "pass" and rec["expected_failure"]["outcome"] == "xpass"


def test_a_listed_error_is_not_excused(tmp_path):
    known = write(tmp_path, "known.txt", "B-FLOW-003: known\nB-WS-002: an engine error is not a deviation\n")
    run = run_suite(tmp_path, "--expected-failures", known)
    assert run.rc == 1, run.out


def test_expected_failures_need_a_reason_and_known_cases(tmp_path):
    for text, words in (("B-FLOW-003 MBWS binary:\n", "a reason is required"),
                        ("B-FLOW-999: gone\n", "unknown case 'B-FLOW-999'"),
                        ("B-FLOW-003 MBWX: typo\n", "cannot read 'MBWX'"),
                        ('[{"case": "B-FLOW-003"}]', "a reason is required")):
        run = run_suite(tmp_path, "--expected-failures", write(tmp_path, "bad", text))
        assert run.rc == 4, run.out
        assert words in run.out and "bad" in run.out


def test_exclude_by_requirement_drops_every_case_citing_it(tmp_path):
    run = run_suite(tmp_path, "--exclude", "FLOW-3", "--exclude", "B-WS-002")
    assert run.rc == 0, run.out
    cases = {r["case"] for r in run.results()["results"]}
    assert "B-FLOW-003" not in cases and "B-FLOW-004" not in cases and "B-FLOW-001" in cases


def test_unknown_section_req_or_empty_k_exit_4_with_names_and_a_report(tmp_path):
    for args, words in ((["--section", "flw"], "closest: flow"),
                        (["--section", "nosuch"], "valid sections:"),
                        (["--req", "FLOWW-3"], "closest: FLOW-3"),
                        (["--exclude", "B-FLOW-0003"], "closest: B-FLOW-003"),
                        (["-k", "B-FLOW-0003"], "closest case ids / sections: B-FLOW-003")):
        run = run_suite(tmp_path, "--run-id", "empty", *args)
        assert run.rc == 4, (args, run.out)
        assert words in run.out, (args, run.out)
        doc = json.loads((tmp_path / "reports" / "empty" / "results.json").read_text())
        assert words.split(":")[0] in doc["not_run"] and doc["results"] == []
        html = (tmp_path / "reports" / "empty" / "index.html").read_text()
        assert "Nothing was run" in html
        assert "not-run" in (tmp_path / "reports" / "empty" / "junit.xml").read_text()


def test_option_errors_name_mbws_suite_and_still_leave_a_report(tmp_path):
    run = run_suite(tmp_path, "--run-id", "typo", "--target-ulr", "ws://x/")
    assert run.rc == 4
    assert "mbws-suite: error: unrecognized arguments: --target-ulr" in run.out
    assert "__main__.py" not in run.out
    doc = json.loads((tmp_path / "reports" / "typo" / "results.json").read_text())
    assert "bad command-line options" in doc["not_run"]


def test_unreachable_target_leaves_a_report_saying_so(tmp_path):
    run = run_suite(tmp_path, "--run-id", "down", "--target-url", "ws://127.0.0.1:1/")
    assert run.rc == 4
    doc = json.loads((tmp_path / "reports" / "down" / "results.json").read_text())
    assert "unreachable" in doc["not_run"] and doc["targets"][0]["broker_url"] == "ws://127.0.0.1:1/"


def test_reports_with_known_failures_and_not_run_reports_follow_the_schema(tmp_path):
    import jsonschema
    from harness_support import HARNESS
    schema = json.loads((HARNESS / "schemas" / "results.schema.json").read_text())
    known = write(tmp_path, "known.txt", "B-FLOW-003 MBWS binary: known\n")
    run = run_suite(tmp_path, "--expected-failures", known, "--exclude", "B-WS-002")
    jsonschema.validate(run.results(), schema)
    run = run_suite(tmp_path, "--run-id", "none", "-k", "NOTHING")
    jsonschema.validate(run.results(), schema)
