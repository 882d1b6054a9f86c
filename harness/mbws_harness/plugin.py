"""The pytest plugin: options, one test per case x subprotocol x encoding
(x target), one batched engine run per session, verdict mapping, reports.

Loaded by harness/suite/conftest.py; `harness/mbws-suite` is the front door.
The process that controls the session (the only one without xdist, the
controller with xdist) starts the bundled broker, runs the engine once the
final selection is known, and writes the reports; xdist workers only read the
engine's results from the run directory."""

import json
import os
import sys
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path

import pytest

from . import DEFAULT_REPORT_DIR, REPO_DIR, SUBPROTOCOLS, engine, expected, report, selection, tls, valgrind
from .cases import CaseError, Execution, load_cases, load_requirements
from .messages import failure_message, reason_text, terminal_safe
from .started import StartedBroker
from .targets import (BUNDLED, BundledBroker, TargetError, build_targets, check_client_cmd,
                      check_reachable, find_peer)

_STATE = pytest.StashKey()


class MbwsNonStrict(UserWarning):
    """An execution with verdict `warn`: a SHOULD of the profile, or a reading
    of this project beyond it, did not hold. Not a failure (--strict makes it
    one)."""


def pytest_addoption(parser):
    parser.prog = "mbws-suite"  # option errors name the front door, not pytest's __main__.py
    g = parser.getgroup("mbws", "MBWS conformance suite (see harness/README.md)")
    g.addoption("--target-url", metavar="URL",
                help="ws:// or wss:// URL of a broker under test (B- cases)")
    g.addoption("--ca-file", metavar="FILE",
                help="wss:// brokers: verify their certificate against this CA (PEM) instead "
                     "of the system's")
    g.addoption("--insecure", action="store_true",
                help="wss:// brokers: no certificate or host name check (stated in the reports)")
    g.addoption("--tls", action="store_true",
                help="TLS for the bundled targets: the reference broker serves wss://, and every "
                     "client under test gets a wss:// MBWS_URL with MBWS_CA_FILE (a certificate "
                     "made for the run with the openssl command)")
    g.addoption("--client-cmd", metavar="CMD",
                help="shell command of a client under test, started per C- case with the "
                     "MBWS_* environment of profile section 12")
    g.addoption("--broker-disconnect-cmd", metavar="CMD",
                help="shell command that makes the broker under test start a DISCONNECT of the "
                     "sessions subscribed to $MBWS_ADDRESS (SES-7 initiator cases; they skip without it)")
    g.addoption("--target-name", metavar="NAME",
                help="name of the --target-url/--client-cmd target in reports (default 'target')")
    g.addoption("--target", dest="targets", action="append", metavar="NAME=URL",
                help="a broker under test, repeatable: several targets give an interop matrix; "
                     "URL 'bundled' starts the reference broker")
    g.addoption("--client", dest="clients", action="append", metavar="NAME=CMD",
                help="a client under test, repeatable; the same NAME as a --target joins them; "
                     "CMD 'bundled' is the reference echo client")
    g.addoption("--start", metavar="CMD",
                help="start the broker under test with CMD (through /bin/sh, in its own process "
                     "group) before the run, wait until --target-url accepts connections, stop "
                     "the group at the end; its output goes to <run-dir>/broker-under-test.log")
    g.addoption("--start-timeout", type=float, default=30.0, metavar="S",
                help="how long --start waits for the broker to accept connections (default 30)")
    g.addoption("--expected-failures", metavar="FILE",
                help="known, accepted failures (JSON or 'CASE [SUBPROTOCOL] [ENCODING]: reason' "
                     "lines): listed failures are xfail, the run exits 0 unless something else "
                     "fails; a listed execution that passes is reported as xpass")
    g.addoption("--exclude", action="append", metavar="ID",
                help="leave out a case (B-FLOW-003) or the cases citing a requirement (FLOW-3) "
                     "or prefix (FLOW), repeatable")
    g.addoption("--peer", metavar="PATH",
                help="the mbws-peer binary (default: build/peer/mbws-peer in the repository)")
    g.addoption("--cases", metavar="DIR", default=str(REPO_DIR / "cases"),
                help="case directory with schema.json (default: the repository's cases/)")
    g.addoption("--jobs", type=int, default=48, metavar="N",
                help="concurrent case executions in the engine (default 48; most cases "
                     "wait on timers, not on the CPU)")
    g.addoption("--case-timeout", type=int, default=20000, metavar="MS",
                help="hard limit for one case execution (default 20000)")
    g.addoption("--section", dest="sections", action="append", metavar="NAME|NUMBER",
                help="only cases of this section (name like 'flow' or profile section "
                     "number like 8), repeatable")
    g.addoption("--req", dest="reqs", action="append", metavar="ID",
                help="only cases citing this requirement (FLOW-3) or prefix (FLOW), repeatable")
    g.addoption("--mbws-strict", dest="mbws_strict", action="store_true",
                help="(harness/mbws-suite --strict) a SHOULD of the profile or a reading of this project that does not hold "
                     "(verdict warn) fails the execution instead")
    g.addoption("--valgrind", action="store_true",
                help="run the engine and the bundled broker under valgrind memcheck; "
                     "any error or definite/indirect leak fails the run")
    g.addoption("--report-dir", metavar="DIR", default=str(DEFAULT_REPORT_DIR),
                help="where reports/<run-id>/ and reports/latest go (default: reports/)")
    g.addoption("--run-id", metavar="ID", help="name of the run directory (default: a timestamp)")


