"""Every step kind passes against a correct stand-in and fails (or errs, or
skips) against one that misbehaves on purpose. The stand-in's mode is the
path of the target URL (harness/standin/standin_broker.py)."""
import pytest

from engine_fixtures import case, peer, run_engine, standin  # noqa: F401

ONE = ["--subprotocol", "MBWS.huawei.com", "--encoding", "binary"]

# case, stand-in mode, expected verdict, kind of the failing step (None: no failure)
TABLE = [
    ("B-ENG-001", "good", "pass", None),
    ("B-ENG-001", "no-ack", "fail", "expect_ack"),
    ("B-ENG-001", "slow-ack", "fail", "expect_ack"),
    ("B-ENG-001", "bad-connected", "fail", "expect"),
    ("B-ENG-001", "text-always", "fail", "expect"),
    ("B-ENG-001", "wrong-subprotocol", "fail", "connect"),
    ("B-ENG-001", "refuse", "fail", "connect"),
    # the drop may be seen while sending or while waiting for the ACK
    ("B-ENG-001", "drop-after-connected", "fail", ("send", "expect_ack")),
    ("B-ENG-002", "good", "pass", None),
    ("B-ENG-003", "good", "pass", None),
    ("B-ENG-003", "no-fragments", "fail", "expect_pong"),
    ("B-ENG-003", "no-pong", "fail", "expect_pong"),
    ("B-ENG-004", "good", "pass", None),
    ("B-ENG-004", "wrong-close", "fail", "expect_close"),
    ("B-ENG-005", "good", "pass", None),
    ("B-ENG-005", "lenient-utf8", "fail", "expect_close"),
    ("B-ENG-006", "good", "pass", None),
    ("B-ENG-006", "buffering", "fail", "expect"),
    ("B-ENG-007", "good", "pass", None),
    ("B-ENG-007", "buffering", "fail", "expect"),
    ("B-ENG-008", "good", "pass", None),
    ("B-ENG-008", "chatty", "fail", "expect_no_frame"),
    ("B-ENG-008", "early-close", "fail", "expect_close"),
    ("B-ENG-009", "good", "pass", None),
    ("B-ENG-009", "no-resume", "fail", "expect"),
    ("B-ENG-010", "good", "pass", None),
    ("B-ENG-010", "no-resume", "fail", "open_session"),
    ("B-ENG-011", "good", "pass", None),
    ("B-ENG-011", "no-ack", "fail", "expect_ack"),
    ("B-ENG-012", "good", "skip", None),
    ("B-ENG-012", "no-flow", "pass", None),
    ("B-ENG-013", "good", "pass", None),
    ("B-ENG-013", "close1002", "pass", None),
    ("B-ENG-013", "accept-none", "fail", "connect"),
    ("B-ENG-014", "good", "pass", None),
    ("B-ENG-014", "no-pong", "fail", "expect_pong"),
]


@pytest.mark.parametrize("name,mode,verdict,kind", TABLE,
                         ids=["%s-%s" % (t[0], t[1]) for t in TABLE])
def test_step_kinds(peer, standin, tmp_path, name, mode, verdict, kind):
    r = run_engine(peer, tmp_path, [case(name)], "--target", "%s/%s" % (standin, mode), *ONE)
    res = r.one()
    assert res["verdict"] == verdict, res["reason"]
    assert r.rc == (0 if verdict in ("pass", "skip") else 1)
    if kind:
        assert res["failed_step"]["kind"] in ((kind,) if isinstance(kind, str) else kind)
        assert res["failed_step"]["expected"] and res["failed_step"]["received"]
        assert res["reason"].startswith("step /steps/")
    elif verdict == "pass":
        assert res["failed_step"] is None and res["reason"] == ""
    if verdict == "skip":
        assert "appendix B" in res["reason"]


def test_all_combinations_pass_against_good(peer, standin, tmp_path):
    """Every B- self-test case in all its combinations, concurrently."""
    names = ["B-ENG-%03d" % i for i in range(1, 15)]
    r = run_engine(peer, tmp_path, [case(n) for n in names], "--target", standin + "/good",
                   "--jobs", "4")
    bad = [(x["case"], x["subprotocol"], x["encoding"], x["reason"]) for x in r.results
           if x["verdict"] not in ("pass", "skip")]
    assert not bad
    # 11 cases x 4 combinations, and B-ENG-002/009/010 on MBWS only: 3 x 2
    assert len(r.results) == 50
    # results come in case order whatever order the jobs finished in
    assert [x["case"] for x in r.results] == sorted(x["case"] for x in r.results)
    assert r.rc == 0


def test_unreachable_target_is_an_error(peer, tmp_path):
    r = run_engine(peer, tmp_path, [case("B-ENG-001")], "--target", "ws://127.0.0.1:1/", *ONE)
    res = r.one()
    assert res["verdict"] == "error"
    assert "unreachable" in res["reason"]
    assert r.rc == 1


def test_hanging_target_hits_the_case_timeout(peer, standin, tmp_path):
    r = run_engine(peer, tmp_path, [case("B-ENG-001")], "--target", standin + "/hang",
                   "--case-timeout", "1200", *ONE)
    res = r.one()
    assert res["verdict"] == "error"
    assert "case timeout after 1200 ms" in res["reason"]
    assert res["duration_ms"] < 3000


def test_long_expect_is_cut_by_the_case_timeout(peer, standin, tmp_path):
    r = run_engine(peer, tmp_path, [case("B-ENG-015")], "--target", standin + "/good",
                   "--case-timeout", "1000")
    res = r.one()
    assert res["verdict"] == "error" and "case timeout" in res["reason"]


def test_wire_log_records_fragments_pings_and_decoded_frames(peer, standin, tmp_path):
    r = run_engine(peer, tmp_path, [case("B-ENG-003")], "--target", standin + "/good", *ONE)
    wire = r.one()["wire"]
    out = [w for w in wire if w["dir"] == "out"]
    ops = [w["opcode"] for w in out]
    # MESSAGE as binary + ping + continuation + ping + continuation
    i = ops.index("binary", 1)
    assert ops[i:i + 5] == ["binary", "ping", "continuation", "ping", "continuation"]
    assert [w["fin"] for w in out[i:i + 5]] == [False, True, False, True, True]
    assert out[i + 4]["frame"].startswith("MESSAGE seq=1")
    assert "frame" not in out[i]  # an incomplete message is not decoded
    assert any(w["dir"] == "in" and w["opcode"] == "pong" for w in wire)
    assert all(set(w) >= {"t_ms", "conn", "dir"} for w in wire)
    ins = [w for w in wire if w["dir"] == "in" and w["opcode"] == "binary"]
    assert ins[0]["frame"].startswith("CONNECTED version=1")
    assert ins[0]["hex"].startswith("02000")


def test_hold_announce_logs_the_announced_length(peer, standin, tmp_path):
    r = run_engine(peer, tmp_path, [case("B-ENG-007")], "--target", standin + "/good", *ONE)
    held = [w for w in r.one()["wire"] if w.get("announced_len")]
    assert held and held[0]["announced_len"] == 100000000 and held[0]["len"] == 64
