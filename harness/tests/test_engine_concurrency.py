"""--jobs runs executions concurrently, results keep case order, and the
result file follows docs/engine-interface.md."""
import json
import time

from engine_fixtures import case, peer, run_engine, standin, write_case  # noqa: F401


def waiting_case(i):
    return {"id": "B-WAIT-%03d" % i, "title": "waits", "description": "waits 800 ms",
            "requirements": ["SES-1"], "section": "engine",
            "steps": [{"open_session": True, "ignore": ["FLOW"]}, {"wait_ms": 800}]}


def test_jobs_run_concurrently(peer, standin, tmp_path):
    files = [write_case(tmp_path, waiting_case(i)) for i in range(4)]
    t0 = time.monotonic()
    r = run_engine(peer, tmp_path, files, "--target", standin + "/good", "--jobs", "8")
    took = time.monotonic() - t0
    assert len(r.results) == 16 and {x["verdict"] for x in r.results} == {"pass"}
    # 16 x 800 ms one after the other would be 12.8 s
    assert took < 5.0, took
    assert [x["case"] for x in r.results] == sorted(x["case"] for x in r.results)
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("[")]
    assert len(lines) == 16 and lines[-1].startswith("[16/16] pass")


def test_result_file_contract(peer, standin, tmp_path):
    r = run_engine(peer, tmp_path, [case("B-ENG-004")], "--target", standin + "/good",
                   "--subprotocol", "MBLWS.huawei.com")
    d = r.doc
    assert d["tool"] == "mbws-peer" and d["profile"] == 1
    assert d["target"] == {"kind": "broker", "url": standin + "/good"}
    assert d["started"].endswith("Z") and d["duration_ms"] > 0
    assert len(d["results"]) == 2
    for res in d["results"]:
        for key in ("case", "file", "title", "section", "requirements", "role", "subprotocol",
                    "encoding", "verdict", "reason", "failed_step", "duration_ms", "wire"):
            assert key in res
        assert res["subprotocol"] == "MBLWS.huawei.com"
        assert res["requirements"] == ["FLD-6", "ERR-1", "WS-7"]
        closes = [w for w in res["wire"] if w.get("opcode") == "close"]
        assert closes[0]["dir"] == "in" and closes[0]["close_code"] == 4001
    assert {res["encoding"] for res in d["results"]} == {"binary", "text"}


def test_failure_exit_status_and_verbose_log(peer, standin, tmp_path):
    r = run_engine(peer, tmp_path, [case("B-ENG-001")], "--target", standin + "/no-ack",
                   "--subprotocol", "MBWS.huawei.com", "--encoding", "text", "--verbose")
    assert r.rc == 1
    assert "CONNECTED version=1" in r.stderr  # the wire log, decoded
    assert "fail  B-ENG-001 MBWS.huawei.com text" in r.stderr