class SuiteState:
    def __init__(self, config):
        opt = config.option
        self.config = config
        self.worker = hasattr(config, "workerinput")
        self.peer = find_peer(opt.peer)
        if opt.jobs < 1:
            raise TargetError("--jobs must be at least 1")
        if opt.case_timeout < 100:
            raise TargetError("--case-timeout is in milliseconds and must be at least 100")
        self.cases_dir = Path(opt.cases)
        self.cases = load_cases(self.cases_dir, REPO_DIR)
        self.sections, self.requirements = load_requirements(self.cases_dir)
        selection.check(self)
        self.expected = []
        if opt.expected_failures:
            try:
                self.expected = expected.load(opt.expected_failures, {c.id for c in self.cases})
            except expected.ExpectedError as exc:
                raise TargetError(str(exc)) from None
        self.targets = build_targets(opt, self.peer)
        if opt.start and not (opt.target_url and opt.target_url != BUNDLED):
            raise TargetError("--start needs --target-url (where the started broker listens)")
        self.started_broker = None
        self.tls = tls.setup_from_options(opt)
        self.several = len(self.targets) > 1
        self.executions = []
        for t in self.targets:
            roles = t.roles()
            for case in self.cases:
                if case.role in roles:
                    for s, e in case.combinations():
                        self.executions.append(Execution(t.name, case, case.id, s, e))
        self.by_test_id = {ex.test_id(self.several): ex for ex in self.executions}
        self.run_dir = run_dir_for(config)
        self.ran = False
        self.selected = []
        self.started = time.time()
        self.broker_urls = {}
        self.report_paths = None
        self.summary = None
        self._store = None

    # -- the controlling process -------------------------------------------------
    def preflight(self):
        """Early, clear errors: unreachable brokers, missing client programs.
        Starts the broker under test (--start) last, once the rest is known good."""
        opt = self.config.option
        if opt.valgrind:
            try:
                valgrind.prefix(self.run_dir / "valgrind", "probe")
            except FileNotFoundError as exc:
                raise TargetError(f"--valgrind: {exc}") from None
        for t in self.targets:
            if t.client_cmd and not t.bundled_client:
                check_client_cmd(t.client_cmd)
        if opt.start:
            self.started_broker = StartedBroker(opt.start, opt.target_url,
                                                self.run_dir / "broker-under-test.log",
                                                opt.start_timeout)
            self.started_broker.start()
        for t in self.targets:
            if t.broker_url and t.broker_url != BUNDLED:
                check_reachable(t.broker_url)

    def stop_started(self):
        """Stop the --start broker (idempotent); returns its exit status."""
        b = self.started_broker
        if b is not None and b.proc is not None and b.exit_status is None:
            b.exit_status = b.stop()
        return b and b.exit_status

    def run_engine(self, executions):
        if self.ran:
            return
        self.ran = True
        self.selected = executions
        tr = self.config.pluginmanager.get_plugin("terminalreporter")
        write = (lambda s: (tr.write(s), tr.flush())) if tr else sys.stderr.write
        self.run_dir.mkdir(parents=True, exist_ok=True)
        use_vg = self.config.option.valgrind
        vg_dir = self.run_dir / "valgrind"
        peer_prefix = (valgrind.prefix(vg_dir, "engine") if use_vg else []) + [str(self.peer)]
        brokers = []
        try:
            tls.make(self.tls, self.run_dir)
            needs_bundled = any(ex.case.role == "broker" and self._target(ex).broker_url == BUNDLED
                                for ex in executions)
            bundled_url = None
            if needs_bundled:
                b = BundledBroker((valgrind.prefix(vg_dir, "broker") if use_vg else [])
                                  + [str(self.peer)], self.run_dir / "broker.log",
                                  start_timeout=60.0 if use_vg else 15.0,
                                  tls=(self.tls.cert, self.tls.key) if self.tls.serve else None)
                brokers.append(b)
                bundled_url = b.start()
                write(f"\nbundled reference broker: {bundled_url} (pid {b.proc.pid})\n")
            for t in self.targets:
                if t.broker_url:
                    self.broker_urls[t.name] = bundled_url if t.broker_url == BUNDLED else t.broker_url
            invs = engine.plan(executions, self.targets)
            progress = engine.Progress(len(executions), write,
                                       tty=bool(tr and tr.isatty) and self.config.option.verbose < 2,
                                       verbose=self.config.option.verbose >= 2)
            jobs = self.config.option.jobs
            write(f"running {len(executions)} executions in {len(invs)} engine invocation(s), "
                  f"{jobs} at a time{' under valgrind' if use_vg else ''}\n")
            engine.execute(invs, peer_prefix, valgrind.prefix(vg_dir, "echo") if use_vg else None,
                           self.broker_urls, self.run_dir, jobs,
                           self.config.option.case_timeout, progress,
                           strict=self.config.option.mbws_strict, tls=self.tls)
        except TargetError as exc:
            # The engine did not run: record why, every test then fails with it.
            (self.run_dir / "engine").mkdir(exist_ok=True)
            (self.run_dir / "engine" / engine.INDEX).write_text(json.dumps(
                {"invocations": [], "broker_urls": {}, "setup_error": str(exc)}))
            write(f"\nERROR: {exc}\n")
        finally:
            for b in brokers:
                code = b.stop(grace=30.0 if use_vg else 10.0)
                if use_vg and code == valgrind.ERROR_EXIT:
                    write("bundled broker: valgrind reported errors\n")
            tls.forget_key(self.tls)
        if use_vg:
            (self.run_dir / "valgrind.json").write_text(json.dumps(valgrind.judge_logs(vg_dir), indent=1))

    def _target(self, ex):
        return next(t for t in self.targets if t.name == ex.target)

    # -- any process ---------------------------------------------------------------
    def store(self):
        if self._store is None:
            try:
                self._store = engine.ResultStore(self.run_dir)
            except FileNotFoundError:
                pytest.fail(f"no engine results in {self.run_dir}/engine (the engine did not run)",
                            pytrace=False)
        return self._store

    def check(self, ex):
        """The body of every conformance test."""
        store = self.store()
        rec = store.get(ex.key)
        target = self._target(ex)
        if rec is None:
            why = store.index.get("setup_error")
            inv = store.invocation_for(ex.target, ex.case_id)
            if not why and inv:
                why = inv["error"] or f"the engine (exit {inv['exit']}) reported no result for it"
                if inv.get("stderr_tail"):
                    why += "\nengine stderr (tail):\n  " + "\n  ".join(inv["stderr_tail"][-10:])
            pytest.fail(f"{ex.case_id} [{ex.subprotocol}, {ex.encoding}] against {ex.target}: "
                        f"ERROR: no result from the engine\n{why or 'not run'}", pytrace=False)
        verdict = rec.get("verdict")
        known = expected.find(self.expected, ex.case_id, ex.subprotocol, ex.encoding)
        if verdict == "pass":
            return  # a listed execution that passes: xpass (pytest_runtest_makereport)
        if known and verdict == "fail":
            pytest.xfail(f"{ex.case_id} [{ex.combo}]: expected failure ({known.where}): "
                         f"{known.reason}\n  it failed with: {rec.get('reason') or 'see the report'}")
        if verdict == "warn":  # conforms, with warnings: a pass that says so
            warnings.warn(MbwsNonStrict(f"{ex.case_id} [{ex.combo}]: {rec.get('reason')}"))
            return
        if verdict == "skip":
            pytest.skip(terminal_safe(
                f"{ex.case_id} [{ex.combo}]: "
                f"{reason_text(rec.get('reason')) or 'skipped by the engine'}"))
        hint = f"report: {self.run_dir / 'index.html'}#{report.anchor(rec)}"
        pytest.fail(failure_message(rec, f"{target.name} ({target.describe(self.broker_urls.get(target.name))})", hint),
                    pytrace=False)


