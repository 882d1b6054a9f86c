"""Reports of one run, in <report-dir>/<run-id>/: results.json (format in
docs/report-format.md), junit.xml, index.html, matrix.html (several targets),
badge.svg; <report-dir>/latest points at the newest run."""

import json
import os
import re
import socket
import time
import xml.etree.ElementTree as ET
from collections import OrderedDict
from datetime import datetime, timezone
from pathlib import Path

import jinja2

from . import HARNESS_DIR, PROFILE, SUBPROTOCOLS, SUITE_VERSION, VERDICTS
from . import certificate, expected
from .messages import close_reason, reason_text, failure_message, step_text, wire_line, wire_text

FORMAT = "mbws-suite-results"
FORMAT_VERSION = 1
_ORDER = {"error": 0, "fail": 1, "warn": 2, "skip": 3, "pass": 4}
_SUB_ORDER = {s: i for i, s in enumerate(SUBPROTOCOLS)}  # MBWS before MBLWS


def anchor(rec):
    combo = f"{SUBPROTOCOLS.get(rec.get('subprotocol'), rec.get('subprotocol'))}-{rec.get('encoding')}"
    return re.sub(r"[^A-Za-z0-9_.-]", "_", f"{rec.get('target')}--{rec.get('case')}-{combo}")


def _counts():
    return OrderedDict((v, 0) for v in VERDICTS)


def _rate(c):
    """Share of decided executions that conform (pass, or warn: conforms
    with warnings)."""
    ok = c["pass"] + c.get("warn", 0)
    decided = ok + c["fail"] + c["error"]
    return round(100.0 * ok / decided, 1) if decided else None


def build_records(state, store, selected):
    """One record per selected execution, from the engine's result (or an
    error record when the engine gave none)."""
    records = []
    for ex in selected:
        rec = store.get(ex.key)
        case = ex.case
        if rec is None:
            inv = store.invocation_for(ex.target, ex.case_id)
            why = store.index.get("setup_error") or (inv and inv["error"]) or \
                "the engine reported no result for this execution"
            rec = {"verdict": "error", "reason": f"no result from the engine: {why}",
                   "failed_step": None, "duration_ms": None, "wire": []}
        out = OrderedDict()
        out["id"] = ex.test_id(state.several)
        out["target"] = ex.target
        out["case"] = ex.case_id
        out["title"] = rec.get("title") or case.title
        out["file"] = case.file or rec.get("file")
        out["section"] = rec.get("section") or case.section
        out["requirements"] = list(rec.get("requirements") or case.requirements)
        out["role"] = rec.get("role") or case.role
        out["subprotocol"] = ex.subprotocol
        out["encoding"] = ex.encoding
        out["combination"] = ex.combo
        verdict = rec.get("verdict")
        if verdict not in VERDICTS:
            out["verdict"] = "error"
            out["reason"] = f"the engine gave an unknown verdict {verdict!r}. {rec.get('reason') or ''}".strip()
        else:
            out["verdict"] = verdict
            out["reason"] = reason_text(rec.get("reason"))
        known = expected.find(getattr(state, "expected", []), ex.case_id, ex.subprotocol, ex.encoding)
        if known:  # a listed known deviation: xfail when it failed, xpass when it passed
            out["expected_failure"] = {"reason": known.reason, "listed_in": known.where,
                                       "outcome": {"fail": "xfail", "pass": "xpass",
                                                   "warn": "xpass"}.get(out["verdict"])}
        out["warnings"] = list(rec.get("warnings") or [])
        out["failed_step"] = rec.get("failed_step")
        out["duration_ms"] = rec.get("duration_ms")
        out["wire"] = rec.get("wire") or []
        if out["role"] == "client":
            out["client_exit"] = rec.get("client_exit")
            out["client_output"] = rec.get("client_output") or ""
        out["anchor"] = anchor(out)
        records.append(out)
    records.sort(key=lambda r: (_ORDER[r["verdict"]], _natural(r["case"]),
                                _SUB_ORDER.get(r["subprotocol"], 9), r["encoding"], r["target"]))
    return records


