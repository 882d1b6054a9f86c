"""A step that names the profile timer its window stands for ("profile_ms")
is reported with the profile's figure and appendix B's allowances, not with
the case's wider window (issue 13: "a timing expectation says the profile's
value and the tolerance"). Against the stand-in broker: `good` closes with
1000 after the DISCONNECT exchange, `early-close` closes at once."""
from engine_fixtures import peer, run_engine, standin, write_case  # noqa: F401

ONE = ["--encoding", "binary", "--subprotocol", "MBLWS.huawei.com"]


def doc(close_step):
    return {"id": "B-ENG-902", "title": "Engine self-test: profile timers in reports",
            "description": "x", "requirements": ["SES-7"], "section": "engine",
            "ignore": ["ACK", "FLOW"],
            "steps": [{"open_session": True}, {"send": "DISCONNECT"},
                      {"expect": "DISCONNECT", "within_ms": 1500, "mark": "exchange"},
                      dict(close_step, since="exchange")]}


def run(peer, standin, tmp_path, d, mode):
    return run_engine(peer, tmp_path, [write_case(tmp_path, d)], "--target", f"{standin}/{mode}", *ONE)


def test_lower_bound_names_the_profile_timer_and_both_allowances(peer, standin, tmp_path):
    step = {"expect_close": 1000, "not_before_ms": 1900, "within_ms": 2500, "profile_ms": 2000}
    res = run(peer, standin, tmp_path, doc(step), "early-close").one()
    assert res["verdict"] == "fail", res["reason"]
    fs = res["failed_step"]
    assert fs["expected"] == ("close with 1000 at 2000 ms (accepted from 1900 to 2500 ms: "
                              "-100 ms measurement error, +500 ms tolerance, profile appendix B)"), fs
    assert "earlier than 1900 ms (the profile's 2000 ms less 100 ms measurement error)" \
        in fs["received"], fs


def test_upper_bound_names_the_profile_timer_and_the_tolerance(peer, standin, tmp_path):
    step = {"expect_close": 4001, "within_ms": 2500, "profile_ms": 2000}
    res = run(peer, standin, tmp_path, doc(step), "good").one()
    assert res["verdict"] == "fail", res["reason"]
    assert res["failed_step"]["expected"] == "close with 4001 within 2000 ms (+500 ms tolerance)"
    assert "2500" not in res["reason"], res["reason"]


def test_without_profile_ms_the_case_window_is_shown(peer, standin, tmp_path):
    step = {"expect_close": 4001, "not_before_ms": 10, "within_ms": 2500}
    res = run(peer, standin, tmp_path, doc(step), "good").one()
    assert res["verdict"] == "fail", res["reason"]
    assert res["failed_step"]["expected"] == "close with 4001 between 10 and 2500 ms"


# "promptly": the stand-in closes 300 ms after the exchange (nothing unacknowledged).
def prompt_step(ms):
    return {"expect_close": 1000, "within_ms": 2500, "profile_ms": 2000,
            "promptly": {"within_ms": ms, "clause": "SES-7"}}


def test_later_than_our_reading_of_promptly_is_a_warning(peer, standin, tmp_path):
    r = run(peer, standin, tmp_path, doc(prompt_step(100)), "good")
    res = r.one()
    assert res["verdict"] == "warn", res["reason"]
    assert r.rc == 0
    [w] = res["warnings"]
    assert w["clause"] == "SES-7" and w["path"] == "/steps/3", w
    assert "later than the 100 ms this suite reads as prompt" in w["text"], w


def test_strict_makes_it_a_failure(peer, standin, tmp_path):
    r = run_engine(peer, tmp_path, [write_case(tmp_path, doc(prompt_step(100)))], "--target",
                   f"{standin}/good", *ONE, "--strict")
    res = r.one()
    assert res["verdict"] == "fail" and r.rc == 1, res["reason"]
    assert "later than the 100 ms this suite reads as prompt (SES-7; --strict)" in \
        res["failed_step"]["received"], res["failed_step"]


def test_within_our_reading_is_a_pass(peer, standin, tmp_path):
    res = run(peer, standin, tmp_path, doc(prompt_step(1500)), "good").one()
    assert res["verdict"] == "pass", res["reason"]
    assert res["warnings"] == []


def test_promptly_does_not_hide_a_failure(peer, standin, tmp_path):
    """A close with the wrong code still fails, late or not."""
    res = run(peer, standin, tmp_path, doc(dict(prompt_step(100), expect_close=4001)), "good").one()
    assert res["verdict"] == "fail", res["reason"]


# Patience: `slow-ack` ACKs each MESSAGE 1800 ms after it arrives.
def slow_ack_doc(expect_step):
    return {"id": "B-ENG-903", "title": "Engine self-test: waits without a profile timer",
            "description": "x", "requirements": ["BRK-1"], "section": "engine",
            "ignore": ["FLOW"],
            "steps": [{"open_session": True},
                      {"send": "MESSAGE", "fields": {"seq": 1, "address": "${addr}"}, "body": "m"},
                      expect_step]}


def test_a_late_event_without_profile_timer_is_a_warning(peer, standin, tmp_path):
    step = {"expect": "ACK", "fields": {"seq": 1}, "within_ms": 1500}
    r = run(peer, standin, tmp_path, slow_ack_doc(step), "slow-ack")
    res = r.one()
    assert res["verdict"] == "warn" and r.rc == 0, res["reason"]
    [w] = res["warnings"]
    assert w["clause"] == "BRK-1" and "later than the 1500 ms the case expects" in w["text"], w
    r = run_engine(peer, tmp_path, [write_case(tmp_path, slow_ack_doc(step))], "--target",
                   f"{standin}/slow-ack", *ONE, "--strict")
    assert r.one()["verdict"] == "fail" and r.rc == 1


def test_a_profile_timer_still_fails_when_missed(peer, standin, tmp_path):
    step = {"expect": "ACK", "fields": {"seq": 1}, "within_ms": 1500, "profile_ms": 1000}
    res = run(peer, standin, tmp_path, slow_ack_doc(step), "slow-ack").one()
    assert res["verdict"] == "fail", res["reason"]
    assert res["failed_step"]["expected"] == "ACK seq 1 within 1000 ms (+500 ms tolerance)"


def test_patience_is_bounded(peer, standin, tmp_path):
    """An event that never comes fails after 5000 ms, saying so."""
    step = {"expect": "ACK", "fields": {"seq": 1}, "within_ms": 1500}
    res = run(peer, standin, tmp_path, slow_ack_doc(step), "no-ack").one()
    assert res["verdict"] == "fail", res["reason"]
    fs = res["failed_step"]
    assert fs["received"].startswith("nothing within 5000 ms"), fs
    assert fs["expected"] == "ACK seq 1 within 1500 ms (waited up to 5000 ms: no profile timer)", fs
