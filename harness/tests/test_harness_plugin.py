"""The pytest plugin against the fake engine: test IDs, markers, verdict
mapping, batching, xdist equivalence, early errors."""
import json
import socket
import threading

import pytest

from harness_support import (FAKE_PEER, FAKE_SKIPPED_CASE, FAKE_VERDICTS, fake_run,  # noqa: F401
                             load_cases_for_tests, run_suite)

SHORT = {"MBWS.huawei.com": "MBWS", "MBLWS.huawei.com": "MBLWS"}


def expected_outcomes():
    out = {}
    for case in load_cases_for_tests():
        for s, e in case.combinations():
            v = FAKE_VERDICTS.get((case.id, s, e), "skip" if case.id == FAKE_SKIPPED_CASE else "pass")
            out[f"test_case[{case.id}-{SHORT[s]}-{e}]"] = {"pass": "passed", "skip": "skipped"}.get(v, "failed")
    return out


def test_one_test_per_case_and_combination_with_verdicts_mapped(fake_run):
    assert fake_run.rc == 1, fake_run.out  # failures make the exit status non-zero
    outcomes = fake_run.pytest_outcomes()
    assert outcomes == expected_outcomes()
    assert outcomes["test_case[B-FLOW-003-MBWS-binary]"] == "failed"
    assert outcomes["test_case[B-FLOW-003-MBWS-text]"] == "passed"
    assert outcomes["test_case[B-FLOW-004-MBLWS-text]"] == "skipped"


def test_failure_message_has_step_expected_received_and_wire_tail(fake_run):
    out = fake_run.out
    block = out.split("test_case[B-FLOW-003-MBWS-binary] _", 1)[1].split("\n", 1)[1]
    block = block.split("\n___", 1)[0]
    assert "FAIL" in block and "no ERROR 7 after the excess MESSAGE" in block
    assert "failed step #3 (expect_frame)" in block
    assert "expected: ACK seq=5 within 1000 ms (+500 ms tolerance)" in block
    assert "received: no frame in 1500 ms" in block
    assert "FAKE-WIRE-MARK B-FLOW-003" in block
    assert "CONNECT version=1" in block


def test_skip_reason_is_shown_and_skip_is_not_a_pass(fake_run):
    assert "the broker raised its limit as fast as messages arrived" in fake_run.out
    assert "4 skipped" in fake_run.out


def test_summary_and_report_path_printed(fake_run):
    out = fake_run.out
    assert "MBWS profile 1 conformance summary" in out
    assert "executions: 21   pass 15   warn 0   fail 1   error 1   skip 4" in out
    assert f"report: {fake_run.run_dir}/index.html" in out
    assert "engine: 21/21 executions" in out  # progress


def test_one_engine_invocation_per_role_with_jobs(fake_run):
    invs = fake_run.invocations()
    assert len(invs) == 2
    broker = next(i for i in invs if i["target"])
    client = next(i for i in invs if i["listen"])
    assert len(broker["cases"]) == 6 and len(client["cases"]) == 1
    assert broker["listen"] is None and broker["target"].startswith("ws://127.0.0.1:")
    assert client["listen"] == "127.0.0.1:0" and client["client_cmd"].endswith("fake_peer.py echo")
    assert broker["jobs"] > 1
    assert broker["subprotocols"] == [] and broker["encodings"] == []


def test_bundled_broker_is_stopped_by_the_harness(fake_run):
    log = (fake_run.run_dir / "broker.log").read_text()
    assert "listening on 127.0.0.1:" in log
    assert "stopped" in log  # the fake broker prints this on SIGTERM


def test_batched_run_is_faster_than_serial(fake_run):
    index = json.loads((fake_run.run_dir / "engine" / "index.json").read_text())
    broker = next(i for i in index["invocations"] if i["role"] == "broker")
    # The broker cases sleep 6 s in total; run concurrently they take about 1 s.
    assert broker["duration_s"] < 3.0, broker


