#!/usr/bin/python3
"""Vacuity of the conformance suite: can a case pass against a target that
does nothing relevant?

Runs every case against trivial stand-in targets (harness/tests/trivial/:
brokers that stay silent after the handshake, close with 1000 at once,
refuse the upgrade, answer CONNECTED and then nothing, or say yes to
everything and never err nor deliver; clients that exit 0 or 1 at once,
close with 1002 at once, or CONNECT and SUBSCRIBE and then do nothing). A
case that *passes* against one of them checks nothing there, unless the
allow-list (harness/vacuity-allow.json) names that case and target with the
reason the trivial behaviour honestly satisfies it. `fail`, `error` and
`skip` are fine: the case did not certify the trivial target.

Uses the harness's engine runner (mbws_harness.engine.execute): one engine
invocation per trivial target, all concurrently. By default each case runs
in one combination (MBWS-binary when it lists it, else its first): the
trivial targets behave alike in every combination; --all-combos runs all.
Writes docs/vacuity.md (not with a --case/--target selection unless --out
is given) and reports/vacuity/<run-id>/vacuity.json.

exit status: 0 done (with --check: no case passes a trivial target without
an allow-listed reason), 1 with --check otherwise, 2 bad usage or setup.
"""
import argparse
import datetime
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

# Run as a script, Python puts this file's directory (harness/) first on
# sys.path, so the package beside it imports as is (docs/architecture.md).
from mbws_harness import SUBPROTOCOLS, engine
from mbws_harness.cases import CaseError, Execution, load_cases
from mbws_harness.targets import Target, TargetError, find_peer

HARNESS = Path(__file__).resolve().parent
ROOT = HARNESS.parent

TRIVIAL = HARNESS / "tests" / "trivial"
PY = "/usr/bin/python3"
ALLOW = HARNESS / "vacuity-allow.json"
# (name, role, what it does): the broker's name is its URL path, the
# client's is its mode argument.
TARGETS = (
    ("silent", "broker", "completes the handshake, then sends nothing (answers Pings, echoes a Close)"),
    ("close1000", "broker", "completes the handshake and closes with 1000 at once"),
    ("refuse", "broker", "refuses the upgrade (HTTP 400)"),
    ("connected", "broker", "answers CONNECT with CONNECTED, then nothing"),
    ("yes", "broker", "answers CONNECTED, ACKs every MESSAGE and raises the limit, answers "
                      "DISCONNECT; never sends ERROR, never delivers"),
    ("exit0", "client", "exits with status 0 at once"),
    ("exit1", "client", "exits with status 1 at once"),
    ("close1002", "client", "completes the handshake and closes with 1002 at once"),
    ("subscribe", "client", "sends CONNECT and SUBSCRIBE, then nothing"),
)


class SetupError(Exception):
    pass


