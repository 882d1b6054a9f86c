"""Loads the MBWS harness plugin for the conformance suite in this directory."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mbws_harness.plugin import *  # noqa: E402,F401,F403  (pytest hooks and fixtures)