def _state(config):
    return config.stash.get(_STATE, None)


def run_dir_for(config):
    """reports/<run-id>: from --run-id or a timestamp, chosen once per run."""
    if hasattr(config, "workerinput"):
        return Path(config.workerinput["mbws_run_dir"])
    opt = config.option
    run_id = opt.run_id or (datetime.now().strftime("%Y%m%d-%H%M%S") + f"-{os.getpid()}")
    if "/" in run_id or run_id in (".", "..", "latest"):
        raise TargetError(f"--run-id: {run_id!r} is not a usable directory name")
    return Path(opt.report_dir).resolve() / run_id


def _not_run(config, why, state=None):
    """A run that executes nothing still leaves a report saying why (CI uploads it)."""
    if hasattr(config, "workerinput") or config.option.collectonly:
        return
    try:
        run_dir = state.run_dir if state else run_dir_for(config)
        report.write_not_run(run_dir, why, config, state)
        sys.stderr.write(f"report (nothing was run): {run_dir / 'index.html'}\n")
    except Exception as exc:  # no usable report directory: the error itself still shows
        sys.stderr.write(f"(no report written: {exc})\n")


def pytest_configure(config):
    opt = config.option
    if getattr(opt, "help", False) or getattr(opt, "version", False) or \
            getattr(opt, "showfixtures", False) or getattr(opt, "markers", False):
        return
    state = None
    try:
        state = SuiteState(config)
        if not state.worker and not opt.collectonly:
            state.preflight()
    except (CaseError, TargetError) as exc:
        if state is not None:
            state.stop_started()
        _not_run(config, str(exc), state)
        raise pytest.UsageError(str(exc)) from None
    config.stash[_STATE] = state
    config.addinivalue_line("markers", "broker: cases that test a broker (B-)")
    config.addinivalue_line("markers", "client: cases that test a client (C-)")
    for short in SUBPROTOCOLS.values():
        config.addinivalue_line("markers", f"{short}: executions on that subprotocol")
    for e in ("binary", "text"):
        config.addinivalue_line("markers", f"{e}: executions in that session encoding")
    for sec in sorted({c.section for c in state.cases}):
        config.addinivalue_line("markers", f"{sec}: cases of section {sec}")
    for req in sorted({r for c in state.cases for r in c.requirements}):
        config.addinivalue_line("markers", f"{req}: cases citing requirement {req}")
    if config.pluginmanager.hasplugin("xdist") and not state.worker:
        config.pluginmanager.register(_XdistController(state), "mbws-xdist-controller")


