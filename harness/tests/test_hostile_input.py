"""Hostile input to the suite itself (issue 15): case files the engine and
the harness refuse alike, arithmetic that would wrap, a request line a case
could break, and an engine result file broken in one execution."""
import json
import subprocess

import pytest

from engine_fixtures import CASES, PY, ROOT, peer, peer_binary, run_engine, standin  # noqa: F401 (fixtures)

GOOD = json.loads((CASES / "B-ENG-001.json").read_text())
SUITE = ROOT / "harness" / "mbws-suite"

BAD_CASES = {
    "key-twice": (lambda t: t.replace('"section": "engine",', '"section": "engine", "section": "engine",'),
                  "/", "appears twice"),
    "too-deep": (lambda t: t.replace('"ignore": ["FLOW"]', '"ignore": ' + "[" * 100 + "]" * 100),
                 "/ignore/0/0", "nested deeper than 64"),
    "nul": (lambda t: t.replace('"body": "hi"', '"body": "h\\u0000i"'), "/steps/3/body", "NUL"),
    "not-utf8": (lambda t: t.replace('"body": "hi"', '"body": "h\xffi"'), None, "not UTF-8"),
}


def write_bad(tmp_path, kind):
    text = BAD_CASES[kind][0](json.dumps(GOOD, ensure_ascii=False))
    d = tmp_path / "cases" / "engine"
    d.mkdir(parents=True)
    p = d / "B-ENG-001.json"
    p.write_bytes(text.encode("utf-8", "surrogateescape") if "\xff" not in text
                  else text.replace("\xff", "").encode().replace(b"hi", b"h\xffi"))
    (tmp_path / "cases" / "schema.json").write_text((ROOT / "cases" / "schema.json").read_text())
    return p


@pytest.mark.parametrize("kind", sorted(BAD_CASES))
def test_engine_and_harness_refuse_alike(tmp_path, kind):
    p = write_bad(tmp_path, kind)
    _, pointer, why = BAD_CASES[kind]
    eng = subprocess.run([peer_binary(), "run", "--case", str(p), "--target", "ws://127.0.0.1:9/"],
                         capture_output=True, text=True, errors="replace", timeout=30)
    assert eng.returncode == 2, eng.stderr
    assert str(p) in eng.stderr and why in eng.stderr, eng.stderr
    if pointer:
        assert f": {pointer}" in eng.stderr, eng.stderr
    har = subprocess.run([PY, str(SUITE), "-q", "--peer", peer_binary(), "--cases",
                          str(tmp_path / "cases"), "--target-url", "ws://127.0.0.1:9/",
                          "--report-dir", str(tmp_path / "rep")],
                         capture_output=True, text=True, errors="replace", timeout=60)
    assert har.returncode == 4, har.stdout[-2000:] + har.stderr[-2000:]
    out = har.stdout + har.stderr
    assert "B-ENG-001.json" in out and why in out, out[-2000:]
    if pointer:
        assert pointer in out, out[-2000:]


@pytest.mark.parametrize("expr,why", [
    ("${18446744073709551615+1}", "overflows"),
    ("${9223372036854775808*2}", "overflows"),
])
def test_arithmetic_errs_instead_of_wrapping(peer, tmp_path, standin, expr, why):
    doc = dict(GOOD, steps=GOOD["steps"][:3] + [
        {"send": "MESSAGE", "fields": {"seq": expr, "address": "${addr}"}, "body": "hi"}])
    p = tmp_path / "B-ENG-001.json"
    p.write_text(json.dumps(doc))
    run = run_engine(peer, tmp_path, [p], "--target", standin + "/good")
    if run.rc == 2:  # refused when the case is loaded
        assert why in run.stderr
        return
    for r in run.results:
        assert r["verdict"] == "error" and why in r["reason"], r["reason"]
        assert not any("seq=0" in (e.get("frame") or "") for e in r["wire"])


@pytest.mark.parametrize("path", ["/a\r\nX-Injected: 1", "/a b", "no-slash"])
def test_request_line_text_is_validated(peer, tmp_path, standin, path):
    doc = dict(GOOD, steps=[{"connect": "main", "path": path}] + GOOD["steps"][1:])
    p = tmp_path / "B-ENG-001.json"
    p.write_text(json.dumps(doc))
    run = run_engine(peer, tmp_path, [p], "--target", standin + "/good")
    if run.rc == 2:
        return  # refused at load time
    for r in run.results:
        assert r["verdict"] == "error", r
        assert "upgrade request" in r["reason"], r["reason"]
        assert not any("connecting to" in (e.get("note") or "") for e in r["wire"])


def test_broken_result_marks_one_execution(tmp_path):
    """An engine result file with octets that are not UTF-8 in one record,
    and cut off later: the record with bad octets is an error of its own,
    the intact one keeps its verdict, the cut one is left out."""
    import sys
    sys.path.insert(0, str(ROOT / "harness"))
    from mbws_harness.engine import read_result_file
    good = {"case": "B-ENG-001", "subprotocol": "MBWS.huawei.com", "encoding": "binary",
            "verdict": "pass", "reason": ""}
    bad = dict(good, encoding="text", verdict="fail", reason="close reason BAD")
    raw = (json.dumps({"tool": "mbws-peer", "results": [good, bad, dict(good, case="B-ENG-002")]})
           .encode().replace(b"BAD", b"\xff\xfe"))
    f = tmp_path / "r.json"
    f.write_bytes(raw)
    _, results, problem = read_result_file(f)
    assert problem == ""
    assert [r["verdict"] for r in results] == ["pass", "error", "pass"]
    assert "\\xff\\xfe" in results[1]["reason"] and "not valid UTF-8" in results[1]["reason"]
    f.write_bytes(raw[:-40])
    _, results, problem = read_result_file(f)
    assert [r["verdict"] for r in results] == ["pass", "error"]
    assert "2 results before the damage" in problem
