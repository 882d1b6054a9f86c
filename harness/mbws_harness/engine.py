"""Batch executions through `mbws-peer run --jobs N` and keep the results.

The engine is a black box with the contract of docs/engine-interface.md.
Executions are grouped per target and role (and per combination set when a
selection cut some combinations of a case), each group is one engine
invocation, and the invocations run concurrently. The results land in
<run_dir>/engine/, where any process (pytest-xdist workers too) reads them."""

import json
import math
import os
import re
import shlex
import signal
import subprocess
import threading
import time
from collections import OrderedDict
from pathlib import Path

from . import SUBPROTOCOLS

INDEX = "index.json"


class Invocation:
    def __init__(self, ident, target, role, cases, subprotocols, encodings, executions):
        self.id = ident
        self.target = target          # targets.Target
        self.role = role
        self.cases = cases            # [Case]
        self.subprotocols = subprotocols  # None: every combination the case lists
        self.encodings = encodings
        self.executions = executions  # expected number of executions
        self.jobs = 1
        self.argv = []
        self.exit = None
        self.error = ""
        self.duration_s = 0.0
        self.stderr_tail = []


def plan(executions, targets):
    """Group executions into engine invocations."""
    by_group = OrderedDict()
    for ex in executions:
        by_group.setdefault((ex.target, ex.case.role), OrderedDict()).setdefault(
            ex.case_id, (ex.case, set()))[1].add((ex.subprotocol, ex.encoding))
    tmap = {t.name: t for t in targets}
    invocations = []
    for (tname, role), cases in by_group.items():
        buckets = OrderedDict()
        for case, combos in cases.values():
            if combos == set(case.combinations()):
                buckets.setdefault((None, None), []).append((case, combos))
                continue
            subs = sorted({s for s, _ in combos})
            encs = sorted({e for _, e in combos})
            if combos == {(s, e) for s in subs for e in encs}:
                buckets.setdefault((tuple(subs), tuple(encs)), []).append((case, combos))
            else:
                for s, e in sorted(combos):
                    buckets.setdefault(((s,), (e,)), []).append((case, {(s, e)}))
        for (subs, encs), members in buckets.items():
            n = len(invocations) + 1
            label = "all" if subs is None else "+".join(SUBPROTOCOLS[s] for s in subs) + \
                "-" + "+".join(encs)
            invocations.append(Invocation(
                f"{n:02d}-{tname}-{role}-{label}", tmap[tname], role,
                [c for c, _ in members], subs, encs, sum(len(c) for _, c in members)))
    return invocations


# A client execution starts the client under test and waits for it to exit,
# so it lasts longer than a broker execution (measured on the reference
# corpus: 411 ms against 156 ms on average, 2.6x). Weighting by it lets both
# invocations end together instead of one trailing with a small share.
ROLE_WEIGHT = {"broker": 1, "client": 2.6}


def share_jobs(invocations, jobs):
    """Split the concurrency budget in proportion to the expected work."""
    work = {id(i): i.executions * ROLE_WEIGHT.get(i.role, 1) for i in invocations}
    total = sum(work.values()) or 1
    for inv in invocations:
        inv.jobs = max(1, min(inv.executions, math.ceil(jobs * work[id(inv)] / total)))


