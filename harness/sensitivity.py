#!/usr/bin/python3
"""Fault sensitivity of the conformance suite: does some case catch each
deliberate fault of the reference peer?

For every fault that `mbws-peer faults --json` lists, and every role it
applies to, start the faulty peer (broker: the bundled reference broker with
the suite's options plus `--fault NAME`; client: `mbws-peer echo --fault NAME`
as the client under test), run the engine on the cases of that role that cite
the fault's requirement (or on every case of the role with --all), and
classify: a fault is *caught* when at least one case citing its requirement
gets verdict `fail`. Every other failing execution is recorded as an "other
failure" (a fault that breaks more than it should, or a case that is too
broad). Writes docs/sensitivity.md (the table) and
reports/sensitivity/<run-id>/sensitivity.json (with the engine's raw output).

exit status: 0 done (with --check: every fault caught), 1 with --check when
a fault is uncaught, has no case, or its run erred; 2 bad usage or setup
(no mbws-peer, invalid case file, unreadable fault list); 130 interrupted.
"""
import argparse
import datetime
import json
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

# Run as a script, Python puts this file's directory (harness/) first on
# sys.path, so the package beside it imports as is (docs/architecture.md).
from mbws_harness import SUBPROTOCOLS
from mbws_harness import engine
from mbws_harness.cases import CaseError, load_cases
from mbws_harness.targets import BundledBroker, TargetError, bundled_disconnect_cmd
from mbws_harness.targets import find_peer as targets_find_peer

HARNESS = Path(__file__).resolve().parent
ROOT = HARNESS.parent

ROLES = ("broker", "client")


class SetupError(Exception):
    """Nothing can run: missing binary, bad fault list, invalid cases."""


@dataclass(frozen=True)
class Fault:
    name: str
    roles: tuple
    requirement: str
    what: str


# -- inputs ----------------------------------------------------------------------

def find_peer(value):
    """--peer, else $MBWS_PEER, else build/peer/mbws-peer (targets.find_peer)."""
    try:
        return targets_find_peer(value or os.environ.get("MBWS_PEER"))
    except TargetError as exc:
        raise SetupError(str(exc)) from None


def parse_faults(text):
    """The fault list of `mbws-peer faults --json`, validated."""
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise SetupError(f"'mbws-peer faults --json' printed no valid JSON: {exc}") from None
    if not isinstance(doc, list):
        raise SetupError("'mbws-peer faults --json' did not print a JSON array")
    faults, seen = [], set()
    for i, f in enumerate(doc):
        if not (isinstance(f, dict) and isinstance(f.get("name"), str) and f["name"]
                and isinstance(f.get("requirement"), str) and isinstance(f.get("roles"), list)
                and f["roles"] and all(r in ROLES for r in f["roles"])):
            raise SetupError(f"'mbws-peer faults --json': entry {i} is malformed: {f!r} "
                             "(need name, roles ⊆ [broker, client], requirement, what)")
        if f["name"] in seen:
            raise SetupError(f"'mbws-peer faults --json': fault {f['name']!r} listed twice")
        seen.add(f["name"])
        faults.append(Fault(f["name"], tuple(f["roles"]), f["requirement"], str(f.get("what", ""))))
    return faults


