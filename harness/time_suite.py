#!/usr/bin/python3
"""Time the conformance suite against the reference peer and print what it
costs: wall time, CPU (user + system) and minor page faults, in total and per
execution. A benchmark that prints figures, not a gate (harness/repeat_check.py
keeps the one timed check).

Three measurements, each of a whole process tree (os.wait4: the process and
every descendant it waited for):
  suite           harness/mbws-suite -q (pytest, the engine, the bundled broker
                  and echo clients, the reports)
  engine broker   mbws-peer run --target URL against a reference broker
                  (the broker's own cost not included)
  engine client   mbws-peer run --listen 127.0.0.1:0 --client-cmd "mbws-peer echo"
                  (the echo clients included: they are started by the engine)

Anything after `--` goes to mbws-suite. The load average is printed with
the figures: on a loaded machine wall times mean little, CPU and page faults
less so.

exit status: 0 figures printed, 1 a run failed, 2 bad usage or a missing binary.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Run as a script, Python puts this file's directory (harness/) first on
# sys.path, so the package beside it imports as is (docs/architecture.md).
from mbws_harness.targets import BundledBroker, TargetError, find_peer

HARNESS = Path(__file__).resolve().parent
ROOT = HARNESS.parent
SUITE = HARNESS / "mbws-suite"


def measure(argv, **popen):
    """Runs argv to the end. Returns (exit status, wall s, user s, sys s, minor faults)
    of the whole process tree."""
    t0 = time.monotonic()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, start_new_session=True, **popen)
    try:
        _, status, ru = os.wait4(proc.pid, 0)
    except KeyboardInterrupt:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, time.monotonic() - t0, ru.ru_utime, ru.ru_stime, ru.ru_minflt


def report(name, execs, rc, wall, user, sys_, faults):
    per = faults / execs if execs else 0
    print(f"{name}: {execs} executions, exit {rc}: {wall:.1f} s wall, CPU {user + sys_:.1f} s "
          f"({user:.1f} user + {sys_:.1f} sys), {faults} minor page faults "
          f"({per:.0f} per execution)", flush=True)


def executions(result_file):
    try:
        doc = json.loads(Path(result_file).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return 0
    return sum(1 for r in doc.get("results", []) if r.get("verdict") != "skip")


def time_suite(peer, extra, tmp):
    run_id = "time-suite"
    argv = [sys.executable, str(SUITE), "--peer", str(peer), "--report-dir", str(tmp),
            "--run-id", run_id, "-q", "-p", "no:cacheprovider"] + extra
    rc, wall, user, sys_, faults = measure(argv, stdout=subprocess.DEVNULL)
    report("suite", executions(tmp / run_id / "results.json"), rc, wall, user, sys_, faults)
    return rc


def time_engine(peer, cases, jobs, tmp):
    broker = BundledBroker([str(peer)], tmp / "broker.log")
    url = broker.start()
    try:
        out = tmp / "engine-broker.json"
        rc, *fig = measure([str(peer), "run", "--case", cases, "--jobs", str(jobs), "--target", url,
                            "--json", str(out)], stderr=subprocess.DEVNULL)
        report("engine broker role", executions(out), rc, *fig)
    finally:
        broker.stop()
    out = tmp / "engine-client.json"
    rc2, *fig = measure([str(peer), "run", "--case", cases, "--jobs", str(jobs), "--listen",
                         "127.0.0.1:0", "--client-cmd", f"{peer} echo", "--json", str(out)],
                        stderr=subprocess.DEVNULL)
    report("engine client role", executions(out), rc2, *fig)
    return rc or rc2


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    own, extra = (argv[:argv.index("--")], argv[argv.index("--") + 1:]) if "--" in argv else (argv, [])
    ap = argparse.ArgumentParser(
        prog="harness/time_suite.py", formatter_class=argparse.RawDescriptionHelpFormatter,
        description=__doc__.split("\n\n")[0], epilog="\n\n".join(__doc__.split("\n\n")[1:]))
    ap.add_argument("--peer", help="mbws-peer binary (default $MBWS_PEER, else build/peer/mbws-peer)")
    ap.add_argument("--cases", default=str(ROOT / "cases"), help="case directory (default cases/)")
    ap.add_argument("--jobs", type=int, default=24,
                    help="engine --jobs for each of the two engine runs (default 24)")
    ap.add_argument("--only", choices=["suite", "engine"], help="one measurement only")
    args = ap.parse_args(own)
    try:
        peer = find_peer(args.peer or os.environ.get("MBWS_PEER"))
    except TargetError as exc:
        print(f"time_suite: {exc}", file=sys.stderr)
        return 2
    load = os.getloadavg()
    print(f"time_suite: load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on "
          f"{os.cpu_count()} cores", flush=True)
    rc = 0
    with tempfile.TemporaryDirectory(prefix="time_suite-") as d:
        tmp = Path(d)
        if args.only in (None, "suite"):
            rc |= time_suite(peer, extra, tmp)
        if args.only in (None, "engine"):
            rc |= time_engine(peer, args.cases, args.jobs, tmp)
    load = os.getloadavg()
    print(f"time_suite: load average at the end {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    return 1 if rc else 0


if __name__ == "__main__":
    sys.exit(main())
