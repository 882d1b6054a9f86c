"""harness/vacuity.py: the allow-list, the check, and real runs of the engine
against the trivial targets of tests/trivial/ (a vacuous case is caught, an
allow-listed pass is not, a case with a proof of life fails them all)."""
import importlib.util
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from engine_fixtures import PY, peer_binary
import harness_support  # noqa: F401  harness/ first on sys.path, as when the script runs

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SCRIPT = HERE.parent / "vacuity.py"
_spec = importlib.util.spec_from_file_location("vacuity", SCRIPT)
vac = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(vac)


def write(path, doc):
    path.write_text(json.dumps(doc))
    return path


def test_allow_list_needs_case_known_target_and_a_reason(tmp_path):
    good = {"case": "B-X-001", "target": "silent", "reason": "a reason of twenty characters or more"}
    assert vac.load_allow(write(tmp_path / "a.json", {"allow": [good]})) == \
        {("B-X-001", "silent"): good["reason"]}
    for bad in (dict(good, target="nobody"), dict(good, reason="short"), {"case": "B-X-001"}):
        with pytest.raises(vac.SetupError, match="allow\\[0\\]"):
            vac.load_allow(write(tmp_path / "b.json", {"allow": [bad]}))
    with pytest.raises(vac.SetupError, match="expected"):
        vac.load_allow(write(tmp_path / "c.json", [good]))


def rows(verdict, allowed=None):
    return [{"case": "B-X-001", "role": "broker", "title": "t",
             "cells": {"silent": {"verdict": verdict, "passed_in": ["MBWS-binary"] if verdict == "pass" else [],
                                  "allowed": allowed, "reason": ""}}}]


def test_check_fails_on_an_unexplained_pass_and_on_a_stale_entry():
    assert "B-X-001 passes against the trivial broker 'silent'" in \
        vac.check_problems(rows("pass"), {}, {"silent"})[0]
    assert vac.check_problems(rows("pass", "why"), {("B-X-001", "silent"): "why"}, {"silent"}) == []
    assert vac.check_problems(rows("fail"), {}, {"silent"}) == []
    assert "stale" in vac.check_problems(rows("fail"), {("B-X-001", "silent"): "why"}, {"silent"})[0]


def test_markdown_counts_and_marks_unexplained_passes():
    md = vac.render_markdown(rows("pass"), {"silent"}, {}, 1.0)
    assert "1 case x target runs, 1 passes, 0 of them allow-listed, 1 not" in md
    assert "| B-X-001 | `silent` | **NOT ALLOWED** |" in md


def case_dir(tmp_path, *docs):
    d = tmp_path / "cases"
    d.mkdir()
    for name in ("schema.json", "requirements.json"):
        shutil.copy(ROOT / "cases" / name, d / name)
    for doc in docs:
        write(d / f"{doc['id']}.json", doc)
    return d


BASE = {"title": "t", "description": "d", "requirements": ["WS-2"], "section": "handshake",
        "subprotocols": ["MBWS.huawei.com"], "encodings": ["binary"]}
VACUOUS = dict(BASE, id="B-WS-901", steps=[{"connect": "main"}])
ALIVE = dict(BASE, id="B-WS-902", ignore=["FLOW"], steps=[
    {"connect": "main"}, {"open_session": True},
    {"send": "SUBSCRIBE", "fields": {"sub": 1, "address": "${addr}"}},
    {"send": "MESSAGE", "fields": {"seq": 1, "address": "${addr}"}, "body": "x"},
    {"expect": "MESSAGE", "fields": {"sub": 1}, "body": "x", "ignore": ["ACK", "FLOW"], "within_ms": 500}])
CLIENT = dict(BASE, id="C-WS-901", requirements=["WS-3"], steps=[
    {"accept": "main", "select": None}, {"expect_close": 1002, "within_ms": 2000}])


def run(tmp_path, cases, allow, *extra):
    allow_file = write(tmp_path / "allow.json", {"allow": allow})
    return subprocess.run(
        [PY, str(SCRIPT), "--check", "--peer", peer_binary(), "--cases", str(cases),
         "--allow", str(allow_file), "--out", str(tmp_path / "vacuity.md"),
         "--report-dir", str(tmp_path / "reports"), *extra],
        capture_output=True, text=True, timeout=300, env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))


def test_a_vacuous_case_is_caught_and_a_proof_of_life_bites(tmp_path):
    p = run(tmp_path, case_dir(tmp_path, VACUOUS, ALIVE), [])
    assert p.returncode == 1, p.stdout + p.stderr
    assert "B-WS-901 passes against the trivial broker 'silent'" in p.stderr
    assert "B-WS-902" not in p.stderr
    md = (tmp_path / "vacuity.md").read_text()
    assert "| B-WS-902 | fail | fail | fail | fail | fail |" in md


def test_allow_listed_passes_are_fine_and_clients_run(tmp_path):
    why = "the case only connects, which every trivial broker that accepts does"
    allow = [{"case": "B-WS-901", "target": t, "reason": why} for t in ("silent", "close1000", "connected", "yes")]
    allow.append({"case": "C-WS-901", "target": "close1002", "reason": "WS-3 asks for exactly this close"})
    p = run(tmp_path, case_dir(tmp_path, VACUOUS, CLIENT), allow)
    assert p.returncode == 0, p.stdout + p.stderr
    md = (tmp_path / "vacuity.md").read_text()
    assert "| C-WS-901 | error | error | pass (allowed) | fail |" in md