def summarize(records, state):
    total = _counts()
    by_section, by_req, by_target = OrderedDict(), OrderedDict(), OrderedDict()
    case_level = OrderedDict()  # (target, case) -> verdicts
    for r in records:
        total[r["verdict"]] += 1
        by_section.setdefault(r["section"], _counts())[r["verdict"]] += 1
        for req in r["requirements"]:
            by_req.setdefault(req, _counts())[r["verdict"]] += 1
        by_target.setdefault(r["target"], _counts())[r["verdict"]] += 1
        case_level.setdefault((r["target"], r["case"]), []).append(r["verdict"])

    def table(d, titles=None):
        out = OrderedDict()
        # Sections in profile order when their titles carry numbers ("8. Flow control").
        def order(k):
            t = titles(k) if titles else ""
            head = t.split(".", 1)[0] if t else ""
            return (int(head) if head.isdigit() else 999, _natural(k))
        for k in sorted(d, key=order if titles else _natural):
            c = d[k]
            row = OrderedDict(c)
            row["total"] = sum(c.values())
            row["pass_rate"] = _rate(c)
            if titles is not None:
                row["title"] = titles(k)
            out[k] = row
        return out

    cases = OrderedDict()
    for tname in by_target:
        cases[tname] = {"pass": 0, "warn": 0, "fail": 0, "skip": 0}
    for (tname, _), verdicts in case_level.items():
        if any(v in ("fail", "error") for v in verdicts):
            cases[tname]["fail"] += 1
        elif "warn" in verdicts:
            cases[tname]["warn"] += 1
        elif "pass" in verdicts:
            cases[tname]["pass"] += 1
        else:
            cases[tname]["skip"] += 1
    summary = OrderedDict(total)
    summary["total"] = len(records)
    for o in ("xfail", "xpass"):
        summary[o] = sum(1 for r in records if (r.get("expected_failure") or {}).get("outcome") == o)
    summary["pass_rate"] = _rate(total)
    summary["cases"] = {k: sum(c[k] for c in cases.values()) for k in ("pass", "warn", "fail", "skip")}
    summary["cases_by_target"] = cases
    summary["by_target"] = table(by_target)
    summary["by_section"] = table(by_section, lambda s: state.sections.get(s, s))
    summary["by_requirement"] = table(
        by_req, lambda q: (state.requirements.get(q) or {}).get("summary", ""))
    summary["skipped"], summary["not_exercised"] = skips(records)
    return summary


def main_requirement(case_id, requirements):
    """The requirement a case ID names (B-FLOW-103 -> FLOW-3), when the case
    cites it; else its first cited requirement."""
    m = re.match(r"^[BC]-([A-Z]+)-(\d+)$", case_id)
    req = m and f"{m.group(1)}-{int(m.group(2)[-2:])}"
    if req in requirements:
        return req
    return requirements[0] if requirements else ""


def skips(records):
    """Skips are findings (a certificate must not look complete when a rule
    was not exercised). Returns (skipped: one entry per target x skipped case,
    with its main requirement, combinations and reasons; not_exercised: per
    target, every requirement whose cited executions were all skipped)."""
    skipped, by_req = OrderedDict(), OrderedDict()
    for r in records:
        for req in r["requirements"]:
            by_req.setdefault((r["target"], req), []).append(r)
        if r["verdict"] != "skip":
            continue
        e = skipped.setdefault((r["target"], r["case"]), OrderedDict([
            ("target", r["target"]), ("case", r["case"]), ("title", r.get("title", "")),
            ("requirement", main_requirement(r["case"], r["requirements"])),
            ("requirements", r["requirements"]), ("combinations", []), ("reasons", [])]))
        e["combinations"].append(r.get("combination", ""))
        if r.get("reason") and r["reason"] not in e["reasons"]:
            e["reasons"].append(r["reason"])
    not_exercised = []
    for (target, req), recs in by_req.items():
        if all(r["verdict"] == "skip" for r in recs):
            not_exercised.append(OrderedDict([
                ("target", target), ("requirement", req),
                ("cases", sorted({r["case"] for r in recs}, key=_natural)),
                ("reasons", sorted({r["reason"] for r in recs if r.get("reason")}))]))
    order = lambda e: (_natural(e["requirement"]), e["target"], _natural(e.get("case", "")))  # noqa: E731
    return sorted(skipped.values(), key=order), sorted(not_exercised, key=order)


