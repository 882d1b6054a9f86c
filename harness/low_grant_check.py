#!/usr/bin/python3
"""Does the suite keep within what a stingy implementation grants?

The engine makes a case that sends a MESSAGE above the limit the
implementation granted, or a frame above its max-frame, without declaring
it ("violates"), an `error` (case bug, FLOW-6 and SES-8). The reference
peer grants plenty (credit 256, max-frame 131072), so an ordinary run
would not notice such a case. This runs the whole corpus, every
combination, against the reference peer configured to grant little:

  broker-credit-1        reference broker with --credit 1
  broker-max-frame-1024  reference broker with --max-frame 1024
  client-credit-0        reference echo client with --credit 0 (publish-only)
  client-credit-1        reference echo client with --credit 1
  client-max-frame-1024  reference echo client with --max-frame 1024

Every execution must end `pass`, `skip` or `warn` (a case that cannot be
exercised under so small a grant says so with a skip, e.g. through
"limit_wait_ms"). An `error` or a `fail` is listed with case, combination
and reason. Uses the harness's engine runner (mbws_harness.engine.execute):
one engine invocation per configuration, all concurrently. Results go to
reports/low-grant/<run-id>/.

exit status: 0 every execution passed, skipped or warned; 1 some ended
`error` or `fail`, or an engine invocation broke; 2 bad usage or setup.
"""
import argparse
import datetime
import os
import shlex
import sys
import time
from collections import Counter
from pathlib import Path

# Run as a script, Python puts this file's directory (harness/) first on
# sys.path, so the package beside it imports as is (docs/architecture.md).
from mbws_harness import SUBPROTOCOLS, engine
from mbws_harness.cases import CaseError, Execution, load_cases
from mbws_harness.targets import (BundledBroker, Target, TargetError, bundled_disconnect_cmd,
                                  find_peer)

ROOT = Path(__file__).resolve().parent.parent
# (name, role, options of `mbws-peer broker` / `mbws-peer echo`); the broker's
# come after the bundled broker's own (BundledBroker), so they win.
CONFIGS = (
    ("broker-credit-1", "broker", ["--credit", "1"]),
    ("broker-max-frame-1024", "broker", ["--max-frame", "1024"]),
    ("client-credit-0", "client", ["--credit", "0"]),
    ("client-credit-1", "client", ["--credit", "1"]),
    ("client-max-frame-1024", "client", ["--max-frame", "1024"]),
)
BAD = ("error", "fail")
VERDICTS = ("pass", "warn", "skip", "fail", "error")


class SetupError(Exception):
    pass


def start_targets(peer, configs, run_dir):
    """Targets for the configurations; the brokers started (returned too,
    to be stopped)."""
    targets, brokers = [], []
    try:
        for name, role, opts in configs:
            if role == "broker":
                b = BundledBroker([str(peer)], run_dir / f"{name}.broker.log", extra_args=opts)
                brokers.append(b)
                url = b.start()
                targets.append(Target(name, broker_url=url,
                                      broker_disconnect_cmd=bundled_disconnect_cmd(peer)))
            else:
                cmd = " ".join(shlex.quote(a) for a in [str(peer), "echo"] + opts)
                targets.append(Target(name, client_cmd=cmd))
    except TargetError as exc:
        for b in brokers:
            b.stop()
        raise SetupError(str(exc)) from None
    return targets, brokers


def run(peer, cases, configs, run_dir, jobs, case_timeout_ms, log):
    """records {(config, case, sub, enc): result}, problems [str], expected
    executions [Execution]."""
    targets, brokers = start_targets(peer, configs, run_dir)
    executions = [Execution(t.name, c, c.id, s, e) for t in targets for c in cases
                  if c.role in t.roles() for s, e in c.combinations()]
    try:
        progress = engine.Progress(len(executions), log, tty=False, verbose=False)
        log(f"low-grant: {len(executions)} executions in {len(configs)} configurations, "
            f"engine --jobs {jobs} in all\n")
        engine.execute(engine.plan(executions, targets), [str(peer)], None,
                       {t.name: t.broker_url for t in targets if t.broker_url}, run_dir, jobs,
                       case_timeout_ms, progress)
    except BaseException:  # Ctrl-C: stop the engines by process group
        engine.stop_all()
        raise
    finally:
        for b in brokers:
            b.stop()
    store = engine.ResultStore(run_dir)
    problems = [f"engine invocation {p['id']}: {p['error']}" for p in store.problems]
    return store.records, problems, executions


