"""Fixtures and helpers for the engine's self-tests (test_engine_*.py):
the mbws-peer binary, the scripted stand-in broker, and a runner for
`mbws-peer run` that returns the exit status, stderr and the result file."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CASES = Path(__file__).resolve().parent / "engine_cases"
STANDIN = ROOT / "harness" / "standin"
PY = "/usr/bin/python3"


def peer_binary():
    env = os.environ.get("MBWS_PEER")
    if env:
        return env
    for b in ("build-engine", "build"):
        p = ROOT / b / "peer" / "mbws-peer"
        if p.exists():
            return str(p)
    pytest.skip("mbws-peer is not built (set MBWS_PEER)")


@pytest.fixture(scope="session")
def peer():
    return peer_binary()


@pytest.fixture(scope="session")
def standin():
    """The stand-in broker; yields ws://127.0.0.1:PORT (add /MODE)."""
    proc = subprocess.Popen([PY, str(STANDIN / "standin_broker.py"), "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline()
    assert line.startswith("PORT "), "stand-in broker did not start: %r" % line
    yield "ws://127.0.0.1:%d" % int(line.split()[1])
    proc.terminate()
    proc.wait(timeout=5)


def client_cmd(mode):
    return "%s %s %s" % (PY, STANDIN / "standin_client.py", mode)


class Run:
    def __init__(self, rc, stderr, doc):
        self.rc, self.stderr, self.doc = rc, stderr, doc
        self.results = doc["results"] if doc else []

    def verdicts(self):
        return sorted({r["verdict"] for r in self.results})

    def one(self):
        assert len(self.results) == 1, self.stderr
        return self.results[0]


def run_engine(peer, tmp_path, cases, *args, timeout=60):
    """Runs mbws-peer run on case paths with extra args; returns a Run."""
    out = tmp_path / ("result-%d.json" % len(list(tmp_path.glob("result-*.json"))))
    cmd = [peer, "run"]
    for c in cases:
        cmd += ["--case", str(c)]
    cmd += list(args) + ["--json", str(out)]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    doc = json.loads(out.read_text()) if out.exists() else None
    return Run(p.returncode, p.stderr, doc)


def case(name):
    return CASES / (name + ".json")


def write_case(tmp_path, doc, name=None):
    p = tmp_path / ((name or doc["id"]) + ".json")
    p.write_text(json.dumps(doc, indent=1))
    return p
