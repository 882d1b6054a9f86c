"""harness/sensitivity.py: classification, the table, --check, and a whole run
against a tiny fake peer (fault list, faulty broker, engine) written here."""
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import harness_support  # noqa: F401  harness/ first on sys.path, as when the script runs

HERE = Path(__file__).resolve().parent
SCRIPT = HERE.parent / "sensitivity.py"
_spec = importlib.util.spec_from_file_location("sensitivity", SCRIPT)
sens = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sens)

FLOW = sens.Fault("flow-over-limit", ("broker",), "FLOW-3", "accepts MESSAGE | above the limit")


def res(case, verdict, sub="MBWS.huawei.com", enc="binary"):
    return {"case": case, "verdict": verdict, "subprotocol": sub, "encoding": enc}


def test_caught_by_a_citing_case_that_fails():
    row = sens.classify(FLOW, "broker", {"B-FLOW-003", "B-FLOW-103"},
                        [res("B-FLOW-003", "fail"), res("B-FLOW-003", "fail", enc="text"),
                         res("B-FLOW-103", "pass")], cases_run=2)
    assert row["status"] == "caught"
    assert row["caught_by"] == [{"case": "B-FLOW-003", "combos": ["MBWS-binary", "MBWS-text"], "of": 2}]
    assert row["other_failures"] == []


def test_error_verdict_does_not_catch_and_is_listed():
    row = sens.classify(FLOW, "broker", {"B-FLOW-003"},
                        [res("B-FLOW-003", "error"), res("B-FLOW-003", "pass", enc="text")])
    assert row["status"] == "uncaught"
    assert row["other_failures"] == [{"case": "B-FLOW-003", "verdict": "error",
                                      "combos": ["MBWS-binary"], "of": 2}]


def test_failure_of_a_case_not_citing_the_requirement_is_other():
    row = sens.classify(FLOW, "broker", {"B-FLOW-003"},
                        [res("B-FLOW-003", "pass"), res("B-SES-002", "fail", "MBLWS.huawei.com")])
    assert row["status"] == "uncaught"
    assert row["other_failures"][0]["case"] == "B-SES-002"
    assert row["other_failures"][0]["combos"] == ["MBLWS-binary"]


def test_skipped_citing_case_does_not_catch_and_is_named():
    row = sens.classify(FLOW, "broker", {"B-FLOW-003"},
                        [res("B-FLOW-003", "skip"), res("B-FLOW-003", "skip", enc="text")])
    assert row["status"] == "uncaught"
    assert row["skipped"] == [{"case": "B-FLOW-003", "combos": ["MBWS-binary", "MBWS-text"], "of": 2}]
    assert sens.problems([row]) == [
        "flow-over-limit (broker, FLOW-3): UNCAUGHT: none of B-FLOW-003 failed (skipped: B-FLOW-003)"]
    assert "**UNCAUGHT** (skipped: B-FLOW-003 [all])" in sens.render_markdown([row], "citing")


def test_no_case_and_error_statuses():
    assert sens.classify(FLOW, "broker", set(), [])["status"] == "no-case"
    row = sens.classify(FLOW, "broker", {"B-FLOW-003"}, [], error="the engine exited with status 2")
    assert row["status"] == "error" and "status 2" in row["error"]


def test_problems_lists_every_row_not_caught_and_too_few_faults():
    rows = [sens.classify(FLOW, "broker", {"B-FLOW-003"}, [res("B-FLOW-003", "fail")]),
            sens.classify(FLOW, "client", set(), []),
            sens.classify(sens.Fault("x", ("broker",), "SES-2", ""), "broker", {"B-SES-002"},
                          [res("B-SES-002", "pass")])]
    lines = sens.problems(rows, min_faults=25)
    assert any("no client case cites FLOW-3" in l for l in lines)
    assert any(l.startswith("x (broker, SES-2): UNCAUGHT") and "B-SES-002" in l for l in lines)
    assert any("only 2 faults, at least 25" in l for l in lines)
    assert not any(l.startswith("flow-over-limit (broker") for l in lines)
    assert sens.problems(rows[:1]) == []