def list_faults(peer, timeout=15):
    try:
        out = subprocess.run([str(peer), "faults", "--json"], capture_output=True, text=True,
                             timeout=timeout, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SetupError(f"'{peer} faults --json' did not run: {exc}") from None
    if out.returncode != 0:
        raise SetupError(f"'{peer} faults --json' exited {out.returncode}: {out.stderr.strip()}")
    return parse_faults(out.stdout)


def select_cases(cases, fault, role, every_case):
    """(cases to run, IDs of those citing the fault's requirement)."""
    of_role = [c for c in cases if c.role == role]
    citing = [c for c in of_role if fault.requirement in c.requirements]
    return (of_role if every_case else citing), {c.id for c in citing}


# -- classification and the table ---------------------------------------------------

def combo_of(result):
    sub = result.get("subprotocol", "?")
    return f"{SUBPROTOCOLS.get(sub, sub)}-{result.get('encoding', '?')}"


def classify(fault, role, citing_ids, results, error=None, cases_run=0):
    """One row of the table from the engine results of one (fault, role) run.

    caught: a case citing the requirement failed (verdict `fail`). An `error`
    never catches: it is a problem of the case or the environment."""
    ran, caught, other, skipped = {}, {}, {}, {}
    for r in results:
        case = r.get("case", "?")
        ran.setdefault(case, []).append(combo_of(r))
        verdict = r.get("verdict")
        if verdict == "fail" and case in citing_ids:
            caught.setdefault(case, []).append(combo_of(r))
        elif verdict in ("fail", "error"):
            other.setdefault((case, verdict), []).append(combo_of(r))
        elif verdict == "skip" and case in citing_ids:
            skipped.setdefault(case, []).append(combo_of(r))
    if caught:
        status = "caught"
    elif not citing_ids:
        status = "no-case"
    elif error:
        status = "error"
    else:
        status = "uncaught"
    return {
        "fault": fault.name, "role": role, "requirement": fault.requirement, "what": fault.what,
        "status": status, "error": error,
        "cases_citing": sorted(citing_ids), "cases_run": cases_run, "executions": len(results),
        "caught_by": [{"case": c, "combos": sorted(v), "of": len(ran.get(c, []))}
                      for c, v in sorted(caught.items())],
        "other_failures": [{"case": c, "verdict": vd, "combos": sorted(v), "of": len(ran.get(c, []))}
                           for (c, vd), v in sorted(other.items())],
        # citing cases that could not decide (a skip never catches)
        "skipped": [{"case": c, "combos": sorted(v), "of": len(ran.get(c, []))}
                    for c, v in sorted(skipped.items())],
    }


def _combos_text(entry):
    if entry["of"] and len(entry["combos"]) == entry["of"]:
        return "all" if entry["of"] > 1 else entry["combos"][0]
    return ", ".join(entry["combos"])


def _cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def problems(rows, min_faults=0, faults_total=None):
    """Lines that make --check fail."""
    out = []
    for r in rows:
        key = f"{r['fault']} ({r['role']}, {r['requirement']})"
        if r["status"] == "no-case":
            out.append(f"{key}: no {r['role']} case cites {r['requirement']}")
        elif r["status"] == "error":
            out.append(f"{key}: not caught; the run erred: {r['error']}")
        elif r["status"] != "caught":
            out.append(f"{key}: UNCAUGHT: none of {', '.join(r['cases_citing'])} failed"
                       + (f" (skipped: {', '.join(e['case'] for e in r['skipped'])})"
                          if r.get("skipped") else ""))
    n = len({r["fault"] for r in rows}) if faults_total is None else faults_total
    if n < min_faults:
        out.append(f"only {n} faults, at least {min_faults} wanted (--min-faults)")
    return out


def summary(rows):
    """'A of B faults caught in every role they apply to (C of D fault x role runs)'."""
    faults = {r["fault"] for r in rows}
    fully = faults - {r["fault"] for r in rows if r["status"] != "caught"}
    return (f"{len(fully)} of {len(faults)} faults caught in every role they apply to "
            f"({sum(r['status'] == 'caught' for r in rows)} of {len(rows)} fault x role runs)")


def render_markdown(rows, mode, peer_version=""):
    lines = [
        "# Fault sensitivity", "",
        "Generated by `harness/sensitivity.py`; do not edit by hand (re-run it:",
        "`/usr/bin/python3 harness/sensitivity.py`, `--check` in CI).", "",
        "Each fault of the reference peer (`mbws-peer faults`, `--fault NAME`) breaks",
        "exactly one requirement. For each fault and each role it applies to, the",
        "script starts the faulty peer (the bundled broker with the suite's options",
        "plus `--fault NAME`, or `mbws-peer echo --fault NAME` as the client under",
        "test) and runs " + ("every case of that role" if mode == "all" else
                              "the cases of that role that cite the fault's"),
        ("" if mode == "all" else "requirement ") + "in every combination they list "
        f"(mode `{mode}`{'' if mode == 'all' else '; `--all` runs every case of the role'}).",
        "A fault is **caught** when at least one case citing its requirement gets",
        "verdict `fail`; *caught by* lists those cases with the failing combinations",
        "(`all` = every combination the case ran). *Other failures* are failing",
        "executions of cases that do not cite the requirement (only with `--all`)",
        "and `error` verdicts: a fault that breaks more than one requirement shows",
        "up there.", "",
        summary(rows) + (f"; peer {peer_version}" if peer_version else "") + ".", "",
        "| fault | role | requirement | what | caught by | other failures |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        if r["status"] == "caught":
            caught = "; ".join(f"{e['case']} [{_combos_text(e)}]" for e in r["caught_by"])
        elif r["status"] == "no-case":
            caught = f"**no case** cites {r['requirement']}"
        elif r["status"] == "error":
            caught = f"**ERROR**: {r['error']}"
        else:
            caught = "**UNCAUGHT**" + (" (skipped: " + "; ".join(
                f"{e['case']} [{_combos_text(e)}]" for e in r["skipped"]) + ")"
                if r.get("skipped") else "")
        other = "; ".join(f"{e['case']} [{_combos_text(e)}]" + (" (error)" if e["verdict"] == "error"
                                                                 else "")
                          for e in r["other_failures"]) or "-"
        lines.append(f"| `{_cell(r['fault'])}` | {r['role']} | {r['requirement']} | "
                     f"{_cell(r['what'])} | {_cell(caught)} | {_cell(other)} |")
    return "\n".join(lines) + "\n"


# -- running ------------------------------------------------------------------------

class Runner:
    """Runs (fault, role) jobs through the harness's engine runner
    (mbws_harness.engine.run_engine, one timeout policy); the brokers it
    starts are tracked so an interrupt stops them all."""

    def __init__(self, peer, run_dir, jobs, case_timeout_ms, job_timeout_s=None, log=print):
        self.peer = Path(peer)
        self.run_dir = Path(run_dir)
        self.jobs = jobs
        self.case_timeout_ms = case_timeout_ms
        self.job_timeout_s = job_timeout_s
        self.log = log
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._brokers = set()

    def _track_broker(self, broker, add):
        with self._lock:
            if add:
                self._brokers.add(broker)
            else:
                self._brokers.discard(broker)

    def abort(self):
        """Stop every engine (process group: it and the clients it started)
        and every broker we started."""
        self.stopping.set()
        engine.stop_all()
        with self._lock:
            brokers = list(self._brokers)
        for b in brokers:
            b.stop(grace=3.0)

    def _engine(self, argv, tag, executions):
        """Run the engine; its error text, or None."""
        if self.stopping.is_set():
            return "interrupted"
        err_path = self.run_dir / f"{tag}.stderr.log"
        timeout_s = self.job_timeout_s or engine.overall_timeout_s(
            executions, self.jobs, self.case_timeout_ms)
        r = engine.run_engine(argv, err_path, timeout_s, tail_lines=8)
        if not r.error:
            return None
        tail = "\n".join(r.stderr_tail).strip()
        return r.error + f"; see {err_path}" + (f"; last output: {tail[-400:]}" if tail else "")

    def run(self, fault, role, cases, citing_ids):
        tag = f"{fault.name}-{role}"
        t0 = time.monotonic()
        executions = sum(len(c.combinations()) for c in cases)
        results, error, broker, broker_exit = [], None, None, None
        out = self.run_dir / f"{tag}.json"
        try:
            if not cases:
                pass
            elif self.stopping.is_set():
                error = "interrupted"
            else:
                if role == "broker":
                    broker = BundledBroker([str(self.peer)], self.run_dir / f"{tag}.broker.log",
                                           extra_args=["--fault", fault.name])
                    self._track_broker(broker, True)
                    target = ["--target", broker.start(),
                              "--broker-disconnect-cmd", bundled_disconnect_cmd(self.peer)]
                else:
                    cmd = f"{shlex.quote(str(self.peer))} echo --fault {shlex.quote(fault.name)}"
                    target = ["--listen", "127.0.0.1:0", "--client-cmd", cmd]
                argv = engine.engine_argv([str(self.peer)], [c.path for c in cases], target,
                                          self.jobs, self.case_timeout_ms, out)
                error = self._engine(argv, tag, executions)
                if out.is_file():
                    try:
                        results = json.loads(out.read_text(encoding="utf-8")).get("results") or []
                    except ValueError as exc:
                        error = error or f"unreadable engine result file {out}: {exc}"
                elif not error:
                    error = f"the engine wrote no result file {out}"
        except TargetError as exc:
            error = f"the faulty broker did not start: {exc}"
        except OSError as exc:
            error = f"cannot run: {exc}"
        finally:
            if broker is not None:
                broker_exit = broker.stop(grace=5.0)
                self._track_broker(broker, False)
        row = classify(fault, role, citing_ids, [r for r in results if r], error, len(cases))
        row["duration_s"] = round(time.monotonic() - t0, 2)
        if broker_exit is not None and broker_exit < 0:
            row["broker_exit"] = broker_exit  # the faulty broker died of a signal
        return row


def run_all(runner, work, parallel, progress):
    """work: [(fault, role, cases, citing_ids)]; rows in work order."""
    rows = [None] * len(work)
    with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        futures = {pool.submit(runner.run, *w): i for i, w in enumerate(work)}
        try:
            for done, fut in enumerate(as_completed(futures), 1):
                i = futures[fut]
                rows[i] = fut.result()
                progress(done, len(work), rows[i])
        except BaseException:
            runner.abort()
            for fut in futures:
                fut.cancel()
            raise
    return rows


def _progress_line(done, total, row):
    caught = ", ".join(e["case"] for e in row["caught_by"])
    detail = {"caught": f"caught by {caught}",
              "no-case": f"no {row['role']} case cites {row['requirement']}",
              "uncaught": f"UNCAUGHT by {len(row['cases_citing'])} case(s)",
              "error": f"ERROR: {row['error']}"}[row["status"]]
    other = f"; {len(row['other_failures'])} other failing case(s)" if row["other_failures"] else ""
    print(f"[{done:3d}/{total}] {row['status']:8s} {row['fault']} ({row['role']}, "
          f"{row['requirement']}): {detail}{other} [{row.get('duration_s', 0):.1f} s]", flush=True)


def _interrupt(*_):
    raise KeyboardInterrupt  # SIGTERM: the same clean-up as Ctrl-C


def build_work(faults, cases, every_case, only_faults=(), only_role=None):
    work = []
    for f in faults:
        if only_faults and f.name not in only_faults:
            continue
        for role in f.roles:
            if only_role and role != only_role:
                continue
            run, citing = select_cases(cases, f, role, every_case)
            work.append((f, role, run, citing))
    return work


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog="harness/sensitivity.py", formatter_class=argparse.RawDescriptionHelpFormatter,
        description=__doc__.split("\n\n")[0], epilog="\n\n".join(__doc__.split("\n\n")[1:]))
    ap.add_argument("--peer", help="mbws-peer binary (default $MBWS_PEER, else build/peer/mbws-peer)")
    ap.add_argument("--cases", default=str(ROOT / "cases"), help="case directory (default cases/)")
    ap.add_argument("--all", action="store_true", dest="every_case",
                    help="run every case of the role, not only those citing the requirement")
    ap.add_argument("--fault", action="append", default=[], metavar="NAME",
                    help="only this fault (repeatable); the docs table is then not written "
                         "unless --out is given")
    ap.add_argument("--role", choices=ROLES, help="only this role")
    ap.add_argument("--check", action="store_true",
                    help="exit 1 listing every fault that is not caught, has no case, or erred")
    ap.add_argument("--min-faults", type=int, default=25, metavar="N",
                    help="with --check, also fail when the peer has fewer than N faults (default 25)")
    ap.add_argument("--parallel", type=int, default=3, metavar="P",
                    help="faults run at once (default 3)")
    ap.add_argument("--jobs", type=int, default=8, metavar="N",
                    help="concurrent executions in each engine run (default 8)")
    ap.add_argument("--case-timeout", type=int, default=20000, metavar="MS",
                    help="hard limit per case execution (default 20000)")
    ap.add_argument("--fault-timeout", type=float, default=None, metavar="S",
                    help="hard limit per fault run (default: from the case count and --case-timeout)")
    ap.add_argument("--out", help="table to write (default docs/sensitivity.md)")
    ap.add_argument("--report-dir", default=str(ROOT / "reports" / "sensitivity"),
                    help="where the run directory goes (default reports/sensitivity)")
    args = ap.parse_args(argv)
    if args.parallel < 1 or args.jobs < 1:
        ap.error("--parallel and --jobs must be at least 1")

    t0 = time.monotonic()
    try:
        peer = find_peer(args.peer)
        faults = list_faults(peer)
        try:
            cases = load_cases(args.cases, ROOT)
        except CaseError as exc:
            raise SetupError(f"invalid cases: {exc}") from None
        unknown = set(args.fault) - {f.name for f in faults}
        if unknown:
            raise SetupError(f"--fault: unknown fault(s) {', '.join(sorted(unknown))} "
                             f"(see '{peer} faults')")
    except SetupError as exc:
        print(f"sensitivity: {exc}", file=sys.stderr)
        return 2

    run_id = datetime.datetime.now().strftime("%Y%m%d-%H%M%S") + f"-{os.getpid()}"
    run_dir = Path(args.report_dir) / run_id
    run_dir.mkdir(parents=True, exist_ok=True)
    work = build_work(faults, cases, args.every_case, set(args.fault), args.role)
    print(f"sensitivity: {len(faults)} faults, {len(work)} fault x role runs over "
          f"{len(cases)} cases ({'every case of the role' if args.every_case else 'cases citing the requirement'}), "
          f"{args.parallel} at a time, engine --jobs {args.jobs}; output in {run_dir}", flush=True)

    runner = Runner(peer, run_dir, args.jobs, args.case_timeout, args.fault_timeout)
    old_term = signal.signal(signal.SIGTERM, _interrupt)
    try:
        rows = run_all(runner, work, args.parallel, _progress_line)
    except KeyboardInterrupt:
        print("\nsensitivity: interrupted; stopped every engine and broker it started",
              file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, old_term)
    elapsed = time.monotonic() - t0

    version = subprocess.run([str(peer), "--version"], capture_output=True, text=True,
                             timeout=10).stdout.strip()
    doc = {"format": "mbws-sensitivity", "format_version": 1, "run_id": run_id,
           "peer": str(peer), "peer_version": version,
           "mode": "all" if args.every_case else "citing", "duration_s": round(elapsed, 1),
           "faults": len(faults), "selection": {"faults": args.fault, "role": args.role},
           "rows": rows}
    (run_dir / "sensitivity.json").write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    latest = Path(args.report_dir) / "latest"
    try:
        if latest.is_symlink() or latest.exists():
            latest.unlink()
        latest.symlink_to(run_id)
    except OSError:
        pass
    partial = bool(args.fault or args.role)
    out = args.out or (None if partial else str(ROOT / "docs" / "sensitivity.md"))
    if out:
        Path(out).write_text(render_markdown(rows, doc["mode"]), encoding="utf-8")
    found = problems(rows, args.min_faults if (args.check and not partial) else 0,
                     None if partial else len(faults))
    print(f"sensitivity: {summary(rows)}; total time "
          f"{elapsed:.1f} s; wrote {run_dir / 'sensitivity.json'}"
          + (f" and {out}" if out else " (partial selection: docs table not written)"))
    if args.check and found:
        print("sensitivity: --check failed:", file=sys.stderr)
        for line in found:
            print(f"  {line}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
