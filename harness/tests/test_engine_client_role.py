"""C- cases: the engine listens, starts the client under test with the
environment of profile section 12, and judges it; a stand-in client
(harness/standin/standin_client.py) misbehaves on purpose."""
import pytest

from engine_fixtures import ROOT, case, client_cmd, peer, run_engine  # noqa: F401

ONE = ["--subprotocol", "MBWS.huawei.com", "--encoding", "text"]


def run_client(peer, tmp_path, cmd, *args, name="C-ENG-001"):
    return run_engine(peer, tmp_path, [case(name)], "--listen", "127.0.0.1:0",
                      "--client-cmd", cmd, *args)


def test_good_client_passes_all_combinations(peer, tmp_path):
    r = run_client(peer, tmp_path, client_cmd("good"), "--jobs", "4")
    assert [x["verdict"] for x in r.results] == ["pass"] * 4, [x["reason"] for x in r.results]
    assert r.rc == 0
    res = r.results[0]
    assert res["role"] == "client" and res["client_exit"] == 0
    assert r.doc["target"]["kind"] == "client"
    notes = [w["note"] for w in res["wire"] if w["dir"] == "event"]
    assert any("MBWS_SUBPROTOCOL=MBWS.huawei.com" in n and "MBWS_IN=" in n for n in notes)


@pytest.mark.parametrize("mode,verdict,kind,words", [
    ("no-echo", "fail", "expect", "nothing within"),
    ("exit1", "fail", "expect_exit", "exited with status 1"),
    ("bad-offer", "fail", "accept_session", "x-not-mbws"),
    ("crash", "fail", "accept_session", "closed"),
])
def test_misbehaving_client(peer, tmp_path, mode, verdict, kind, words):
    r = run_client(peer, tmp_path, client_cmd(mode), *ONE)
    res = r.one()
    assert res["verdict"] == verdict, res["reason"]
    assert res["failed_step"]["kind"] == kind
    assert words in res["failed_step"]["received"], res["failed_step"]
    assert r.rc == 1


def test_client_command_that_does_not_start(peer, tmp_path):
    r = run_client(peer, tmp_path, "/nonexistent/client --flag", *ONE)
    res = r.one()
    assert res["verdict"] == "error"
    assert "status 127 before connecting" in res["reason"]
    assert "not found" in res["client_output"]


def test_client_that_never_connects_is_stopped(peer, tmp_path):
    r = run_client(peer, tmp_path, "sleep 30", *ONE, "--case-timeout", "1500")
    res = r.one()
    assert res["verdict"] == "error" and "case timeout" in res["reason"]
    assert res["duration_ms"] < 4000
    assert res["client_exit"] != 0  # it was stopped, not left running


def test_conformance_echo_case_against_stand_in(peer, tmp_path):
    r = run_engine(peer, tmp_path, [ROOT / "cases" / "echo" / "C-ECHO-001.json"],
                   "--listen", "127.0.0.1:0", "--client-cmd", client_cmd("good"), "--jobs", "2")
    assert {x["verdict"] for x in r.results} == {"pass"}


def test_broker_cases_skip_when_testing_a_client(peer, tmp_path):
    r = run_engine(peer, tmp_path, [case("B-ENG-001")], "--listen", "127.0.0.1:0",
                   "--client-cmd", "true", *ONE)
    res = r.one()
    assert res["verdict"] == "skip" and "tests a broker" in res["reason"]