def skip_lines(summary, several):
    """Plain-text lines for the top of a summary: what was not exercised."""
    lines = []
    for e in summary.get("not_exercised", []):
        lines.append(f"{e['requirement']} NOT EXERCISED{' @' + e['target'] if several else ''}: every "
                     f"case citing it skipped ({', '.join(e['cases'])}): {'; '.join(e['reasons'])}")
    for e in summary.get("skipped", []):
        lines.append(f"{e['requirement']} not exercised by {e['case']} [{', '.join(e['combinations'])}]"
                     f"{' @' + e['target'] if several else ''}: {'; '.join(e['reasons']) or 'skipped'}")
    return lines


def _natural(s):
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", str(s))]


def _valgrind_section(state):
    if not state.config.option.valgrind:
        return {"enabled": False}
    path = state.run_dir / "valgrind.json"
    logs = json.loads(path.read_text()) if path.exists() else []
    return {"enabled": True, "errors": sum(e["errors"] or 0 for e in logs),
            "processes": len(logs),
            "logs": [dict(e, log=os.path.relpath(e["log"], state.run_dir)) for e in logs]}


def results_document(state, store, records, summary):
    finished = time.time()
    return OrderedDict([
        ("format", FORMAT), ("format_version", FORMAT_VERSION),
        ("suite_version", SUITE_VERSION), ("profile", PROFILE),
        ("run_id", state.run_dir.name),
        ("started", _iso(state.started)), ("finished", _iso(finished)),
        ("duration_s", round(finished - state.started, 3)),
        ("host", socket.gethostname()),
        ("engine", OrderedDict([("path", str(state.peer))] + list(store.meta.items()))),
        ("targets", [OrderedDict([("name", t.name),
                                  ("broker_url", state.broker_urls.get(t.name) if t.broker_url else None),
                                  ("bundled_broker", t.broker_url == "bundled"),
                                  ("client_cmd", t.client_cmd),
                                  ("bundled_client", t.bundled_client),
                                  ("broker_tls", store.tls.get((t.name, "broker"))),
                                  ("client_tls", store.tls.get((t.name, "client")))])
                     for t in state.targets]),
        ("started_broker", _started_section(state)),
        ("expected_failures", state.config.option.expected_failures),
        ("selection", {"sections": state.config.option.sections or [],
                       "requirements": state.config.option.reqs or [],
                       "excluded": state.config.option.exclude or [],
                       "keyword": state.config.option.keyword or "",
                       "markexpr": state.config.option.markexpr or ""}),
        ("engine_problems", [{"invocation": i["id"], "target": i["target"], "role": i["role"],
                              "exit": i["exit"], "error": i["error"],
                              "stderr_tail": i.get("stderr_tail", [])} for i in store.problems]
         + ([{"invocation": None, "error": store.index["setup_error"]}]
            if store.index.get("setup_error") else [])),
        ("valgrind", _valgrind_section(state)),
        ("summary", summary),
        ("results", [OrderedDict((k, v) for k, v in r.items() if k != "anchor") for r in records]),
    ])


def _started_section(state):
    b = getattr(state, "started_broker", None)
    if b is None:
        return None
    return OrderedDict([("command", b.cmd), ("url", b.url),
                        ("log", os.path.relpath(b.log_path, state.run_dir)),
                        ("exit_status", b.exit_status)])