class Progress:
    """Counts engine progress lines (one per execution) and shows them."""
    _VERDICT = re.compile(r"\b(pass|warn|fail|error|skip)(?:ed)?\b", re.I)
    _LINE = re.compile(r"^\[\d+/\d+\]\s+(pass|warn|fail|error|skip)\b")  # mbws-peer's own format

    def __init__(self, total, write, tty, verbose):
        self.total, self.write, self.tty, self.verbose = total, write, tty, verbose
        self.done = 0
        self.counts = {"pass": 0, "warn": 0, "fail": 0, "error": 0, "skip": 0}
        self.lock = threading.Lock()
        self.last_shown = -1
        self.started = time.monotonic()

    def line(self, inv, text):
        if text.startswith("mbws-peer run:") or not text.strip():
            return  # the engine's closing summary, or noise: not an execution
        with self.lock:
            self.done = min(self.total, self.done + 1)
            m = self._LINE.match(text)
            found = [m.group(1)] if m else self._VERDICT.findall(text)
            if found:
                self.counts[found[-1].lower()] += 1
            if self.verbose:
                self.write(f"  [{self.done}/{self.total}] {inv.target.name}: {text.rstrip()}\n")
            elif self.tty:
                self.write("\r" + self.status())
            else:
                step = max(1, self.total // 10)
                if self.done // step != self.last_shown or self.done == self.total:
                    self.last_shown = self.done // step
                    self.write(self.status() + "\n")

    def status(self):
        c = self.counts
        return (f"engine: {self.done}/{self.total} executions  pass {c['pass']}  "
                f"warn {c['warn']}  fail {c['fail']}  error {c['error']}  skip {c['skip']}  "
                f"({time.monotonic() - self.started:.0f} s)")

    def finish(self):
        if self.tty and not self.verbose:
            self.write("\r" + self.status() + "\n")


def engine_argv(peer_prefix, case_paths, target_args, jobs, case_timeout_ms, json_out,
                subprotocols=(), encodings=(), strict=False):
    """`mbws-peer run` for these cases against target_args (["--target", URL]
    or ["--listen", HOST:PORT, "--client-cmd", CMD]), docs/engine-interface.md."""
    argv = list(peer_prefix) + ["run"]
    for path in case_paths:
        argv += ["--case", str(path)]
    argv += list(target_args)
    for s in subprotocols or ():
        argv += ["--subprotocol", s]
    for e in encodings or ():
        argv += ["--encoding", e]
    argv += ["--jobs", str(jobs), "--case-timeout", str(case_timeout_ms), "--json", str(json_out)]
    if strict:
        argv.append("--strict")
    return argv


def overall_timeout_s(executions, jobs, case_timeout_ms):
    """The one timeout policy for an engine invocation: each wave of `jobs`
    executions may take its case timeout, with half again as slack, plus a
    minute for starting up and writing the result file. Past it the engine
    and every client it started are killed."""
    waves = math.ceil(max(1, executions) / max(1, jobs))
    return waves * case_timeout_ms / 1000.0 * 1.5 + 60


def _argv(inv, peer_prefix, broker_url, client_cmd, json_out, case_timeout_ms, strict=False,
          tls=None):
    if inv.role == "broker":
        target = ["--target", broker_url]
        if getattr(inv.target, "broker_disconnect_cmd", None):  # SES-7 trigger
            target += ["--broker-disconnect-cmd", inv.target.broker_disconnect_cmd]
        if tls:
            target += tls.broker_args(broker_url, inv.target.broker_url == "bundled")
    else:
        target = ["--listen", "127.0.0.1:0", "--client-cmd", client_cmd]
        if tls:
            target += tls.client_args()
    return engine_argv(peer_prefix, [c.path for c in inv.cases], target, inv.jobs,
                       case_timeout_ms, json_out, inv.subprotocols, inv.encodings, strict)


_RUNNING = set()  # engine processes alive, killed (by process group) on interrupt
_RUNNING_LOCK = threading.Lock()


class EngineRun:
    """How one engine invocation ended: exit status (None: it did not
    start, negative: killed by that signal), error text ("" when the exit
    status is 0 or 1 as the contract says), duration, last stderr lines."""

    def __init__(self):
        self.exit = None
        self.error = ""
        self.duration_s = 0.0
        self.stderr_tail = []


def run_engine(argv, log_path, timeout_s, on_line=None, tail_lines=20):
    """The one engine runner: starts argv in its own process group (the
    engine and the clients under test it starts), copies its stdout and
    stderr to log_path, hands each stderr line to on_line, and kills the
    group after timeout_s. stop_all() kills every engine still running."""
    result = EngineRun()
    t0 = time.monotonic()
    log = open(log_path, "w", encoding="utf-8", errors="replace")
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.PIPE, text=True, errors="replace",
                                start_new_session=True)
    except OSError as exc:
        log.close()
        result.error = f"cannot start the engine: {exc}"
        return result
    with _RUNNING_LOCK:
        _RUNNING.add(proc)
    timed_out = threading.Event()
    timer = threading.Timer(timeout_s, lambda: (timed_out.set(), _kill_group(proc)))
    timer.start()
    tail = []
    try:
        for line in proc.stderr:
            log.write(line)
            tail.append(line.rstrip("\n"))
            del tail[:-tail_lines]
            if on_line:
                on_line(line)
        proc.wait()
    finally:
        timer.cancel()
        log.close()
        with _RUNNING_LOCK:
            _RUNNING.discard(proc)
    result.duration_s = time.monotonic() - t0
    result.exit = proc.returncode
    result.stderr_tail = tail
    if timed_out.is_set():
        result.error = f"the engine did not finish within {timeout_s:.0f} s (killed)"
    elif proc.returncode < 0:
        result.error = f"the engine was killed by signal {-proc.returncode}"
    elif proc.returncode == 2:
        result.error = "the engine refused the invocation (exit 2: bad usage or invalid case file)"
    elif proc.returncode not in (0, 1):
        result.error = f"the engine exited with unexpected status {proc.returncode}"
    return result