def load_allow(path):
    """{(case, target): reason} from the allow-list, validated."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SetupError(f"{path}: {exc}") from None
    names = {t[0] for t in TARGETS}
    out = {}
    entries = doc.get("allow") if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        raise SetupError(f"{path}: expected {{\"allow\": [{{case, target, reason}}, ...]}}")
    for i, e in enumerate(entries):
        if not (isinstance(e, dict) and isinstance(e.get("case"), str)
                and e.get("target") in names and isinstance(e.get("reason"), str)
                and len(e["reason"].strip()) >= 20):
            raise SetupError(f"{path}: allow[{i}] needs case, target (one of "
                             f"{', '.join(sorted(names))}) and a reason of 20+ characters: {e!r}")
        out[(e["case"], e["target"])] = e["reason"].strip()
    return out


def one_combination(case):
    combos = case.combinations()
    return [("MBWS.huawei.com", "binary")] if ("MBWS.huawei.com", "binary") in combos else combos[:1]


class TrivialBroker:
    """The trivial broker process (every broker mode, by URL path)."""

    def __init__(self, log_path):
        self.log = open(log_path, "w", encoding="utf-8")
        self.proc = subprocess.Popen([PY, str(TRIVIAL / "trivial_broker.py")], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("PORT "):
            self.stop()
            raise SetupError(f"the trivial broker did not start (printed {line!r}); see {log_path}")
        self.url = f"ws://127.0.0.1:{int(line.split()[1])}"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()


def run(peer, cases, names, all_combos, run_dir, jobs, case_timeout_ms, log):
    """Every case of a role against each selected trivial target of that
    role, through the harness's engine runner (one engine.execute per role,
    both at once: broker cases mostly wait on timers, client cases start a
    process each, so each role gets its own concurrency budget)."""
    broker = None
    try:
        if any(role == "broker" for n, role, _ in TARGETS if n in names):
            broker = TrivialBroker(run_dir / "trivial-broker.log")
        plans = {}
        for name, role, _ in TARGETS:
            if name not in names:
                continue
            if role == "broker":
                t = Target(name, broker_url=f"{broker.url}/{name}")
            elif name in ("exit0", "exit1"):
                t = Target(name, client_cmd=f"exit {name[-1]}")
            else:
                t = Target(name, client_cmd=f"{PY} {TRIVIAL / 'trivial_client.py'} {name}")
            targets, executions = plans.setdefault(role, ([], []))
            targets.append(t)
            for c in cases:
                if c.role == role:
                    for s, e in (c.combinations() if all_combos else one_combination(c)):
                        executions.append(Execution(name, c, c.id, s, e))
        total = sum(len(ex) for _, ex in plans.values())
        progress = engine.Progress(total, log, tty=False, verbose=False)
        budget = {"broker": jobs, "client": max(1, jobs // 3)}
        log(f"vacuity: {total} executions against {len(names)} trivial targets, engine --jobs "
            + ", ".join(f"{budget[r]} ({r}s)" for r in plans) + "\n")
        threads = [threading.Thread(target=engine.execute, args=(
            engine.plan(ex, tg), [str(peer)], None,
            {t.name: t.broker_url for t in tg if t.broker_url}, run_dir / role, budget[role],
            case_timeout_ms, progress)) for role, (tg, ex) in plans.items()]
        for th in threads:
            th.start()
        try:
            for th in threads:
                th.join()
        except BaseException:  # Ctrl-C reaches this thread: stop the engines by process group
            engine.stop_all()
            raise
    finally:
        if broker:
            broker.stop()
    records, problems = {}, []
    for role in plans:
        store = engine.ResultStore(run_dir / role)
        records.update(store.records)
        problems += [f"engine invocation {p['id']}: {p['error']}" for p in store.problems]
    return records, problems


def classify(records, cases, names, allow):
    """rows: one per case with a verdict per target of its role."""
    by_case = {}
    for (target, case, sub, enc), rec in records.items():
        by_case.setdefault(case, {}).setdefault(target, []).append(
            (rec.get("verdict"), f"{SUBPROTOCOLS.get(sub, sub)}-{enc}", rec.get("reason", "")))
    rows = []
    for c in sorted(cases, key=lambda c: c.id):
        cells = {}
        for name, role, _ in TARGETS:
            if name not in names or role != c.role:
                continue
            got = by_case.get(c.id, {}).get(name, [])
            verdicts = {v for v, _, _ in got}
            passed = [combo for v, combo, _ in got if v in ("pass", "warn")]  # warn: passed
            verdict = ("pass" if passed else "fail" if "fail" in verdicts else
                       "error" if "error" in verdicts or not got else "skip")
            cells[name] = {"verdict": verdict, "passed_in": passed,
                           "allowed": allow.get((c.id, name)) if passed else None,
                           "reason": next((r for v, _, r in got if v == verdict), "")}
        rows.append({"case": c.id, "role": c.role, "title": c.title, "cells": cells})
    return rows


def check_problems(rows, allow, names):
    out = []
    for r in rows:
        for name, cell in r["cells"].items():
            if cell["verdict"] == "pass" and not cell["allowed"]:
                out.append(f"{r['case']} passes against the trivial {r['role']} '{name}' "
                           f"({', '.join(cell['passed_in'])}) and the allow-list gives no reason")
    passing = {(r["case"], n) for r in rows for n, c in r["cells"].items() if c["verdict"] == "pass"}
    ran = {(r["case"], n) for r in rows for n in r["cells"]}
    for key in sorted(allow):
        if key in ran and key not in passing:
            out.append(f"allow-list entry {key[0]} x {key[1]} is stale: the case no longer "
                       "passes that target (remove the entry)")
    return out


def _cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_markdown(rows, names, allow, duration_s):
    n_pass = sum(c["verdict"] == "pass" for r in rows for c in r["cells"].values())
    n_allowed = sum(bool(c["allowed"]) for r in rows for c in r["cells"].values())
    runs = sum(len(r["cells"]) for r in rows)
    lines = [
        "# Vacuity", "",
        "Generated by `harness/vacuity.py`; do not edit by hand (re-run it:",
        "`/usr/bin/python3 harness/vacuity.py`, `--check` in CI).", "",
        "Every case runs against trivial stand-in targets (`harness/tests/trivial/`)",
        "that do nothing a case is about. A case that **passes** against one checks",
        "nothing there; `--check` fails on it unless `harness/vacuity-allow.json`",
        "names the case and the target with the reason the trivial behaviour",
        "honestly satisfies the case. `fail`, `error` and `skip` all mean the case did",
        "not certify the trivial target. One combination per case (MBWS-binary when",
        "listed, else the first); `--all-combos` runs all.", "",
        f"{runs} case x target runs, {n_pass} passes, {n_allowed} of them allow-listed, "
        f"{n_pass - n_allowed} not.", "",
        "| target | role | what it does | pass | fail | error | skip |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, role, what in TARGETS:
        if name not in names:
            continue
        counts = {v: 0 for v in ("pass", "fail", "error", "skip")}
        for r in rows:
            if name in r["cells"]:
                counts[r["cells"][name]["verdict"]] += 1
        lines.append(f"| `{name}` | {role} | {_cell(what)} | {counts['pass']} | {counts['fail']} | "
                     f"{counts['error']} | {counts['skip']} |")
    lines += ["", "## Passes against a trivial target", "",
              "| case | target | allowed because |", "|---|---|---|"]
    for r in rows:
        for name, c in r["cells"].items():
            if c["verdict"] == "pass":
                lines.append(f"| {r['case']} | `{name}` | "
                             f"{_cell(c['allowed']) if c['allowed'] else '**NOT ALLOWED**'} |")
    for role in ("broker", "client"):
        cols = [n for n, rl, _ in TARGETS if rl == role and n in names]
        if not cols:
            continue
        lines += ["", f"## Every {role} case", "",
                  "| case | " + " | ".join(f"`{n}`" for n in cols) + " |",
                  "|---|" + "---|" * len(cols)]
        for r in rows:
            if r["role"] == role:
                lines.append(f"| {r['case']} | " + " | ".join(
                    ("**pass**" if r["cells"][n]["verdict"] == "pass" and not r["cells"][n]["allowed"]
                     else "pass (allowed)" if r["cells"][n]["verdict"] == "pass"
                     else r["cells"][n]["verdict"]) if n in r["cells"] else "-"
                    for n in cols) + " |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog="harness/vacuity.py", formatter_class=argparse.RawDescriptionHelpFormatter,
        description=__doc__.split("\n\n")[0], epilog="\n\n".join(__doc__.split("\n\n")[1:]))
    ap.add_argument("--peer", help="mbws-peer binary (default $MBWS_PEER, else build/peer/mbws-peer)")
    ap.add_argument("--cases", default=str(ROOT / "cases"), help="case directory (default cases/)")
    ap.add_argument("--case", action="append", default=[], metavar="ID",
                    help="only this case (repeatable; a prefix such as B-WS works)")
    ap.add_argument("--target", action="append", default=[], metavar="NAME",
                    choices=[t[0] for t in TARGETS], help="only this trivial target (repeatable)")
    ap.add_argument("--all-combos", action="store_true",
                    help="every combination a case lists, not one per case")
    ap.add_argument("--check", action="store_true",
                    help="exit 1 when a case passes a trivial target without an allow-listed "
                         "reason, or an allow-list entry is stale")
    ap.add_argument("--allow", default=str(ALLOW), help="allow-list (default harness/vacuity-allow.json)")
    ap.add_argument("--jobs", type=int, default=72, metavar="N",
                    help="concurrent broker executions over all trivial brokers (default 72; "
                         "client executions: a third of it)")
    ap.add_argument("--case-timeout", type=int, default=20000, metavar="MS",
                    help="hard limit per case execution (default 20000)")
    ap.add_argument("--out", help="table to write (default docs/vacuity.md)")
    ap.add_argument("--report-dir", default=str(ROOT / "reports" / "vacuity"),
                    help="where the run directory goes (default reports/vacuity)")
    args = ap.parse_args(argv)
    if args.jobs < 1:
        ap.error("--jobs must be at least 1")
    t0 = time.monotonic()
    try:
        try:
            peer = find_peer(args.peer or os.environ.get("MBWS_PEER"))
        except TargetError as exc:
            raise SetupError(str(exc)) from None
        try:
            cases = load_cases(args.cases, ROOT)
        except CaseError as exc:
            raise SetupError(f"invalid cases: {exc}") from None
        if args.case:
            cases = [c for c in cases if any(c.id.startswith(p) for p in args.case)]
            if not cases:
                raise SetupError(f"--case: no case matches {', '.join(args.case)}")
        allow = load_allow(args.allow)
        names = set(args.target) or {t[0] for t in TARGETS}
        run_id = datetime.datetime.now().strftime("%Y%m%d-%H%M%S") + f"-{os.getpid()}"
        run_dir = Path(args.report_dir) / run_id
        run_dir.mkdir(parents=True, exist_ok=True)
        records, engine_problems = run(peer, cases, names, args.all_combos, run_dir, args.jobs,
                                       args.case_timeout, lambda s: print(s, end="", flush=True))
    except SetupError as exc:
        print(f"vacuity: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nvacuity: interrupted; stopped every engine it started", file=sys.stderr)
        return 130
    elapsed = time.monotonic() - t0
    rows = classify(records, cases, names, allow)
    found = engine_problems + check_problems(rows, allow, names)
    (run_dir / "vacuity.json").write_text(json.dumps(
        {"format": "mbws-vacuity", "format_version": 1, "run_id": run_id,
         "duration_s": round(elapsed, 1), "rows": rows, "problems": found}, indent=1) + "\n")
    partial = bool(args.case or args.target)
    out = args.out or (None if partial else str(ROOT / "docs" / "vacuity.md"))
    if out:
        Path(out).write_text(render_markdown(rows, names, allow, elapsed), encoding="utf-8")
    n_pass = sum(c["verdict"] == "pass" for r in rows for c in r["cells"].values())
    print(f"vacuity: {sum(len(r['cells']) for r in rows)} case x target runs, {n_pass} passes "
          f"({n_pass - sum(bool(c['allowed']) for r in rows for c in r['cells'].values())} not "
          f"allowed); {elapsed:.1f} s; wrote {run_dir / 'vacuity.json'}"
          + (f" and {out}" if out else " (partial selection: docs table not written)"))
    if args.check and found:
        print("vacuity: --check failed:", file=sys.stderr)
        for line in found:
            print(f"  {line}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