def pytest_generate_tests(metafunc):
    state = _state(metafunc.config)
    if state is None or "execution" not in metafunc.fixturenames:
        return
    params = []
    for ex in state.executions:
        marks = [getattr(pytest.mark, m) for m in
                 (ex.case.section, ex.case.role, SUBPROTOCOLS[ex.subprotocol], ex.encoding,
                  *ex.case.requirements)]
        params.append(pytest.param(ex, id=ex.test_id(state.several), marks=marks))
    metafunc.parametrize("execution", params)


def _section_numbers(state, case):
    nums = set()
    for req in case.requirements:
        info = state.requirements.get(req) or {}
        title = state.sections.get(info.get("section", ""), "")
        if title.split(".")[0].isdigit():
            nums.add(title.split(".")[0])
    title = state.sections.get(case.section, "")
    if title.split(".")[0].isdigit():
        nums.add(title.split(".")[0])
    return nums


def _wanted(state, case):
    opt = state.config.option
    if opt.sections:
        names = {case.section.lower()} | _section_numbers(state, case)
        if not any(s.lower() in names for s in opt.sections):
            return False
    if opt.reqs:
        def hit(want):
            want = want.upper()
            return any(r.upper() == want or r.upper().startswith(want + "-") for r in case.requirements)
        if not any(hit(w) for w in opt.reqs):
            return False
    return True


