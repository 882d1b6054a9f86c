"""mbws-suite --merge: an interop matrix from three runs made in separate
directories (as in three vendors' CI), refusing runs that are not comparable."""
import json
import subprocess

from harness_support import SUITE, run_suite


def merge(*args, cwd):
    return subprocess.run([str(SUITE), "--merge", *map(str, args)], capture_output=True,
                          text=True, timeout=120, cwd=str(cwd))


def three_runs(tmp_path):
    runs = []
    for name, k in (("alpha", "B-FLOW"), ("beta", "B-FLOW or B-ERR"), ("gamma", "B-FLOW-00")):
        d = tmp_path / name
        d.mkdir()
        run = run_suite(d, "--run-id", f"run-{name}", "-k", k)
        assert run.rc in (0, 1), run.out
        runs.append(run.run_dir)
    return runs


def test_merge_three_runs_from_separate_directories(tmp_path):
    a, b, c = three_runs(tmp_path)
    out = tmp_path / "merged"
    proc = merge(a, b / "results.json", c, "--out", out, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = json.loads((out / "results.json").read_text())
    names = [t["name"] for t in doc["targets"]]
    # all three runs named their target "reference": each keeps its own column
    assert names == ["reference", "reference.2", "reference.3"]
    assert [t["origin"]["run_id"] for t in doc["targets"]] == ["run-alpha", "run-beta", "run-gamma"]
    assert all(t["origin"]["date"] and t["origin"]["suite_commit"] for t in doc["targets"])
    assert [m["run_id"] for m in doc["merged_from"]] == ["run-alpha", "run-beta", "run-gamma"]
    assert len(doc["certificate"]["targets"]) == 3
    assert doc["summary"]["total"] == sum(len(json.loads((d / "results.json").read_text())["results"])
                                          for d in (a, b, c))
    html = (out / "matrix.html").read_text()
    assert 'id="diffonly"' in html and "diff-differs" in html and "diff-same" in html
    # cells link to the execution in its own run's report
    assert "../alpha/reports/run-alpha/index.html#reference--B-FLOW-003-MBWS-binary" in html
    assert "fake broker 1.0" in html


def test_merge_refuses_other_suite_versions_or_profile_revisions(tmp_path):
    a, b, c = three_runs(tmp_path)
    doc = json.loads((b / "results.json").read_text())
    doc["suite_version"] = "9.9.9"
    doc["certificate"]["profile_revision"] = 3
    (b / "results.json").write_text(json.dumps(doc))
    proc = merge(a, b, c, "--out", tmp_path / "m", cwd=tmp_path)
    assert proc.returncode == 4
    assert "different suite versions: 0.1.0 in" in proc.stderr and "9.9.9 in" in proc.stderr
    assert "different profile revisions: 4 in" in proc.stderr and "3 in" in proc.stderr
    assert str(b / "results.json") in proc.stderr
    assert not (tmp_path / "m").exists()


def test_merge_rejects_unreadable_or_empty_inputs(tmp_path):
    (tmp_path / "x.json").write_text("{}")
    proc = merge(tmp_path / "x.json", tmp_path / "nope", cwd=tmp_path)
    assert proc.returncode == 4 and "not an mbws-suite results.json" in proc.stderr


def test_differences_only_view_in_chromium(tmp_path):
    import os
    import re
    import pytest
    from harness_support import CHROMIUM, chromium
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip("no /usr/bin/chromium")
    a, b, c = three_runs(tmp_path)
    out = tmp_path / "merged"
    assert merge(a, b, c, "--out", out, cwd=tmp_path).returncode == 0
    dom = chromium((out / "matrix.html").as_uri() + "?diff=1", "--dump-dom",
                   "--virtual-time-budget=3000").stdout
    same = re.findall(r'<tr class="diff-same( hide-same)?"', dom)
    differs = re.findall(r'<tr class="diff-differs"', dom)
    assert same and all(h for h in same), "rows with one verdict everywhere are not hidden"
    assert differs and re.search(r'id="diffcount">\d+ of \d+ rows differ<', dom)
