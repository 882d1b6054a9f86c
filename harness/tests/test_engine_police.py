"""The engine keeps the suite within FLOW-6 and SES-8 towards the
implementation (engine_police.c): a MESSAGE above the limit it granted, a
frame above its max-frame, or a CONNECT over 1024 octets is a case bug
(verdict error naming case and step) unless the step declares the breach
("violates"); with "limit_wait_ms" a MESSAGE above the limit waits for a
FLOW, then the execution is skip. Against the correct stand-in broker."""
from engine_fixtures import peer, run_engine, standin, write_case  # noqa: F401

ONE = ["--encoding", "binary", "--subprotocol", "MBLWS.huawei.com"]


def doc(steps, **top):
    d = {"id": "B-ENG-901", "title": "Engine self-test: policing", "description": "x",
         "requirements": ["FLOW-6"], "section": "engine", "ignore": ["ACK", "FLOW"],
         "steps": [{"open_session": True}] + steps}
    d.update(top)
    return d


ABOVE = {"send": "MESSAGE", "fields": {"seq": "${peer_limit+1}", "address": "${addr}"}, "body": "x"}


def run(peer, standin, tmp_path, d, mode="good"):
    return run_engine(peer, tmp_path, [write_case(tmp_path, d)], "--target", f"{standin}/{mode}", *ONE)


def test_undeclared_message_above_the_limit_is_an_error(peer, standin, tmp_path):
    r = run(peer, standin, tmp_path, doc([ABOVE]))
    res = r.one()
    assert res["verdict"] == "error", res["reason"]
    assert r.rc == 1
    assert res["failed_step"]["path"] == "/steps/1"
    assert "case bug in B-ENG-901 at step /steps/1" in res["reason"]
    assert "above the limit" in res["reason"] and "FLOW-6" in res["reason"]
    # nothing left: the MESSAGE was not sent
    assert not any(e.get("dir") == "out" and (e.get("frame") or "").startswith("MESSAGE")
                   for e in res["wire"])


def test_a_send_above_the_limit_waits_for_a_late_flow(peer, standin, tmp_path):
    """FLOW-5 lets an implementation raise its limit up to 1000 ms after the
    ACK: seventeen back-to-back publications against credit 16 and a FLOW
    800 ms late is a pass (the 17th waits for it), not a case bug."""
    steps = [{"repeat": 17, "steps": [
                 {"send": "MESSAGE", "fields": {"seq": "${i}", "address": "${addr}"}, "body": "m"}]},
             {"expect_ack": 17, "within_ms": 1500}]
    res = run(peer, standin, tmp_path, doc(steps), mode="slow-flow").one()
    assert res["verdict"] == "pass", res["reason"]
    sends = [e["t_ms"] for e in res["wire"]
             if e.get("dir") == "out" and (e.get("frame") or "").startswith("MESSAGE")]
    assert len(sends) == 17 and sends[16] - sends[15] >= 700, sends  # it waited
    res = run(peer, standin, tmp_path, doc(steps), mode="no-flow").one()
    assert res["verdict"] == "error", res["reason"]
    assert "no FLOW raised it within 1500 ms" in res["reason"], res["reason"]


def test_declared_breach_is_sent(peer, standin, tmp_path):
    steps = [dict(ABOVE, violates="FLOW-3"),
             {"expect": "ERROR", "fields": {"code": [5, 7]}, "within_ms": 1500}]  # gap first (ERR-4)
    res = run(peer, standin, tmp_path, doc(steps)).one()
    assert res["verdict"] == "pass", res["reason"]


def test_limit_wait_ms_turns_it_into_a_skip(peer, standin, tmp_path):
    res = run(peer, standin, tmp_path, doc([ABOVE], limit_wait_ms=200)).one()
    assert res["verdict"] == "skip", res["reason"]
    assert "no FLOW raised it within 200 ms" in res["reason"] and "FLOW-6" in res["reason"]


def test_frame_above_max_frame_is_an_error(peer, standin, tmp_path):
    big = {"send": "MESSAGE", "fields": {"seq": 1, "address": "${addr}"},
           "frame_size": "${peer_max_frame+1}"}
    res = run(peer, standin, tmp_path, doc([big])).one()
    assert res["verdict"] == "error", res["reason"]
    assert "above the max-frame" in res["reason"] and "SES-8" in res["reason"]
    big["violates"] = "SES-9"
    res = run(peer, standin, tmp_path, doc([big, {"expect": "ERROR", "fields": {"code": 3}}])).one()
    assert res["verdict"] == "pass", res["reason"]


def test_connect_over_1024_octets_is_an_error(peer, standin, tmp_path):
    d = doc([])
    d["steps"] = [{"connect": "main"},
                  {"send": "CONNECT", "fields": {"version": 1, "credit": 16, "max-frame": 65536,
                                                 "name": {"fill": "n", "size": 1000}}}]
    res = run(peer, standin, tmp_path, d).one()
    assert res["verdict"] == "error", res["reason"]
    assert "CONNECT" in res["reason"] and "1024" in res["reason"]