def pytest_collection_modifyitems(config, items):
    state = _state(config)
    opt = config.option
    if state is None or not (opt.sections or opt.reqs or opt.exclude):
        return
    keep, drop = [], []
    for item in items:
        ex = getattr(getattr(item, "callspec", None), "params", {}).get("execution")
        wanted = ex is None or (_wanted(state, ex.case) and not selection.excluded(ex.case, opt.exclude))
        (keep if wanted else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def pytest_collection_finish(session):
    state = _state(session.config)
    if state is None or state.worker or session.config.option.collectonly:
        return
    execs = [item.callspec.params["execution"] for item in session.items
             if "execution" in getattr(getattr(item, "callspec", None), "params", {})]
    if execs or session.config.option.valgrind:
        state.run_engine(execs)


class _XdistController:
    """With pytest-xdist: hand the run directory to the workers, and run the
    engine once, in the controller, as soon as a worker reports the final
    selection (every worker collects and deselects identically)."""

    def __init__(self, state):
        self.state = state

    def pytest_configure_node(self, node):
        node.workerinput["mbws_run_dir"] = str(self.state.run_dir)

    def pytest_xdist_node_collection_finished(self, node, ids):
        st = self.state
        if st.ran or st.config.option.collectonly:
            return
        execs = []
        for nodeid in ids:
            if "::test_case[" in nodeid:
                ex = st.by_test_id.get(nodeid.split("::test_case[", 1)[1][:-1])
                if ex is not None:
                    execs.append(ex)
        if execs or st.config.option.valgrind:
            st.run_engine(execs)


@pytest.fixture(scope="session")
def mbws(request):
    state = _state(request.config)
    if state is None:
        pytest.fail("the MBWS plugin is not configured", pytrace=False)
    return state


def pytest_ignore_collect(collection_path, config):
    if collection_path.name == "test_valgrind.py" and not config.option.valgrind:
        return True
    return None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Point a skip at the case file rather than at the harness line that
    raised it (pytest shows that location in its short summary)."""
    outcome = yield
    rep = outcome.get_result()
    ex = getattr(getattr(item, "callspec", None), "params", {}).get("execution")
    if ex is None:
        return
    if rep.skipped and isinstance(rep.longrepr, tuple):
        rep.longrepr = (ex.case.file, None, rep.longrepr[2])
    state = _state(item.config)
    if state and rep.when == "call" and rep.passed:
        known = expected.find(state.expected, ex.case_id, ex.subprotocol, ex.encoding)
        if known:  # pytest's XPASS: passed, but listed as an expected failure
            rep.wasxfail = f"listed in {known.where} ({known.reason}) but passed: prune the entry"


def pytest_sessionfinish(session, exitstatus):
    state = _state(session.config)
    if state is None or state.worker:
        return
    state.stop_started()  # before the reports: its log is complete, its exit status known
    if not state.ran and not session.config.option.collectonly and \
            session.exitstatus in (pytest.ExitCode.NO_TESTS_COLLECTED, pytest.ExitCode.OK):
        why = selection.nothing_selected(state)
        session.exitstatus = pytest.ExitCode.USAGE_ERROR
        sys.stderr.write(f"ERROR: {why}\n")
        _not_run(session.config, why, state)
        return
    if not state.ran:
        return
    try:
        store = state.store()
    except BaseException:  # pytest.fail outcome: nothing to report
        return
    if session.config.option.valgrind and session.exitstatus == pytest.ExitCode.OK:
        # Fail the run on memcheck errors even when -k/-m deselected test_valgrind.
        path = state.run_dir / "valgrind.json"
        logs = json.loads(path.read_text()) if path.exists() else []
        if any(e["errors"] or (not e["complete"] and e["process"] != "echo") for e in logs):
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
    try:
        state.report_paths, state.summary = report.write_all(state, store, state.selected)
    except Exception as exc:  # a harness bug: say so, and do not let the run pass
        import traceback
        sys.stderr.write("ERROR: writing the reports failed:\n" + traceback.format_exc())
        session.exitstatus = pytest.ExitCode.INTERNAL_ERROR


def pytest_unconfigure(config):
    state = _state(config)
    if state is not None and not state.worker:
        state.stop_started()  # also after an interrupted or crashed run


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    state = _state(config)
    if state is None or state.worker or state.summary is None:
        return
    report.terminal_summary(terminalreporter, state)
