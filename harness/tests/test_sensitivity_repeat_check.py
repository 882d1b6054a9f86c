"""harness/repeat_check.py: the comparison of several runs' verdicts."""
import importlib.util
from pathlib import Path

import harness_support  # noqa: F401  harness/ first on sys.path, as when the script runs

_spec = importlib.util.spec_from_file_location(
    "repeat_check", Path(__file__).resolve().parent.parent / "repeat_check.py")
rc = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(rc)


def test_identical_passes_and_steady_skips_are_fine():
    run = {"B-A-001-MBWS-binary": ("pass", ""), "B-A-002-MBWS-text": ("skip", "could not provoke")}
    problems, skips = rc.compare([dict(run), dict(run), dict(run)])
    assert problems == []
    assert skips == ["B-A-002-MBWS-text: could not provoke"]


def test_reasons_may_differ_but_verdicts_may_not():
    a = {"B-A-001-MBWS-binary": ("fail", "address x1"), "B-A-002-MBWS-binary": ("pass", "")}
    b = {"B-A-001-MBWS-binary": ("fail", "address x2"), "B-A-002-MBWS-binary": ("skip", "flaky")}
    problems, skips = rc.compare([a, b])
    assert skips == []
    assert any(p.startswith("B-A-001-MBWS-binary: fail in every run") for p in problems)
    assert any(p.startswith("B-A-002-MBWS-binary: verdicts differ between runs: run 1 pass, run 2 skip")
               for p in problems)


def test_missing_execution_and_errors_are_problems():
    a = {"B-A-001-MBWS-binary": ("error", "timeout"), "C-B-001-MBWS-text": ("pass", "")}
    b = {"B-A-001-MBWS-binary": ("error", "timeout")}
    problems, _ = rc.compare([a, b])
    assert "C-B-001-MBWS-text: missing from run(s) 2" in problems
    assert any(p.startswith("B-A-001-MBWS-binary: error in every run") for p in problems)
