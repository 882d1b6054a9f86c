"""Each matcher and capture both passes and fails. B-ENG-002 passes against
the correct stand-in with every matcher kind; each variant here changes
one matcher so that it cannot hold, and the case must fail at that step."""
import copy
import json

import pytest

from engine_fixtures import case, peer, run_engine, standin, write_case  # noqa: F401

ONE = ["--encoding", "binary"]
BASE = json.loads(case("B-ENG-002").read_text())


def variant(step, path, value):
    doc = copy.deepcopy(BASE)
    node = doc["steps"][step]
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = value
    return doc


# (step, path inside the step, failing value, words the failure must name)
VARIANTS = [
    (2, ["fields", "version"], 2, "version is 1, expected 2"),
    (2, ["fields", "credit"], {"ge": 17}, "credit"),
    (2, ["fields", "credit"], {"le": 15}, "credit"),
    (2, ["fields", "max-frame"], {"lt": 1024}, "max-frame"),
    (2, ["fields", "max-frame"], {"gt": 65536}, "max-frame"),
    (2, ["fields", "session"], {"matches": "^X"}, "session"),
    (2, ["fields", "session"], {"len": {"gt": 64}}, "session"),
    (2, ["fields", "session"], {"absent": True}, "session"),
    (2, ["fields", "session-expiry"], {"ne": 60}, "session-expiry"),
    (2, ["fields", "resumed"], {"in": [1, 2]}, "resumed"),
    (2, ["fields", "last-seq"], {"present": True}, "last-seq is absent"),
    (2, ["fields", "name"], True, "name is absent"),
    (2, ["fields", "last-seq"], 0, "last-seq is absent"),
    (2, ["expect"], "ERROR", "CONNECTED"),
    (6, ["fields", "sub"], 8, "sub is 7, expected 8"),
    (6, ["fields", "address"], "${addr}x", "address"),
    (6, ["fields", "content-type"], {"eq": "text/html"}, "content-type"),
    (6, ["body"], "hello", "body"),
    (6, ["body"], {"contains": "bye"}, "body"),
    (6, ["body"], {"len": 12}, "body"),
    (6, ["body"], {"hex": "00"}, "body"),
    (6, ["body"], {"matches": "^world"}, "body"),
    (6, ["encoding"], "text", "sent as a binary frame, expected text"),
    (6, ["capture"], {"x": "limit"}, "no limit field to capture"),
]


@pytest.mark.parametrize("step,path,value,words", VARIANTS,
                         ids=["%d-%s-%s" % (v[0], "/".join(v[1]), json.dumps(v[2])) for v in VARIANTS])
def test_matcher_fails(peer, standin, tmp_path, step, path, value, words):
    p = write_case(tmp_path, variant(step, path, value))
    r = run_engine(peer, tmp_path, [p], "--target", standin + "/good", *ONE)
    res = r.one()
    assert res["verdict"] == "fail", res["reason"]
    assert res["failed_step"]["path"] == "/steps/%d" % step
    assert words in res["failed_step"]["received"] + " " + res["failed_step"]["expected"], res["failed_step"]


def test_base_passes(peer, standin, tmp_path):
    r = run_engine(peer, tmp_path, [case("B-ENG-002")], "--target", standin + "/good", *ONE)
    assert r.one()["verdict"] == "pass", r.one()["reason"]


@pytest.mark.parametrize("cond,verdict", [
    ({"token": {"eq": "${session}"}, "got_body": "hello world", "got_type": "MESSAGE"}, "skip"),
    ({"their_credit": {"eq": "${peer_credit}"}, "got_type": "MESSAGE"}, "skip"),
    ({"token": {"ne": "${session}"}}, "pass"),
    ({"never_set": {"present": True}}, "pass"),
    ({"never_set": {"absent": True}}, "skip"),
])
def test_captures_and_skip_if(peer, standin, tmp_path, cond, verdict):
    """Captured values and automatic variables, seen through skip_if."""
    doc = variant(8, ["skip_if"], cond)
    r = run_engine(peer, tmp_path, [write_case(tmp_path, doc)], "--target", standin + "/good", *ONE)
    res = r.one()
    assert res["verdict"] == verdict, res["reason"]
    if verdict == "skip":
        assert res["reason"] == "never: got_type is MESSAGE"


def test_undefined_variable_is_an_error(peer, standin, tmp_path):
    doc = variant(3, ["fields", "address"], "${no_such_var}")
    r = run_engine(peer, tmp_path, [write_case(tmp_path, doc)], "--target", standin + "/good", *ONE)
    res = r.one()
    assert res["verdict"] == "error"
    assert "undefined variable 'no_such_var'" in res["reason"]


@pytest.mark.parametrize("cond,verdict,words", [
    ({"their_credit": {"eq": "${peer_credit}"}, "got_type": "MESSAGE"}, "pass", None),
    ({"peer_acked": {"ge": 1}}, "pass", None),
    ({"peer_acked": {"gt": 1}}, "fail", "peer_acked is 1"),
    ({"never_set": {"present": True}}, "fail", "never_set is not set"),
])
def test_check(peer, standin, tmp_path, cond, verdict, words):
    """check: a condition on variables that fails the step when it does not hold."""
    doc = copy.deepcopy(BASE)
    doc["steps"][8] = {"check": cond, "reason": "limit above ${peer_acked}"}
    r = run_engine(peer, tmp_path, [write_case(tmp_path, doc)], "--target", standin + "/good", *ONE)
    res = r.one()
    assert res["verdict"] == verdict, res["reason"]
    if words:
        assert res["failed_step"]["path"] == "/steps/8"
        assert words in res["failed_step"]["received"], res["failed_step"]
        assert res["failed_step"]["expected"] == "limit above 1", res["failed_step"]
