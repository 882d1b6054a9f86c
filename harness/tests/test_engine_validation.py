"""Case files are validated before anything runs: the engine names the file,
the JSON pointer and the reason, exits 2 and runs nothing. The JSON Schema
(cases/schema.json) accepts every case the engine accepts and rejects the
same broken ones."""
import copy
import json
import subprocess
from pathlib import Path

import jsonschema
import pytest

from engine_fixtures import CASES, ROOT, case, peer, run_engine, write_case  # noqa: F401

SCHEMA = json.loads((ROOT / "cases" / "schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
GOOD = json.loads(case("B-ENG-001").read_text())


def all_case_files():
    files = sorted(CASES.glob("*.json"))
    files += sorted(p for p in (ROOT / "cases").rglob("*.json")
                    if p.name not in ("schema.json", "requirements.json"))
    return files


def test_schema_is_valid_2020_12():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("path", all_case_files(), ids=lambda p: p.name)
def test_every_case_file_matches_the_schema(path):
    errors = list(VALIDATOR.iter_errors(json.loads(path.read_text())))
    assert not errors, [(list(e.absolute_path), e.message[:200]) for e in errors]


def mutate(fn):
    doc = copy.deepcopy(GOOD)
    fn(doc)
    return doc


# (name, mutation, JSON pointer the engine must name, words of its reason)
BROKEN = [
    ("bad-id", lambda d: d.update(id="X-1"), "/id", "an id looks like"),
    ("missing-steps", lambda d: d.pop("steps"), "/", "needs \"steps\""),
    ("unknown-top-key", lambda d: d.update(color="red"), "/color", "unknown key"),
    ("bad-requirement", lambda d: d.update(requirements=["FLOW-99x"]), "/requirements/0",
     "requirement ID"),
    ("bad-section", lambda d: d.update(section="misc"), "/section", "not a section"),
    ("bad-subprotocol", lambda d: d.update(subprotocols=["MBWS"]), "/subprotocols",
     "MBWS.huawei.com"),
    ("two-kinds", lambda d: d["steps"][1].update(expect="ACK"), "/steps/1", "exactly one kind"),
    ("no-kind", lambda d: d["steps"].append({"within_ms": 5}), "/steps/5", "a step needs one of"),
    ("unknown-step-key", lambda d: d["steps"][4].update(within=3), "/steps/4/within",
     "not a key of a expect_ack step"),
    ("bad-type", lambda d: d["steps"][2].update(expect="CONECTED"), "/steps/2/expect",
     "not a frame type"),
    ("bad-field", lambda d: d["steps"][1]["fields"].update(credits=1), "/steps/1/fields/credits",
     "not a field of section 5"),
    ("bad-matcher", lambda d: d["steps"][2]["fields"].update(credit={"gte": 1}),
     "/steps/2/fields/credit/gte", "unknown matcher"),
    ("bad-expr", lambda d: d["steps"][3]["fields"].update(seq="${seq+}"),
     "/steps/3/fields/seq", "expected a number or a variable name"),
    ("bad-hex", lambda d: d["steps"][3].update(body={"hex": "zz"}), "/steps/3/body",
     "hex digits"),
    ("negative", lambda d: d["steps"][4].update(within_ms=-1), "/steps/4/within_ms",
     "non-negative integer"),
    ("repeat-without-steps", lambda d: d["steps"].append({"repeat": 2}), "/steps/5",
     "needs \"steps\""),
    ("no-for-ms", lambda d: d["steps"].append({"expect_no_frame": True}), "/steps/5",
     "needs \"for_ms\""),
    ("bad-hold", lambda d: d["steps"][3].update(hold={"fragments": 3}), "/steps/3/hold",
     "fragment"),
    ("bad-capture", lambda d: d["steps"][2].update(capture={"1x": "seq"}),
     "/steps/2/capture/1x", "not a variable name"),
    ("bad-promptly", lambda d: d["steps"][4].update(promptly={"within_ms": 5}),
     "/steps/4/promptly", "\"clause\": \"SES-7\""),
    ("profile-window", lambda d: d["steps"][4].update(within_ms=2400, profile_ms=2000),
     "/steps/4/profile_ms", "within_ms 2500 (+500 ms tolerance)"),
]


# What a JSON Schema cannot express: the grammar inside ${...}, and
# arithmetic between keys (appendix B's window around profile_ms).
ENGINE_ONLY = {"bad-expr", "profile-window"}


@pytest.mark.parametrize("name,fn,pointer,words", BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_case_is_refused_by_engine_and_schema(peer, tmp_path, name, fn, pointer, words):
    doc = mutate(fn)
    path = write_case(tmp_path, doc, name)
    r = run_engine(peer, tmp_path, [path], "--target", "ws://127.0.0.1:1/")
    assert r.rc == 2
    assert r.doc is None  # nothing ran, no result file
    line = [ln for ln in r.stderr.splitlines() if "invalid case" in ln][0]
    assert "%s: %s: " % (path, pointer) in line, line
    assert words in line, line
    if name not in ENGINE_ONLY:
        assert list(VALIDATOR.iter_errors(doc)), "the schema accepts %s" % name


def test_invalid_json_names_the_line(peer, tmp_path):
    p = tmp_path / "broken.json"
    p.write_text('{\n"id": "B-X-001",\n"title": oops\n}\n')
    r = run_engine(peer, tmp_path, [p], "--target", "ws://127.0.0.1:1/")
    assert r.rc == 2 and "not valid JSON (near line 3)" in r.stderr


def test_one_bad_file_stops_the_whole_run(peer, tmp_path):
    bad = write_case(tmp_path, mutate(lambda d: d.update(section="nope")), "bad")
    r = run_engine(peer, tmp_path, [case("B-ENG-001"), bad], "--target", "ws://127.0.0.1:1/")
    assert r.rc == 2 and r.doc is None
    assert "[1/" not in r.stderr  # no execution started


def test_duplicate_ids_are_refused(peer, tmp_path):
    a = write_case(tmp_path, GOOD, "a")
    b = write_case(tmp_path, GOOD, "b")
    r = run_engine(peer, tmp_path, [a, b], "--target", "ws://127.0.0.1:1/")
    assert r.rc == 2 and "is also the id of" in r.stderr


@pytest.mark.parametrize("args,words", [
    ([], "either --target"),
    (["--target", "http://127.0.0.1:1/"], "wants ws://HOST:PORT/PATH or wss://"),
    (["--target", "ws://127.0.0.1:1/", "--jobs", "0"], "--jobs"),
    (["--listen", "127.0.0.1:0"], "either --target"),
    (["--target", "ws://x:1/", "--encoding", "json"], "unknown encoding"),
])
def test_bad_usage_exits_2(peer, tmp_path, args, words):
    r = run_engine(peer, tmp_path, [case("B-ENG-001")], *args)
    assert r.rc == 2 and words in r.stderr


def test_help(peer):
    p = subprocess.run([peer, "run", "--help"], capture_output=True, text=True)
    assert p.returncode == 0
    for opt in ("--case", "--target", "--listen", "--client-cmd", "--jobs", "--case-timeout",
                "--json", "--subprotocol", "--encoding", "--verbose"):
        assert opt in p.stdout
