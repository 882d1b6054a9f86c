"""mbws-suite --merge: one interop matrix (matrix.html, results.json) from the
results of runs made elsewhere (vendors certify in their own CI). Refuses to
mix profile revisions, suite versions or result formats, saying which input
has which; keeps each run's target identity, date and suite commit."""

import argparse
import json
import os
import sys
import time
from collections import OrderedDict
from pathlib import Path

from . import DEFAULT_REPORT_DIR, REPO_DIR
from .cases import load_requirements


class MergeError(Exception):
    """An input is missing or unreadable, or the inputs do not belong together."""


def _load(arg):
    path = Path(arg)
    if path.is_dir():
        path = path / "results.json"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise MergeError(f"{arg}: cannot read {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise MergeError(f"{path}: not JSON: {exc}") from None
    if not isinstance(doc, dict) or doc.get("format") != "mbws-suite-results":
        raise MergeError(f"{path}: not an mbws-suite results.json")
    if doc.get("not_run"):
        raise MergeError(f"{path}: that run executed nothing ({doc['not_run'].splitlines()[0]})")
    return path, doc


def _identity(doc):
    cert = doc.get("certificate") or {}
    return OrderedDict([("format_version", doc.get("format_version")),
                        ("profile", doc.get("profile")),
                        ("profile revision", cert.get("profile_revision")),
                        ("suite version", doc.get("suite_version"))])


def check_compatible(loaded):
    """MergeError naming, for each differing property, the value of every input."""
    problems = []
    idents = [(p, _identity(d)) for p, d in loaded]
    for key in idents[0][1]:
        values = OrderedDict()
        for p, ident in idents:
            values.setdefault(ident[key], []).append(str(p))
        if len(values) > 1:
            problems.append(f"different {key}s: " + "; ".join(
                f"{v if v is not None else 'unknown'} in {', '.join(ps)}" for v, ps in values.items()))
    if problems:
        raise MergeError("refusing to merge runs that are not comparable:\n  " + "\n  ".join(problems))


class _Reqs:
    """What report.summarize needs: section titles and requirement summaries."""
    def __init__(self):
        self.sections, self.requirements = load_requirements(REPO_DIR / "cases")


def merge(loaded, out_dir):
    """The merged results document (also written to out_dir)."""
    from . import report
    check_compatible(loaded)
    used, targets, records, origins, cert_targets = set(), [], [], OrderedDict(), []
    for path, doc in loaded:
        cert = doc.get("certificate") or {}
        by_name = {t["name"]: t for t in cert.get("targets", [])}
        for t in doc["targets"]:
            name, n = t["name"], 1
            while name in used:  # the same name from two runs: keep both, apart
                n += 1
                name = f"{t['name']}.{n}"
            used.add(name)
            origin = OrderedDict([("results", str(path)), ("run_id", doc.get("run_id")),
                                  ("date", doc.get("finished") or doc.get("started")),
                                  ("host", doc.get("host")),
                                  ("suite_commit", cert.get("suite_commit")),
                                  ("name_in_run", t["name"])])
            origins[name] = origin
            targets.append(OrderedDict(t, name=name, origin=origin))
            ct = by_name.get(t["name"])
            if ct:
                cert_targets.append(OrderedDict(ct, name=name, origin=origin))
            for r in doc["results"]:
                if r["target"] == t["name"]:
                    rec = OrderedDict(r, target=name)
                    rec["id"] = f"{r['case']}-{r['combination']}@{name}"
                    rec["anchor"] = report.anchor(dict(r))  # the anchor in the run's own report
                    rec["report"] = str(Path(path).parent / "index.html")
                    records.append(rec)
    first = loaded[0][1]
    summary = report.summarize(records, _Reqs())
    now = time.time()
    merged = OrderedDict([
        ("format", "mbws-suite-results"), ("format_version", first["format_version"]),
        ("suite_version", first["suite_version"]), ("profile", first["profile"]),
        ("run_id", out_dir.name),
        ("started", min(d.get("started", "") for _, d in loaded)),
        ("finished", max(d.get("finished", "") for _, d in loaded)),
        ("duration_s", 0), ("host", "merged"),
        ("merged_from", [OrderedDict([("results", str(p)), ("run_id", d.get("run_id")),
                                      ("started", d.get("started")), ("finished", d.get("finished")),
                                      ("host", d.get("host")),
                                      ("suite_commit", (d.get("certificate") or {}).get("suite_commit")),
                                      ("targets", [t["name"] for t in d["targets"]])])
                         for p, d in loaded]),
        ("merged_at", report._iso(now)),
        ("engine", {"path": "", "merged": True}),
        ("targets", targets),
        ("selection", {"sections": [], "requirements": [], "keyword": "", "markexpr": ""}),
        ("engine_problems", [p for _, d in loaded for p in d.get("engine_problems", [])]),
        ("valgrind", {"enabled": False}),
        ("certificate", OrderedDict([("profile", first["profile"]),
                                     ("profile_revision", _identity(first)["profile revision"]),
                                     ("suite_version", first["suite_version"]),
                                     ("targets", cert_targets)])),
        ("summary", summary),
        ("results", [OrderedDict((k, v) for k, v in r.items() if k != "anchor") for r in records]),
    ])
    return merged, records


def write(merged, records, out_dir):
    from . import report
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.json").write_text(json.dumps(merged, indent=1, ensure_ascii=False),
                                          encoding="utf-8")
    rows = report.matrix_rows(records)
    for row in rows:
        for r in row["cells"].values():
            r["href"] = os.path.relpath(r["report"], out_dir) + "#" + r["anchor"]
    env = report._env()
    html = env.get_template("matrix.html.j2").render(
        doc=merged, rows=rows, targets=[t["name"] for t in merged["targets"]],
        summary=merged["summary"], badges={}, origins={t["name"]: t["origin"] for t in merged["targets"]},
        merged=True)
    (out_dir / "matrix.html").write_text(html, encoding="utf-8")
    return out_dir / "matrix.html"


def main(argv):
    ap = argparse.ArgumentParser(prog="mbws-suite --merge",
                                 description="Build matrix.html and a merged results.json from "
                                             "the results of separate runs (run directories or "
                                             "results.json files).")
    ap.add_argument("inputs", nargs="+", metavar="RUN_DIR_OR_RESULTS_JSON")
    ap.add_argument("--out", metavar="DIR",
                    help="output directory (default: reports/merged-<timestamp>)")
    opts = ap.parse_args(argv)
    out = Path(opts.out) if opts.out else Path(DEFAULT_REPORT_DIR) / time.strftime("merged-%Y%m%d-%H%M%S")
    try:
        loaded = [_load(a) for a in opts.inputs]
        if len(loaded) < 2:
            raise MergeError("--merge needs at least two runs")
        merged, records = merge(loaded, out)
    except MergeError as exc:
        sys.stderr.write(f"mbws-suite --merge: {exc}\n")
        return 4
    path = write(merged, records, out)
    s = merged["summary"]
    sys.stdout.write(f"merged {len(loaded)} runs, {len(merged['targets'])} targets, "
                     f"{s['total']} executions\ninterop matrix: {path}\nresults: {out / 'results.json'}\n")
    return 0