def test_collect_only_lists_ids_and_runs_nothing(tmp_path):
    run = run_suite(tmp_path, "--collect-only", "-q")
    assert run.rc == 0, run.out
    assert "test_conformance.py::test_case[B-FLOW-003-MBWS-binary]" in run.out
    assert "test_case[B-SES-002-MBLWS" not in run.out  # the case lists MBWS only
    assert run.invocations() == []


@pytest.mark.parametrize("args, expected", [
    (["-m", "flow and MBWS and binary"], {"B-FLOW-001-MBWS-binary", "B-FLOW-003-MBWS-binary",
                                          "B-FLOW-004-MBWS-binary"}),
    (["-m", "SES-2"], {"B-SES-002-MBWS-binary", "B-SES-002-MBWS-text"}),
    (["--section", "8", "-k", "MBLWS-text"], {"B-FLOW-001-MBLWS-text", "B-FLOW-003-MBLWS-text",
                                              "B-FLOW-004-MBLWS-text"}),
    (["--section", "errors"], {"B-ERR-001-MBWS-binary", "B-ERR-001-MBLWS-binary"}),
    (["--req", "ECHO", "-k", "text"], {"C-ECHO-001-MBWS-text", "C-ECHO-001-MBLWS-text"}),
    (["-k", "B-FLOW-003"], {f"B-FLOW-003-{c}" for c in
                            ("MBWS-binary", "MBWS-text", "MBLWS-binary", "MBLWS-text")}),
])
def test_selection_by_marker_section_requirement_keyword(tmp_path, args, expected):
    run = run_suite(tmp_path, *args)
    ran = {n[len("test_case["):-1] for n in run.pytest_outcomes()}
    assert ran == expected, run.out
    # The engine ran exactly the selected executions, nothing more.
    ids = {r["id"] for r in run.results()["results"]}
    assert ids == expected


def test_partial_combination_selection_passes_engine_filters(tmp_path):
    run = run_suite(tmp_path, "-k", "B-FLOW-001 and MBLWS-text")
    (inv,) = run.invocations()
    assert inv["subprotocols"] == ["MBLWS.huawei.com"] and inv["encodings"] == ["text"]
    assert [c.rsplit("/", 1)[1] for c in inv["cases"]] == ["B-FLOW-001.json"]


def test_xdist_gives_the_same_verdicts_as_serial(tmp_path, fake_run):
    run = run_suite(tmp_path, "-n", "2")
    assert run.rc == fake_run.rc
    assert run.pytest_outcomes() == fake_run.pytest_outcomes()
    assert len(run.invocations()) == len(fake_run.invocations())  # still batched, once
    a = {r["id"]: r["verdict"] for r in run.results()["results"]}
    b = {r["id"]: r["verdict"] for r in fake_run.results()["results"]}
    assert a == b


def test_all_pass_exits_zero(tmp_path):
    run = run_suite(tmp_path, "-k", "not FLOW-004", env={"FAKE_PEER_VERDICT": "pass"})
    assert run.rc == 0, run.out
    assert set(run.pytest_outcomes().values()) == {"passed"}


def test_engine_crash_fails_every_test_with_the_reason(tmp_path):
    run = run_suite(tmp_path, "-k", "B-FLOW-001", env={"FAKE_PEER_MODE": "crash"})
    assert run.rc == 1
    assert set(run.pytest_outcomes().values()) == {"failed"}
    assert "no result from the engine" in run.out and "signal 11" in run.out
    res = run.results()
    assert {r["verdict"] for r in res["results"]} == {"error"}
    assert res["engine_problems"] and "signal 11" in res["engine_problems"][0]["error"]


def test_engine_refusal_is_reported(tmp_path):
    run = run_suite(tmp_path, "-k", "B-ERR-001", env={"FAKE_PEER_MODE": "exit2"})
    assert run.rc == 1
    assert "exit 2: bad usage or invalid case file" in run.out