def stop_all():
    """Kills every engine run_engine() started that is still running."""
    with _RUNNING_LOCK:
        procs = list(_RUNNING)
    for proc in procs:
        _kill_group(proc)


def run_invocation(inv, argv, out_dir, progress, timeout_s):
    """Run one engine invocation; stderr lines feed the progress display."""
    inv.argv = argv
    r = run_engine(argv, Path(out_dir) / f"{inv.id}.stderr.log", timeout_s,
                   lambda line: progress.line(inv, line))
    inv.exit, inv.error, inv.duration_s, inv.stderr_tail = \
        r.exit, r.error, r.duration_s, r.stderr_tail


def _kill_group(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the engine and the clients it started
    except (ProcessLookupError, PermissionError):
        pass


def execute(invocations, peer_prefix, client_prefix, broker_urls, run_dir, jobs,
            case_timeout_ms, progress, strict=False, tls=None):
    """Run every invocation concurrently and write <run_dir>/engine/index.json."""
    out_dir = Path(run_dir) / "engine"
    out_dir.mkdir(parents=True, exist_ok=True)
    share_jobs(invocations, jobs)
    threads = []
    for inv in invocations:
        client_cmd = inv.target.client_cmd
        if inv.role == "client" and inv.target.bundled_client and client_prefix:
            client_cmd = " ".join(shlex.quote(a) for a in client_prefix) + " " + client_cmd
        overall = overall_timeout_s(inv.executions, inv.jobs, case_timeout_ms)
        argv = _argv(inv, peer_prefix, broker_urls.get(inv.target.name), client_cmd,
                     out_dir / f"{inv.id}.json", case_timeout_ms, strict, tls)
        th = threading.Thread(target=run_invocation, args=(inv, argv, out_dir, progress, overall))
        th.start()
        threads.append(th)
    try:
        for th in threads:
            th.join()
    except BaseException:  # Ctrl-C: stop the engines we started, then give up
        stop_all()
        for th in threads:
            th.join(10)
        raise
    progress.finish()
    index = {"invocations": [{
        "id": inv.id, "target": inv.target.name, "role": inv.role,
        "json": f"{inv.id}.json", "stderr_log": f"{inv.id}.stderr.log",
        "argv": inv.argv, "jobs": inv.jobs, "executions": inv.executions,
        "exit": inv.exit, "error": inv.error, "duration_s": round(inv.duration_s, 3),
        "stderr_tail": inv.stderr_tail,
        "cases": [c.id for c in inv.cases]} for inv in invocations],
        "broker_urls": broker_urls}
    tmp = out_dir / (INDEX + ".tmp")
    tmp.write_text(json.dumps(index, indent=1))
    os.replace(tmp, out_dir / INDEX)
    return index


def _has_surrogate(value):
    if isinstance(value, str):
        return any("\udc80" <= ch <= "\udcff" for ch in value)
    if isinstance(value, list):
        return any(_has_surrogate(v) for v in value)
    if isinstance(value, dict):
        return any(_has_surrogate(k) or _has_surrogate(v) for k, v in value.items())
    return False


def _unsurrogate(value):
    """Octets that were not UTF-8 (decoded as surrogates) as the text \\xNN."""
    if isinstance(value, str):
        return "".join(f"\\x{ord(ch) - 0xdc00:02x}" if "\udc80" <= ch <= "\udcff" else ch
                       for ch in value)
    if isinstance(value, list):
        return [_unsurrogate(v) for v in value]
    if isinstance(value, dict):
        return {_unsurrogate(k): _unsurrogate(v) for k, v in value.items()}
    return value


def _salvage(text):
    """The result records of a file that does not parse as a whole, one by
    one, up to the first that does not parse either."""
    records = []
    start = text.find('"results"')
    at = text.find("[", start) + 1 if start >= 0 else 0
    dec = json.JSONDecoder()
    while at > 0:
        while at < len(text) and text[at] in " \t\r\n,":
            at += 1
        if at >= len(text) or text[at] != "{":
            break
        try:
            rec, at = dec.raw_decode(text, at)
        except ValueError:
            break
        records.append(rec)
    return records


def read_result_file(path):
    """(document, results, problem) of an engine result file. A result file
    that is broken (octets that are not UTF-8, a cut-off file) costs only the
    executions it breaks: a record with bad octets becomes an `error` of its
    own, a file that does not parse gives the records before the damage."""
    text = Path(path).read_bytes().decode("utf-8", errors="surrogateescape")
    problem = ""
    try:
        doc = json.loads(text)
        results = doc["results"]
        if not isinstance(results, list):
            raise ValueError("'results' is not a list")
    except (ValueError, KeyError, TypeError) as exc:
        doc, results = None, _salvage(text)
        problem = (f"unreadable engine result file: {exc}; "
                   f"{len(results)} results before the damage were kept")
    fixed = []
    for rec in results:
        if isinstance(rec, dict) and _has_surrogate(rec):
            rec = _unsurrogate(rec)
            rec["verdict"] = "error"
            rec["reason"] = ("the engine's result for this execution is not valid UTF-8 "
                             "(octets shown as \\xNN); " + str(rec.get("reason", "")))
        fixed.append(rec)
    if doc is not None and _has_surrogate({k: v for k, v in doc.items() if k != "results"}):
        doc = _unsurrogate({k: v for k, v in doc.items() if k != "results"})
    return doc, fixed, problem


class ResultStore:
    """Engine results of a run, by (target, case, subprotocol, encoding)."""

    def __init__(self, run_dir):
        self.dir = Path(run_dir) / "engine"
        self.index = json.loads((self.dir / INDEX).read_text())
        self.records = {}
        self.meta = {}
        self.tls = {}  # (target, role) -> the engine's "target" "tls" facts
        self.problems = []
        for inv in self.index["invocations"]:
            engine_doc, results = None, []
            try:
                engine_doc, results, broken = read_result_file(self.dir / inv["json"])
                if broken:
                    inv["error"] = (inv["error"] + "; " if inv["error"] else "") + broken
            except FileNotFoundError:
                if not inv["error"]:
                    inv["error"] = f"the engine wrote no result file (exit {inv['exit']})"
            if engine_doc and not self.meta:
                self.meta = {k: engine_doc.get(k) for k in ("tool", "version", "profile")}
            tls = engine_doc and isinstance(engine_doc.get("target"), dict) and \
                engine_doc["target"].get("tls")
            if tls and (tls.get("version") or (inv["target"], inv["role"]) not in self.tls):
                self.tls[(inv["target"], inv["role"])] = tls
            if inv["error"]:
                self.problems.append(inv)
            for rec in results:
                if not isinstance(rec, dict):
                    continue
                rec = dict(rec, target=inv["target"])
                key = (inv["target"], rec.get("case"), rec.get("subprotocol"), rec.get("encoding"))
                self.records[key] = rec
        self.by_target_role = {(i["target"], i["role"]): i for i in self.index["invocations"]}

    def get(self, key):
        return self.records.get(key)

    def invocation_for(self, target, case_id):
        for inv in self.index["invocations"]:
            if inv["target"] == target and case_id in inv["cases"]:
                return inv
        return None
