"""With --valgrind: the peer processes must be memcheck clean (collected
only with --valgrind)."""
import json

import pytest


@pytest.mark.parametrize("process", ["engine", "broker", "echo"])
def test_valgrind(process, mbws):
    path = mbws.run_dir / "valgrind.json"
    if not path.exists():
        pytest.fail(f"no valgrind verdicts in {path}: the engine did not run", pytrace=False)
    logs = [e for e in json.loads(path.read_text()) if e["process"] == process]
    if not logs:
        pytest.skip(f"no {process} process ran under valgrind in this selection")
    bad = [e for e in logs if e["errors"]]
    # A client the engine had to kill leaves an unfinished log; the engine and
    # the broker always end on their own, so theirs must be complete.
    unfinished = [e for e in logs if not e["complete"] and process != "echo"]
    if bad or unfinished:
        lines = [f"valgrind: {len(bad)} of {len(logs)} {process} process(es) with errors, "
                 f"{len(unfinished)} without a final summary"]
        for e in (bad + unfinished)[:5]:
            lines.append(f"--- {e['log']} ({e['errors']} errors)\n{e['excerpt']}")
        pytest.fail("\n".join(lines), pytrace=False)
