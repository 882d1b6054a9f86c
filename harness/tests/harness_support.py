"""Helpers for the harness's own tests: run the suite (harness/mbws-suite)
against the fake engine (tests/fake_peer.py) and read what it produced."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
HARNESS = TESTS.parent
REPO = HARNESS.parent
sys.path.insert(0, str(HARNESS))

FAKE_PEER = TESTS / "fake_peer.py"
FAKE_CASES = TESTS / "fake_cases"
SUITE = HARNESS / "mbws-suite"
CHROMIUM = "/usr/bin/chromium"

# What the fake engine decides for each fake case (see the "fake" objects).
FAKE_VERDICTS = {
    ("B-FLOW-003", "MBWS.huawei.com", "binary"): "fail",
    ("B-WS-002", "MBLWS.huawei.com", "text"): "error",
}
FAKE_SKIPPED_CASE = "B-FLOW-004"


class Run:
    def __init__(self, proc, report_dir, log):
        self.rc = proc.returncode
        self.out = proc.stdout + proc.stderr
        self.report_dir = Path(report_dir)
        self.log = Path(log)

    @property
    def run_dir(self):
        return (self.report_dir / "latest").resolve()

    def results(self):
        return json.loads((self.run_dir / "results.json").read_text())

    def invocations(self):
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def pytest_outcomes(self):
        """{test name: passed|failed|skipped} from pytest's own JUnit XML."""
        out = {}
        for tc in ET.parse(self.report_dir / "pytest-junit.xml").iter("testcase"):
            kind = "passed"
            for child in tc:
                if child.tag in ("failure", "error"):
                    kind = "failed"
                elif child.tag == "skipped":
                    kind = "skipped"
            out[tc.get("name")] = kind
        return out


def run_suite(workdir, *args, env=None, peer=FAKE_PEER, cases=FAKE_CASES, timeout=120):
    """Run harness/mbws-suite with the fake engine; reports go to workdir."""
    workdir = Path(workdir)
    report_dir = workdir / "reports"
    log = workdir / "engine-invocations.jsonl"
    argv = [str(SUITE)]
    if peer is not None:
        argv += ["--peer", str(peer)]
    if cases is not None:
        argv += ["--cases", str(cases)]
    argv += ["--report-dir", str(report_dir), "--junitxml", str(report_dir / "pytest-junit.xml"),
             *args]
    full_env = dict(os.environ, FAKE_PEER_LOG=str(log))
    full_env.pop("FAKE_PEER_MODE", None)
    full_env.pop("FAKE_PEER_VERDICT", None)
    full_env.update(env or {})
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=full_env,
                          cwd=str(workdir))
    return Run(proc, report_dir, log)


@pytest.fixture(scope="module")
def fake_run():
    """One full run of the suite on the fake cases, shared by a module's tests."""
    tmp = tempfile.mkdtemp(prefix="mbws-harness-test-")
    try:
        yield run_suite(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def chromium(url, *extra, timeout=90):
    """Headless Chromium with a fresh profile; returns the CompletedProcess."""
    profile = tempfile.mkdtemp(prefix="mbws-chromium-")
    try:
        return subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", f"--user-data-dir={profile}", *extra, url],
            capture_output=True, text=True, timeout=timeout)
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def load_cases_for_tests():
    from mbws_harness.cases import load_cases
    return load_cases(FAKE_CASES)