def write_not_run(run_dir, why, config=None, state=None, targets=None):
    """The reports of a run that executed nothing (bad option, unreachable
    target, empty selection): results.json with "not_run", index.html,
    junit.xml with one error, a grey badge. CI artifacts are never empty."""
    run_dir.mkdir(parents=True, exist_ok=True)
    now = _iso(time.time())
    if targets is None and state is not None:
        targets = [{"name": t.name, "broker_url": t.broker_url, "client_cmd": t.client_cmd}
                   for t in state.targets]
    if targets is None:
        opt = config.option
        targets = [{"name": opt.target_name or "target", "broker_url": opt.target_url,
                    "client_cmd": opt.client_cmd}]
    targets = [OrderedDict(t, bundled_broker=t["broker_url"] == "bundled",
                           bundled_client=False) for t in targets]
    opt = config.option if config else None
    doc = OrderedDict([
        ("format", FORMAT), ("format_version", FORMAT_VERSION),
        ("suite_version", SUITE_VERSION), ("profile", PROFILE), ("run_id", run_dir.name),
        ("started", now), ("finished", now), ("duration_s", 0), ("host", socket.gethostname()),
        ("not_run", why),
        ("engine", {"path": str(state.peer) if state else ""}),
        ("targets", targets),
        ("selection", {"sections": (opt and opt.sections) or [], "requirements": (opt and opt.reqs) or [],
                       "excluded": (opt and opt.exclude) or [], "keyword": (opt and opt.keyword) or "",
                       "markexpr": (opt and opt.markexpr) or ""}),
        ("engine_problems", []), ("valgrind", {"enabled": False}),
        ("started_broker", _started_section(state) if state else None),
        ("summary", dict(_counts(), total=0, pass_rate=None, xfail=0, xpass=0,
                         cases={"pass": 0, "warn": 0, "fail": 0, "skip": 0}, cases_by_target={},
                         skipped=[], not_exercised=[],
                         by_target={}, by_section={}, by_requirement={})),
        ("results", []),
    ])
    (run_dir / "results.json").write_text(json.dumps(doc, indent=1, ensure_ascii=False), encoding="utf-8")
    root = ET.Element("testsuites", name=f"MBWS profile {PROFILE} conformance", tests="1",
                      failures="0", errors="1", skipped="0")
    suite = ET.SubElement(root, "testsuite", name="mbws", tests="1", failures="0", errors="1",
                          skipped="0", timestamp=now, hostname=doc["host"], time="0")
    tc = ET.SubElement(suite, "testcase", classname="mbws", name="conformance run", time="0")
    ET.SubElement(tc, "error", message=_x(why.splitlines()[0][:500]), type="not-run").text = _x(why)
    ET.ElementTree(root).write(run_dir / "junit.xml", encoding="utf-8", xml_declaration=True)
    env = _env()
    (run_dir / "badge.svg").write_text(badge_svg(env, f"MBWS profile {PROFILE}", "not run", "#9f9f9f"),
                                       encoding="utf-8")
    (run_dir / "index.html").write_text(env.get_template("not_run.html.j2").render(doc=doc),
                                        encoding="utf-8")
    _point_latest(run_dir)


def _iso(t):
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _x(s):
    return _XML_BAD.sub("?", str(s))


def write_junit(doc, path):
    """JUnit XML: one <testsuite> per target, one <testcase> per execution."""
    root = ET.Element("testsuites", name=f"MBWS profile {PROFILE} conformance")
    by_target = OrderedDict()
    for r in doc["results"]:
        by_target.setdefault(r["target"], []).append(r)
    totals = _counts()
    for tname, recs in by_target.items():
        c = _counts()
        for r in recs:
            c[r["verdict"]] += 1
            totals[r["verdict"]] += 1
        suite = ET.SubElement(root, "testsuite", name=f"mbws.{tname}", tests=str(len(recs)),
                              failures=str(c["fail"]), errors=str(c["error"]),
                              skipped=str(c["skip"]), timestamp=doc["started"],
                              hostname=doc["host"],
                              time=f"{sum((r['duration_ms'] or 0) for r in recs) / 1000.0:.3f}")
        props = ET.SubElement(suite, "properties")
        for t in doc["targets"]:
            if t["name"] == tname:
                for k in ("broker_url", "client_cmd"):
                    if t[k]:
                        ET.SubElement(props, "property", name=k, value=_x(t[k]))
        for r in sorted(recs, key=lambda r: (_natural(r["case"]), _SUB_ORDER.get(r["subprotocol"], 9),
                                             r["encoding"])):
            tc = ET.SubElement(suite, "testcase", classname=f"mbws.{tname}.{r['section']}",
                               name=f"{r['case']}[{r['combination']}]", file=r["file"],
                               time=f"{(r['duration_ms'] or 0) / 1000.0:.3f}")
            p = ET.SubElement(tc, "properties")
            for req in r["requirements"]:
                ET.SubElement(p, "property", name="requirement", value=req)
            if r["verdict"] in ("fail", "error"):
                first = r["reason"] or (step_text(r["failed_step"]).splitlines() or [r["verdict"]])[0]
                el = ET.SubElement(tc, "failure" if r["verdict"] == "fail" else "error",
                                   message=_x(first[:500]), type=r["verdict"])
                el.text = _x(failure_message(r, tname, tail=40))
            elif r["verdict"] == "skip":
                ET.SubElement(tc, "skipped", message=_x(r["reason"] or "skipped"))
            elif r["verdict"] == "warn":  # JUnit has no warning: a pass, with the warnings shown
                for w in r["warnings"]:
                    ET.SubElement(p, "property", name="warning",
                                  value=_x(f"{w.get('clause')} (non-strict) at {w.get('path')}: {w.get('text')}"))
                ET.SubElement(tc, "system-err").text = _x(r["reason"])
            if r["wire"]:
                ET.SubElement(tc, "system-out").text = _x(wire_text(r["wire"]))
    root.set("tests", str(sum(totals.values())))
    root.set("failures", str(totals["fail"]))
    root.set("errors", str(totals["error"]))
    root.set("skipped", str(totals["skip"]))
    root.set("warnings", str(totals["warn"]))
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


