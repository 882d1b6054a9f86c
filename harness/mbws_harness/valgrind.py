"""Running the peer under valgrind memcheck and judging its logs."""

import re
import shutil
from pathlib import Path

ERROR_EXIT = 99  # distinct from the engine's own exit statuses (0, 1, 2)
_SUMMARY = re.compile(r"ERROR SUMMARY: (\d+) errors? from (\d+) contexts?")


def prefix(log_dir, name):
    """Command prefix that runs a program under memcheck, one log per process."""
    if shutil.which("valgrind") is None:
        raise FileNotFoundError("valgrind not found on PATH (apt-get install valgrind)")
    Path(log_dir).mkdir(parents=True, exist_ok=True)
    return ["valgrind", "--leak-check=full", "--errors-for-leak-kinds=definite,indirect",
            f"--error-exitcode={ERROR_EXIT}", "--show-leak-kinds=definite,indirect",
            "--num-callers=30", f"--log-file={Path(log_dir) / name}-%p.log"]


def judge_logs(log_dir):
    """[{log, process, errors, complete}] for every valgrind log in log_dir."""
    found = []
    for path in sorted(Path(log_dir).glob("*.log")):
        text = path.read_text(errors="replace")
        m = _SUMMARY.findall(text)
        errors = int(m[-1][0]) if m else None
        found.append({"log": str(path), "process": path.stem.rsplit("-", 1)[0],
                      "errors": errors, "complete": bool(m),
                      "excerpt": _excerpt(text) if (errors or not m) else ""})
    return found


def _excerpt(text, limit=60):
    lines = [ln for ln in text.splitlines() if ln.startswith("==")]
    return "\n".join(lines[-limit:])