def findings(records, executions):
    """Counts per configuration and one line per bad or missing execution."""
    counts, bad = {}, []
    for ex in executions:
        rec = records.get((ex.target, ex.case_id, ex.subprotocol, ex.encoding))
        verdict = rec.get("verdict") if rec else "missing"
        counts.setdefault(ex.target, Counter())[verdict] += 1
        if verdict in BAD or verdict not in VERDICTS:
            reason = (rec or {}).get("reason") or "no result from the engine"
            bad.append(f"{ex.target}: {ex.case_id} {SUBPROTOCOLS.get(ex.subprotocol, ex.subprotocol)}-"
                       f"{ex.encoding}: {verdict}: {' '.join(str(reason).split())}")
    return counts, bad


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog="harness/low_grant_check.py", formatter_class=argparse.RawDescriptionHelpFormatter,
        description=__doc__.split("\n\n")[0], epilog="\n\n".join(__doc__.split("\n\n")[1:]))
    ap.add_argument("--peer", help="mbws-peer binary (default $MBWS_PEER, else build/peer/mbws-peer)")
    ap.add_argument("--cases", default=str(ROOT / "cases"), help="case directory (default cases/)")
    ap.add_argument("--config", action="append", default=[], metavar="NAME",
                    choices=[c[0] for c in CONFIGS], help="only this configuration (repeatable)")
    ap.add_argument("--jobs", type=int, default=40, metavar="N",
                    help="concurrent executions over all configurations (default 40)")
    ap.add_argument("--case-timeout", type=int, default=20000, metavar="MS",
                    help="hard limit per case execution (default 20000)")
    ap.add_argument("--report-dir", default=str(ROOT / "reports" / "low-grant"),
                    help="where the run directory goes (default reports/low-grant)")
    args = ap.parse_args(argv)
    if args.jobs < 1:
        ap.error("--jobs must be at least 1")
    t0 = time.monotonic()
    configs = [c for c in CONFIGS if not args.config or c[0] in args.config]
    try:
        try:
            peer = find_peer(args.peer or os.environ.get("MBWS_PEER"))
            cases = load_cases(args.cases, ROOT)
        except (TargetError, CaseError) as exc:
            raise SetupError(str(exc)) from None
        run_dir = Path(args.report_dir) / (datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
                                           + f"-{os.getpid()}")
        run_dir.mkdir(parents=True, exist_ok=True)
        records, problems, executions = run(peer, cases, configs, run_dir, args.jobs,
                                            args.case_timeout, lambda s: print(s, end="", flush=True))
    except SetupError as exc:
        print(f"low-grant: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nlow-grant: interrupted; stopped every engine and broker it started", file=sys.stderr)
        return 130
    counts, bad = findings(records, executions)
    for name, _, opts in configs:
        c = counts.get(name, Counter())
        print(f"low-grant: {name} ({' '.join(opts)}): "
              + ", ".join(f"{c[v]} {v}" for v in VERDICTS + ("missing",) if c[v] or v in BAD))
    print(f"low-grant: {len(executions)} executions, {len(bad)} error or fail; "
          f"{time.monotonic() - t0:.1f} s; results in {run_dir}")
    if bad or problems:
        print("low-grant: the suite does not keep within a small grant (FLOW-6, SES-8): fix the "
              "case (wait for FLOW with limit_wait_ms, send less, or skip with a reason):",
              file=sys.stderr)
        for line in problems + bad:
            print(f"  {line}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