def _env():
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(HARNESS_DIR / "templates")),
                             autoescape=jinja2.select_autoescape(["html", "svg", "j2"]),
                             trim_blocks=True, lstrip_blocks=True)
    env.filters["wire_line"] = wire_line
    env.filters["step_text"] = step_text
    env.filters["pct"] = lambda v: "n/a" if v is None else f"{v:g}%"
    return env


def badge_svg(env, label, message, color):
    def width(s):  # Verdana 11px, about 6.5 px per character, plus padding
        return int(len(s) * 6.5 + 12)
    lw, mw = width(label), width(message)
    return env.get_template("badge.svg.j2").render(label=label, message=message, color=color,
                                                   lw=lw, mw=mw, w=lw + mw)


def badge_for(cases):
    ok = cases["pass"] + cases.get("warn", 0)
    decided = ok + cases["fail"]
    if decided == 0:
        return "no cases", "#9f9f9f"
    color = "#4c1" if cases["fail"] == 0 else ("#dfb317" if ok >= 0.9 * decided else "#e05d44")
    warn = f" ({cases['warn']} warn)" if cases.get("warn") else ""
    return f"{ok}/{decided}{warn}", color


def write_all(state, store, selected):
    """Write every report file; returns ({kind: path}, summary)."""
    run_dir = state.run_dir
    run_dir.mkdir(parents=True, exist_ok=True)
    records = build_records(state, store, selected)
    summary = summarize(records, state)
    doc = results_document(state, store, records, summary)
    doc["certificate"] = certificate.build(doc, records, state)
    paths = OrderedDict()
    paths["results"] = run_dir / "results.json"
    paths["results"].write_text(json.dumps(doc, indent=1, ensure_ascii=False), encoding="utf-8")
    paths["junit"] = run_dir / "junit.xml"
    write_junit(doc, paths["junit"])
    env = _env()
    label = f"MBWS profile {PROFILE}"
    paths["badge"] = run_dir / "badge.svg"
    msg, color = badge_for(summary["cases"])
    paths["badge"].write_text(badge_svg(env, label, msg, color), encoding="utf-8")
    badges = {}
    if state.several:
        for tname, c in summary["cases_by_target"].items():
            m, col = badge_for(c)
            p = run_dir / f"badge-{tname}.svg"
            p.write_text(badge_svg(env, f"{label} {tname}", m, col), encoding="utf-8")
            badges[tname] = p.name
    ctx = dict(doc=doc, summary=summary, records=records, several=state.several,
               badge=paths["badge"].read_text(encoding="utf-8"), badges=badges,
               skip_lines=skip_lines(summary, state.several),
               verdicts=VERDICTS, sections=sorted({r["section"] for r in records}, key=_natural),
               targets=[t["name"] for t in doc["targets"]])
    if state.several:
        paths["matrix"] = run_dir / "matrix.html"
        paths["matrix"].write_text(env.get_template("matrix.html.j2").render(
            rows=matrix_rows(records), **ctx), encoding="utf-8")
    write_wire_files(run_dir, records)
    paths["html"] = run_dir / "index.html"
    paths["html"].write_text(env.get_template("index.html.j2").render(**ctx), encoding="utf-8")
    _point_latest(run_dir)
    return paths, summary