def test_table_rows_and_escaping():
    rows = [sens.classify(FLOW, "broker", {"B-FLOW-003"},
                          [res("B-FLOW-003", "fail"), res("B-FLOW-003", "fail", enc="text"),
                           res("B-X-001", "error")]),
            sens.classify(sens.Fault("quiet", ("client",), "ECHO-1", "drops"), "client",
                          {"C-ECHO-001"}, [res("C-ECHO-001", "pass")])]
    md = sens.render_markdown(rows, "citing")
    assert "do not edit" in md
    assert "1 of 2 faults caught in every role they apply to (1 of 2 fault x role runs)" in md
    # caught as a broker but not as a client: not counted as a caught fault
    rows.append(sens.classify(FLOW, "client", set(), []))
    assert sens.summary(rows) == ("0 of 2 faults caught in every role they apply to "
                                  "(1 of 3 fault x role runs)")
    assert ("| `flow-over-limit` | broker | FLOW-3 | accepts MESSAGE \\| above the limit | "
            "B-FLOW-003 [all] | B-X-001 [MBWS-binary] (error) |") in md
    assert "| `quiet` | client | ECHO-1 | drops | **UNCAUGHT** | - |" in md


def test_parse_faults_rejects_malformed_lists():
    good = sens.parse_faults('[{"name": "a", "roles": ["broker", "client"], '
                             '"requirement": "WS-2", "what": "w"}]')
    assert good == [sens.Fault("a", ("broker", "client"), "WS-2", "w")]
    for bad in ("nope", "{}", '[{"name": "a", "roles": ["both"], "requirement": "WS-2"}]',
                '[{"name": "a", "roles": ["broker"], "requirement": "WS-2"},'
                ' {"name": "a", "roles": ["client"], "requirement": "WS-2"}]'):
        with pytest.raises(sens.SetupError):
            sens.parse_faults(bad)


# -- a whole run against a fake peer -------------------------------------------------

FAKE_PEER = textwrap.dedent(r'''
    #!/usr/bin/python3
    # Fake mbws-peer for test_sensitivity.py: faults --json, broker --fault,
    # and run, whose verdicts come from each case's "fake": {"catches": [...]}.
    import json, os, re, signal, socket, sys, time
    STATE = os.environ["FAKE_STATE"]
    FAULTS = [
        {"name": "f-caught", "roles": ["broker"], "requirement": "FLOW-3", "what": "w1"},
        {"name": "f-uncaught", "roles": ["broker"], "requirement": "SES-2", "what": "w2"},
        {"name": "f-both", "roles": ["broker", "client"], "requirement": "ECHO-1", "what": "w3"},
        {"name": "f-hang", "roles": ["client"], "requirement": "ECHO-1", "what": "w4"},
    ]
    cmd, argv = sys.argv[1], sys.argv[2:]
    if cmd == "--version":
        print("mbws-peer 0.0.0-fake"); sys.exit(0)
    if cmd == "faults":
        print(json.dumps(FAULTS)); sys.exit(0)
    if cmd == "broker":
        fault = argv[argv.index("--fault") + 1]
        srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(16)
        port = srv.getsockname()[1]
        with open(os.path.join(STATE, f"broker-{port}"), "w") as f:
            f.write(f"{fault} {os.getpid()}")
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        print(f"listening on ws://127.0.0.1:{port}/", flush=True)
        srv.settimeout(0.1)
        while True:
            try:
                srv.accept()[0].close()
            except OSError:
                pass
    if cmd == "run":
        cases, out, fault = [], None, None
        i = 0
        while i < len(argv):
            a, v = argv[i], argv[i + 1] if i + 1 < len(argv) else None
            if a == "--case": cases.append(v)
            elif a == "--json": out = v
            elif a == "--target":
                port = re.search(r":(\d+)/", v).group(1)
                fault = open(os.path.join(STATE, f"broker-{port}")).read().split()[0]
            elif a == "--client-cmd":
                fault = re.search(r"--fault (\S+)", v).group(1)
            i += 2
        with open(os.path.join(STATE, f"engine-{os.getpid()}"), "w") as f:
            f.write(fault)
        if fault == "f-hang":
            time.sleep(60)
        results = []
        for path in cases:
            doc = json.load(open(path))
            catches = doc.get("fake", {}).get("catches", [])
            for s in ("MBWS.huawei.com", "MBLWS.huawei.com"):
                for e in ("binary", "text"):
                    v = "fail" if fault in catches and e == "text" else "pass"
                    results.append({"case": doc["id"], "requirements": doc["requirements"],
                                    "subprotocol": s, "encoding": e, "verdict": v})
        json.dump({"results": results}, open(out, "w"))
        sys.exit(1 if any(r["verdict"] == "fail" for r in results) else 0)
    sys.exit(2)
''').lstrip()

CASES = {
    "flow/B-FLOW-003.json": ("FLOW-3", ["f-caught"]),
    "session/B-SES-002.json": ("SES-2", []),
    "echo/B-ECHO-001.json": ("ECHO-1", ["f-both", "f-uncaught"]),
    "echo/C-ECHO-001.json": ("ECHO-1", ["f-both"]),
}