def test_missing_peer_says_how_to_build(tmp_path):
    run = run_suite(tmp_path, peer=tmp_path / "nope" / "mbws-peer")
    assert run.rc == 4
    assert "not found" in run.out and "cmake --build" in run.out


@pytest.mark.parametrize("args, message", [
    (["--target-url", "http://127.0.0.1:1/"], "is not a ws:// or wss:// URL"),
    (["--target", "noequals"], "expected NAME=VALUE"),
    (["--target-url", "wss://127.0.0.1:1/", "--ca-file", "/nonexistent.pem"], "is not a file"),
    (["--target-url", "wss://127.0.0.1:1/", "--ca-file", __file__, "--insecure"],
     "contradict each other"),
    (["--target", "bad name=ws://127.0.0.1:1/"], "target name"),
    (["--client-cmd", "/nonexistent/client --x"], "is not an executable file"),
    (["--client-cmd", "no-such-program-mbws"], "not found on PATH"),
    (["--jobs", "0"], "--jobs must be at least 1"),
    (["--target-name", "x"], "--target-name names the target"),
])
def test_bad_options_fail_early(tmp_path, args, message):
    run = run_suite(tmp_path, *args)
    assert run.rc == 4, run.out
    assert message in run.out
    assert run.invocations() == []


def test_unreachable_target_fails_early(tmp_path):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    run = run_suite(tmp_path, "--target-url", f"ws://127.0.0.1:{port}/")
    assert run.rc == 4
    assert "unreachable" in run.out and str(port) in run.out


def test_external_broker_and_client_targets(tmp_path):
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    port = srv.getsockname()[1]
    stop = threading.Event()

    def accept():
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                srv.accept()[0].close()
            except OSError:
                pass
    th = threading.Thread(target=accept)
    th.start()
    try:
        run = run_suite(tmp_path, "--target-url", f"ws://127.0.0.1:{port}/",
                        "--client-cmd", "/bin/true --flag", "--target-name", "acme")
    finally:
        stop.set()
        th.join()
        srv.close()
    invs = run.invocations()
    assert {i["target"] for i in invs} == {f"ws://127.0.0.1:{port}/", None}
    assert any(i["client_cmd"] == "/bin/true --flag" for i in invs)
    targets = run.results()["targets"]
    assert targets == [{"name": "acme", "broker_url": f"ws://127.0.0.1:{port}/",
                        "bundled_broker": False, "client_cmd": "/bin/true --flag",
                        "bundled_client": False, "broker_tls": None, "client_tls": None}]
    assert not (run.run_dir / "broker.log").exists()  # no bundled broker started


def test_broker_only_target_runs_only_broker_cases(tmp_path):
    run = run_suite(tmp_path, "--target", "ref=bundled")
    names = run.pytest_outcomes()
    assert names and all(n.startswith("test_case[B-") for n in names)


def test_several_targets_make_a_matrix(tmp_path):
    run = run_suite(tmp_path, "--target", "one=bundled", "--target", "two=bundled",
                    "--client", "two=bundled", "-k", "FLOW-003 or ECHO")
    names = set(run.pytest_outcomes())
    assert "test_case[B-FLOW-003-MBWS-binary@one]" in names
    assert "test_case[B-FLOW-003-MBWS-binary@two]" in names
    assert "test_case[C-ECHO-001-MBWS-text@two]" in names
    assert not any("ECHO" in n and "@one" in n for n in names)  # one has no client
    matrix = (run.run_dir / "matrix.html").read_text()
    assert "<th>one</th>" in matrix and "<th>two</th>" in matrix
    assert matrix.count('class="na"') == 4  # C-ECHO-001 x 4 combinations for 'one'
    assert (run.run_dir / "badge-one.svg").exists() and (run.run_dir / "badge-two.svg").exists()
    assert "interop matrix:" in run.out