def matrix_rows(records):
    """One row per case x combination, one cell (record) per target."""
    rows = OrderedDict()
    for r in sorted(records, key=lambda r: (_natural(r["case"]), _SUB_ORDER.get(r["subprotocol"], 9),
                                            r["encoding"])):
        row = rows.setdefault((r["case"], r["combination"]),
                              {"case": r["case"], "combination": r["combination"],
                               "title": r["title"], "section": r["section"], "cells": {}})
        row["cells"][r["target"]] = r
    return list(rows.values())


def write_wire_files(run_dir, records):
    """wire/<anchor>.js per execution, loaded by index.html when a record is
    opened (a <script> works from file:// where fetch() does not), so the
    page itself stays small however long the wire logs are."""
    wdir = run_dir / "wire"
    wdir.mkdir(exist_ok=True)
    for r in records:
        if not (r["wire"] or r.get("client_output")):
            continue
        rows = []
        for e in r["wire"]:
            e = dict(e)
            if e.get("opcode") == "close" and e.get("close_code") is not None:
                e["close_reason"] = close_reason(e)
            rows.append(e)
        body = json.dumps(rows, ensure_ascii=True, separators=(",", ":")).replace("</", "<\\/")
        client = json.dumps({"exit": r.get("client_exit"), "output": r.get("client_output")}
                            if r.get("client_output") else None).replace("</", "<\\/")
        (wdir / f"{r['anchor']}.js").write_text(
            f"mbwsWire({json.dumps(r['anchor'])},{body},{client});\n", encoding="utf-8")


def _point_latest(run_dir):
    latest = run_dir.parent / "latest"
    tmp = run_dir.parent / f".latest-{os.getpid()}"
    try:
        if tmp.is_symlink() or tmp.exists():
            tmp.unlink()
        tmp.symlink_to(run_dir.name)
        os.replace(tmp, latest)
    except OSError:
        pass


def terminal_summary(tr, state):
    s = state.summary
    tr.write_sep("=", f"MBWS profile {PROFILE} conformance summary")
    for t in state.targets:
        tr.write_line(f"target {t.name}: {t.describe(state.broker_urls.get(t.name))}")
    rate = s["pass_rate"]
    for line in skip_lines(s, state.several):
        tr.write_line(line, yellow=True)
    tr.write_line(f"executions: {s['total']}   pass {s['pass']}   warn {s['warn']}   fail {s['fail']}   "
                  f"error {s['error']}   skip {s['skip']}   "
                  f"(pass rate {'n/a' if rate is None else f'{rate:g}%'} of decided)")
    for tname, c in s["cases_by_target"].items():
        tr.write_line(f"cases ({tname}): {c['pass']} passed, {c['warn']} passed with warnings, "
                      f"{c['fail']} failed, {c['skip']} skipped only")
    tr.write_line(f"{'section':<14}{'pass':>6}{'warn':>6}{'fail':>6}{'error':>7}{'skip':>6}{'rate':>8}")
    for sec, row in s["by_section"].items():
        r = "n/a" if row["pass_rate"] is None else f"{row['pass_rate']:g}%"
        tr.write_line(f"{sec:<14}{row['pass']:>6}{row['warn']:>6}{row['fail']:>6}{row['error']:>7}"
                      f"{row['skip']:>6}{r:>8}",
                      red=bool(row["fail"] or row["error"]), yellow=bool(row["warn"]))
    if s["warn"]:
        tr.write_line(f"{s['warn']} execution(s) passed with warnings (a SHOULD or a project reading "
                      "did not hold; --strict makes them failures)", yellow=True)
    vg = _valgrind_section(state)
    if vg["enabled"]:
        tr.write_line(f"valgrind: {vg['errors']} error(s) in {vg['processes']} process log(s)",
                      red=bool(vg["errors"]))
    p = state.report_paths
    tr.write_line(f"report: {p['html']}")
    if "matrix" in p:
        tr.write_line(f"interop matrix: {p['matrix']}")
    tr.write_line(f"results: {p['results']}   junit: {p['junit']}   badge: {p['badge']}")
