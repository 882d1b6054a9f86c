"""The non-strict verdict `warn` (docs/case-format.md "Non-strict checks"):
a `should` matcher or a step with "should": CLAUSE that does not hold is a
warning naming the clause, never a failure; --strict makes it a failure;
a warning does not hide a real failure; exit status 0 with warnings alone.
Variants of B-ENG-002, which passes against the correct stand-in."""
import copy
import json

from engine_fixtures import case, peer, run_engine, standin, write_case  # noqa: F401

ONE = ["--encoding", "binary"]
BASE = json.loads(case("B-ENG-002").read_text())


def with_step(step, patch):
    doc = copy.deepcopy(BASE)
    doc["steps"][step].update(patch)
    return doc


def run(peer, standin, tmp_path, doc, *extra):
    return run_engine(peer, tmp_path, [write_case(tmp_path, doc)], "--target", standin + "/good",
                      *ONE, *extra)


# The MESSAGE delivered at step 6 has sub 7: a SHOULD of "sub 8" does not hold.
SHOULD_MISS = {"fields": {"seq": 1, "sub": {"should": 8, "clause": "BRK-3"}, "address": "${addr}"}}
SHOULD_HOLD = {"fields": {"seq": 1, "sub": {"should": 7, "clause": "BRK-3"}, "address": "${addr}"}}


def test_should_matcher_miss_is_warn(peer, standin, tmp_path):
    r = run(peer, standin, tmp_path, with_step(6, SHOULD_MISS))
    res = r.one()
    assert res["verdict"] == "warn", res["reason"]
    assert r.rc == 0, r.stderr
    assert res["failed_step"] is None
    [w] = res["warnings"]
    assert w["clause"] == "BRK-3" and w["path"] == "/steps/6"
    assert "MESSAGE sub is 7, expected 8" in w["text"], w
    assert "BRK-3" in res["reason"] and "non-strict" in res["reason"]
    assert r.doc["summary"]["warn"] == 1 and r.doc["summary"]["pass"] == 0


def test_should_matcher_hold_is_pass(peer, standin, tmp_path):
    res = run(peer, standin, tmp_path, with_step(6, SHOULD_HOLD)).one()
    assert res["verdict"] == "pass", res["reason"]
    assert res["warnings"] == []


def test_strict_turns_should_miss_into_fail(peer, standin, tmp_path):
    r = run(peer, standin, tmp_path, with_step(6, SHOULD_MISS), "--strict")
    res = r.one()
    assert res["verdict"] == "fail", res["reason"]
    assert r.rc == 1
    assert res["failed_step"]["path"] == "/steps/6"
    assert "sub is 7" in res["failed_step"]["received"], res["failed_step"]


def test_if_present_is_strict(peer, standin, tmp_path):
    """if_present: absent holds, present must match (ERR-1's MUST)."""
    ok = {"fields": {"seq": 1, "sub": 7, "address": "${addr}", "limit": {"if_present": 3}}}
    assert run(peer, standin, tmp_path, with_step(6, ok)).one()["verdict"] == "pass"
    bad = {"fields": {"seq": 1, "sub": {"if_present": 8}, "address": "${addr}"}}
    res = run(peer, standin, tmp_path, with_step(6, bad)).one()
    assert res["verdict"] == "fail", res["reason"]


def test_should_step_is_warn_and_the_case_goes_on(peer, standin, tmp_path):
    doc = copy.deepcopy(BASE)
    doc["steps"].insert(8, {"check": {"peer_acked": {"gt": 5}}, "should": "RES-8",
                            "reason": "an ACK above 5"})
    r = run(peer, standin, tmp_path, doc)
    res = r.one()
    assert res["verdict"] == "warn", res["reason"]
    assert [w["clause"] for w in res["warnings"]] == ["RES-8"]
    assert res["warnings"][0]["path"] == "/steps/8"
    assert "an ACK above 5" in res["warnings"][0]["text"]
    strict = run(peer, standin, tmp_path, doc, "--strict").one()
    assert strict["verdict"] == "fail" and strict["failed_step"]["path"] == "/steps/8"


def test_warning_does_not_hide_a_failure(peer, standin, tmp_path):
    doc = with_step(6, SHOULD_MISS)
    doc["steps"][8] = {"check": {"peer_acked": {"gt": 5}}, "reason": "an ACK above 5"}
    res = run(peer, standin, tmp_path, doc).one()
    assert res["verdict"] == "fail", res["reason"]
    assert [w["clause"] for w in res["warnings"]] == ["BRK-3"]


def test_should_needs_a_clause(peer, standin, tmp_path):
    doc = with_step(6, {"fields": {"seq": 1, "sub": {"should": 8}, "address": "${addr}"}})
    r = run(peer, standin, tmp_path, doc)
    assert r.rc == 2
    assert "\"should\" and \"clause\" go together" in r.stderr
    doc = copy.deepcopy(BASE)
    doc["steps"][7]["should"] = "not a clause"
    r = run(peer, standin, tmp_path, doc)
    assert r.rc == 2 and "requirement ID" in r.stderr
