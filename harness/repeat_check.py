#!/usr/bin/python3
"""Run the whole conformance suite against the reference peer several times
(default 3) and fail unless every run passes every execution, the verdicts
are identical across the runs, and each run stays within the time budget.

A `skip` is allowed only when the execution is skipped in every run (a case
that says so deterministically); they are listed with their reason.
Each run is `harness/mbws-suite --peer PEER --report-dir DIR --run-id ...`
(the bundled reference broker and echo client, every case, every
combination); anything after `--` goes to mbws-suite.

exit status: 0 all good, 1 a check failed, 2 bad usage or a missing binary.
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

# Run as a script, Python puts this file's directory (harness/) first on
# sys.path, so the package beside it imports as is (docs/architecture.md).
from mbws_harness.targets import TargetError, find_peer

HARNESS = Path(__file__).resolve().parent
ROOT = HARNESS.parent
SUITE = HARNESS / "mbws-suite"


def load_verdicts(results_path):
    """{execution id: (verdict, reason)} and the run's engine problems."""
    doc = json.loads(Path(results_path).read_text(encoding="utf-8"))
    verdicts = {r["id"]: (r["verdict"], r.get("reason") or "") for r in doc.get("results", [])}
    return verdicts, doc.get("engine_problems") or []


def compare(runs):
    """runs: [{execution id: (verdict, reason)}]. Returns (problems, skips):
    problems name every execution whose verdict differs between runs, that
    is missing from some run, or that is neither pass nor skip (a skip in
    every run is allowed and listed)."""
    problems, skips = [], []
    ids = sorted(set().union(*runs)) if runs else []
    for ex in ids:
        seen = [run.get(ex) for run in runs]
        if any(s is None for s in seen):
            missing = [str(i + 1) for i, s in enumerate(seen) if s is None]
            problems.append(f"{ex}: missing from run(s) {', '.join(missing)}")
            continue
        verdicts = [v for v, _ in seen]
        if len(set(verdicts)) > 1:  # reasons may differ (random addresses); verdicts may not
            problems.append(f"{ex}: verdicts differ between runs: "
                            + ", ".join(f"run {i + 1} {v}" + (f" ({r[:120]})" if r else "")
                                        for i, (v, r) in enumerate(seen)))
        elif verdicts[0] == "skip":
            skips.append(f"{ex}: {seen[0][1]}")
        elif verdicts[0] != "pass":
            problems.append(f"{ex}: {verdicts[0]} in every run: {seen[0][1][:200]}")
    return problems, skips


def _interrupt(*_):
    raise KeyboardInterrupt  # SIGTERM: stop the suite like Ctrl-C does


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    own, extra = (argv[:argv.index("--")], argv[argv.index("--") + 1:]) if "--" in argv else (argv, [])
    ap = argparse.ArgumentParser(
        prog="harness/repeat_check.py", formatter_class=argparse.RawDescriptionHelpFormatter,
        description=__doc__.split("\n\n")[0], epilog="\n\n".join(__doc__.split("\n\n")[1:]))
    ap.add_argument("--peer", help="mbws-peer binary (default $MBWS_PEER, else build/peer/mbws-peer)")
    ap.add_argument("--runs", type=int, default=3, help="how many runs (default 3)")
    ap.add_argument("--budget", type=float, default=60.0, metavar="S",
                    help="wall-time limit of one run in seconds (default 60)")
    ap.add_argument("--cases", default=str(ROOT / "cases"),
                    help="case directory (default cases/); copied once, so every run sees the same corpus")
    ap.add_argument("--report-dir", default=str(ROOT / "reports" / "repeat"),
                    help="where the runs' reports go (default reports/repeat)")
    args = ap.parse_args(own)
    if args.runs < 1:
        ap.error("--runs must be at least 1")
    try:
        peer = find_peer(args.peer or os.environ.get("MBWS_PEER"))
    except TargetError as exc:
        print(f"repeat_check: {exc}", file=sys.stderr)
        return 2

    signal.signal(signal.SIGTERM, _interrupt)
    stamp = time.strftime("%Y%m%d-%H%M%S") + f"-{os.getpid()}"
    cases = Path(args.report_dir) / f"{stamp}-cases"
    try:
        shutil.copytree(args.cases, cases)
    except OSError as exc:
        print(f"repeat_check: cannot copy the cases from {args.cases}: {exc}", file=sys.stderr)
        return 2
    runs, failures = [], []
    for i in range(1, args.runs + 1):
        run_id = f"{stamp}-run{i}"
        cmd = [sys.executable, str(SUITE), "--peer", str(peer), "--report-dir",
               args.report_dir, "--run-id", run_id, "--cases", str(cases), "-q", "-p", "no:cacheprovider"] + extra
        t0 = time.monotonic()
        # Own session: Ctrl-C or a hang stops the suite and everything it started.
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, errors="replace",
                                start_new_session=True)
        try:
            out, _ = proc.communicate(timeout=max(args.budget * 5, 300))
        except (subprocess.TimeoutExpired, KeyboardInterrupt) as exc:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            if isinstance(exc, KeyboardInterrupt):
                print("repeat_check: interrupted; the suite was stopped", file=sys.stderr)
                return 130
            failures.append(f"run {i}: did not finish within {max(args.budget * 5, 300):.0f} s")
            break
        wall = time.monotonic() - t0
        results = Path(args.report_dir) / run_id / "results.json"
        if not results.is_file():
            print(out[-3000:])
            failures.append(f"run {i}: mbws-suite exited {proc.returncode} without "
                            f"{results} (output above)")
            break
        verdicts, engine_problems = load_verdicts(results)
        counts = {}
        for v, _ in verdicts.values():
            counts[v] = counts.get(v, 0) + 1
        over = wall > args.budget
        print(f"repeat_check: run {i}/{args.runs}: {wall:.1f} s wall"
              f"{' OVER THE BUDGET' if over else ''} (budget {args.budget:.0f} s), "
              f"{len(verdicts)} executions: "
              + ", ".join(f"{n} {v}" for v, n in sorted(counts.items()))
              + f", exit {proc.returncode}, load average {os.getloadavg()[0]:.1f} on "
              f"{os.cpu_count()} cores; report {results.parent}", flush=True)
        if over:
            failures.append(f"run {i} took {wall:.1f} s, over the budget of {args.budget:.0f} s")
        for p in engine_problems:
            failures.append(f"run {i}: engine problem: {p.get('error') or p}")
        if not verdicts:
            failures.append(f"run {i}: no executions at all")
        runs.append(verdicts)

    problems, skips = compare(runs)
    for s in skips:
        print(f"repeat_check: skipped in every run (allowed): {s}")
    failures += problems
    if failures:
        print(f"repeat_check: FAILED ({len(failures)} problem(s)):", file=sys.stderr)
        for f in failures[:200]:
            print(f"  {f}", file=sys.stderr)
        return 1
    print(f"repeat_check: {len(runs)} runs, {len(runs[0])} executions each, identical verdicts, "
          f"all pass{f' ({len(skips)} deterministic skips)' if skips else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
