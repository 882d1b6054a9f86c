"""The MBWS conformance harness: a pytest plugin that drives `mbws-peer run`
(the case engine, a black box described in docs/engine-interface.md) and
turns its results into pytest verdicts and reports."""

import subprocess
from pathlib import Path

HARNESS_DIR = Path(__file__).resolve().parent.parent
REPO_DIR = HARNESS_DIR.parent
# Installed from the Debian package: REPO_DIR is /usr/share/mbws-conformance
# (cases/, harness/, docs/), the engine is /usr/bin/mbws-peer, and reports go
# to ./reports of the current directory (/usr/share is not writable).
INSTALLED = REPO_DIR.parent.name == "share" and not (REPO_DIR / ".git").exists()
DEFAULT_PEER = (REPO_DIR.parent.parent / "bin" / "mbws-peer" if INSTALLED
                else REPO_DIR / "build" / "peer" / "mbws-peer")
DEFAULT_REPORT_DIR = Path("reports") if INSTALLED else REPO_DIR / "reports"
SUITE_VERSION = "0.1.0"
PROFILE = 1
PROFILE_REVISION = 4   # the revision of ../shared/spec/mbws-profile.md these cases follow


def suite_commit():
    """The suite's git commit: from suite-commit.txt when installed (written by
    the package build), else from git; None when neither is there."""
    stamp = REPO_DIR / "suite-commit.txt"
    if stamp.exists():
        return stamp.read_text().strip() or None
    try:
        out = subprocess.run(["git", "-C", str(REPO_DIR), "describe", "--always", "--dirty",
                              "--abbrev=40", "--match", "NO-TAGS"],
                             capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


# Short names used in test IDs, markers and reports.
SUBPROTOCOLS = {"MBWS.huawei.com": "MBWS", "MBLWS.huawei.com": "MBLWS"}
ENCODINGS = ("binary", "text")
# warn: every step held, but a SHOULD of the profile or a reading of this
# project did not (non-strict; --strict makes it a failure). Exit status 0.
VERDICTS = ("pass", "warn", "fail", "error", "skip")