@pytest.fixture
def fake_setup(tmp_path):
    peer = tmp_path / "mbws-peer"
    peer.write_text(FAKE_PEER)
    peer.chmod(0o755)
    cases = tmp_path / "cases"
    cases.mkdir()
    shutil.copy(HERE / "fake_cases" / "schema.json", cases / "schema.json")
    for rel, (req, catches) in CASES.items():
        p = cases / rel
        p.parent.mkdir(exist_ok=True)
        cid = p.stem
        p.write_text(json.dumps({"id": cid, "title": cid, "section": p.parent.name,
                                 "requirements": [req, "ERR-1"] if cid == "B-FLOW-003" else [req],
                                 "steps": [{"kind": "wait"}], "fake": {"catches": catches}}))
    state = tmp_path / "state"
    state.mkdir()
    return peer, cases, state


def run_script(tmp_path, peer, cases, state, *extra):
    env = dict(os.environ, FAKE_STATE=str(state))
    return subprocess.run([sys.executable, str(SCRIPT), "--peer", str(peer), "--cases", str(cases),
                           "--report-dir", str(tmp_path / "reports"),
                           "--out", str(tmp_path / "sensitivity.md"), *extra],
                          capture_output=True, text=True, env=env, timeout=60)


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead for our purpose
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def test_whole_run_classifies_writes_table_and_json_and_leaves_nothing(tmp_path, fake_setup):
    peer, cases, state = fake_setup
    p = run_script(tmp_path, peer, cases, state, "--check", "--min-faults", "5",
                   "--fault-timeout", "2")
    assert p.returncode == 1, p.stdout + p.stderr
    out = p.stdout
    assert "caught   f-caught (broker, FLOW-3): caught by B-FLOW-003" in out
    assert "uncaught f-uncaught (broker, SES-2): UNCAUGHT by 1 case(s)" in out
    assert "total time" in out
    err = p.stderr
    assert "f-uncaught (broker, SES-2): UNCAUGHT: none of B-SES-002 failed" in err
    assert "f-hang (client, ECHO-1): not caught; the run erred: the engine did not finish within 2 s" in err
    assert "only 4 faults, at least 5 wanted" in err
    assert "f-caught (broker" not in err and "f-both" not in err

    doc = json.loads((tmp_path / "reports" / "latest" / "sensitivity.json").read_text())
    rows = {(r["fault"], r["role"]): r for r in doc["rows"]}
    assert set(rows) == {("f-caught", "broker"), ("f-uncaught", "broker"), ("f-both", "broker"),
                         ("f-both", "client"), ("f-hang", "client")}
    assert rows[("f-both", "client")]["caught_by"] == [
        {"case": "C-ECHO-001", "combos": ["MBLWS-text", "MBWS-text"], "of": 4}]
    assert rows[("f-hang", "client")]["status"] == "error"
    md = (tmp_path / "sensitivity.md").read_text()
    assert "| `f-caught` | broker | FLOW-3 | w1 | B-FLOW-003 [MBLWS-text, MBWS-text] | - |" in md

    # every broker and engine the run started is gone (the hung engine was killed)
    pids = [int(f.read_text().split()[1]) for f in state.glob("broker-*")]
    assert len(pids) == 3
    engines = [int(f.name.split("-")[1]) for f in state.glob("engine-*")]
    assert len(engines) == 5
    assert not [pid for pid in pids + engines if alive(pid)]


def test_all_mode_records_failures_of_cases_not_citing_the_requirement(tmp_path, fake_setup):
    peer, cases, state = fake_setup
    p = run_script(tmp_path, peer, cases, state, "--all", "--fault", "f-uncaught", "--check")
    assert p.returncode == 1, p.stdout + p.stderr
    row = json.loads((tmp_path / "reports" / "latest" / "sensitivity.json").read_text())["rows"][0]
    assert row["status"] == "uncaught" and row["cases_run"] == 3
    assert [e["case"] for e in row["other_failures"]] == ["B-ECHO-001"]
    # a partial selection does not judge the fault count
    assert "at least" not in p.stderr


def test_setup_errors_name_the_cause(tmp_path, fake_setup):
    peer, cases, state = fake_setup
    p = run_script(tmp_path, peer, cases, state, "--fault", "no-such")
    assert p.returncode == 2 and "unknown fault(s) no-such" in p.stderr
    p = run_script(tmp_path, tmp_path / "missing", cases, state)
    assert p.returncode == 2 and "mbws-peer not found" in p.stderr
    (cases / "flow" / "B-BAD-001.json").write_text("{")
    p = run_script(tmp_path, peer, cases, state)
    assert p.returncode == 2 and "B-BAD-001.json" in p.stderr and "not JSON" in p.stderr
