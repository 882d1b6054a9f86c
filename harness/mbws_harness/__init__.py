"""The MBWS conformance harness: a pytest plugin that drives `mbws-peer run`
(the case engine, a black box described in docs/engine-interface.md) and
turns its results into pytest verdicts and reports."""

from pathlib import Path

HARNESS_DIR = Path(__file__).resolve().parent.parent
REPO_DIR = HARNESS_DIR.parent
SUITE_VERSION = "0.1.0"
PROFILE = 1

# Short names used in test IDs, markers and reports.
SUBPROTOCOLS = {"MBWS.huawei.com": "MBWS", "MBLWS.huawei.com": "MBLWS"}
ENCODINGS = ("binary", "text")
VERDICTS = ("pass", "fail", "error", "skip")
