"""The {"not_sent": ...} matcher: a known field the frame type does not list
(in the session's subprotocol and direction) is ignored by the decoder
(FLD-3) and every other matcher sees it as absent; not_sent asks whether it
was on the wire at all. RES-9: an MBLWS CONNECTED carries no session fields.
The stand-in broker's mode mblws-session-fields sends them anyway; the
stand-in client's mode connect-extra puts unlisted fields in CONNECT."""
import pytest

from engine_fixtures import client_cmd, peer, run_engine, standin, write_case  # noqa: F401

MBLWS = ["--subprotocol", "MBLWS.huawei.com"]
SESSION_FIELDS = ("session", "session-expiry", "resumed", "last-seq")


def broker_case(matchers, sp="MBLWS.huawei.com"):
    return {
        "id": "B-ENG-901", "title": "not_sent on CONNECTED", "description": "engine self-test",
        "requirements": ["RES-9"], "section": "engine", "subprotocols": [sp],
        "steps": [{"open_session": True, "expect_fields": matchers},
                  {"send": "DISCONNECT"},
                  {"expect": "DISCONNECT", "ignore": ["FLOW", "ACK"]}],
    }


def run_broker(peer, standin, tmp_path, doc, mode, *args):
    return run_engine(peer, tmp_path, [write_case(tmp_path, doc)],
                      "--target", standin + "/" + mode, *args)


NOT_SENT = {f: {"not_sent": True} for f in SESSION_FIELDS}


def test_not_sent_passes_on_a_correct_mblws_connected(peer, standin, tmp_path):
    r = run_broker(peer, standin, tmp_path, broker_case(NOT_SENT), "good", *MBLWS)
    assert [x["verdict"] for x in r.results] == ["pass", "pass"], [x["reason"] for x in r.results]


@pytest.mark.parametrize("encoding", ["binary", "text"])
def test_not_sent_fails_on_unlisted_session_fields(peer, standin, tmp_path, encoding):
    r = run_broker(peer, standin, tmp_path, broker_case(NOT_SENT), "mblws-session-fields",
                   *MBLWS, "--encoding", encoding)
    res = r.one()
    assert res["verdict"] == "fail", res["reason"]
    assert res["failed_step"]["path"] == "/steps/0"
    got = res["failed_step"]["received"]
    assert "session is absent (sent, but not listed for this frame type: ignored, FLD-3)" in got, got
    assert "not sent at all" in res["failed_step"]["expected"], res["failed_step"]
    assert r.rc == 1


def test_absent_cannot_see_unlisted_fields(peer, standin, tmp_path):
    """Why not_sent exists: null/absent hold for an ignored unlisted field."""
    doc = broker_case({"session": None, "session-expiry": {"absent": True}, "resumed": False})
    r = run_broker(peer, standin, tmp_path, doc, "mblws-session-fields", *MBLWS)
    assert [x["verdict"] for x in r.results] == ["pass", "pass"], [x["reason"] for x in r.results]


@pytest.mark.parametrize("field", ["session", "session-expiry", "resumed"])
def test_not_sent_false_holds_for_unlisted_and_listed_fields(peer, standin, tmp_path, field):
    m = {field: {"not_sent": False}}
    r = run_broker(peer, standin, tmp_path, broker_case(m), "mblws-session-fields", *MBLWS,
                   "--encoding", "text")
    assert r.one()["verdict"] == "pass", r.one()["reason"]
    r = run_broker(peer, standin, tmp_path, broker_case(m, "MBWS.huawei.com"), "good",
                   "--encoding", "binary")
    assert r.one()["verdict"] == "pass", r.one()["reason"]
    r = run_broker(peer, standin, tmp_path, broker_case(m), "good", *MBLWS, "--encoding", "binary")
    res = r.one()
    assert res["verdict"] == "fail", res["reason"]
    assert "is absent, expected sent (listed or not)" in res["failed_step"]["received"], res["failed_step"]


def test_not_sent_fails_on_a_listed_field(peer, standin, tmp_path):
    doc = broker_case({"session": {"not_sent": True}}, "MBWS.huawei.com")
    r = run_broker(peer, standin, tmp_path, doc, "good", "--encoding", "binary")
    res = r.one()
    assert res["verdict"] == "fail"
    assert "session is \"T" in res["failed_step"]["received"], res["failed_step"]


def test_not_sent_must_be_a_boolean(peer, standin, tmp_path):
    doc = broker_case({"session": {"not_sent": 1}})
    r = run_broker(peer, standin, tmp_path, doc, "good", *MBLWS)
    assert r.rc == 2 and "not_sent" in r.stderr, r.stderr


def client_case():
    return {
        "id": "C-ENG-901", "title": "not_sent on CONNECT", "description": "engine self-test",
        "requirements": ["RES-9"], "section": "engine", "subprotocols": ["MBLWS.huawei.com"],
        "encodings": ["text"],
        "steps": [{"accept_session": True,
                   "expect_fields": {"resumed": {"not_sent": True}, "session-expiry": None}},
                  {"send": "DISCONNECT"},
                  {"expect": "DISCONNECT", "ignore": ["FLOW", "ACK", "SUBSCRIBE"]}],
    }


@pytest.mark.parametrize("mode,verdict", [("good", "pass"), ("connect-extra", "fail")])
def test_not_sent_on_a_clients_connect(peer, tmp_path, mode, verdict):
    r = run_engine(peer, tmp_path, [write_case(tmp_path, client_case())],
                   "--listen", "127.0.0.1:0", "--client-cmd", client_cmd(mode))
    res = r.one()
    assert res["verdict"] == verdict, (res["reason"], res.get("failed_step"))
    if verdict == "fail":
        assert "resumed is absent (sent, but not listed" in res["failed_step"]["received"]
