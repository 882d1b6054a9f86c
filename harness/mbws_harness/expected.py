"""--expected-failures FILE: known, accepted deviations of the target, like
pytest's xfail. A listed execution that fails is `xfail` (the run still exits
0); one that passes is `xpass` (reported, so the list gets pruned).

Two formats (docs: harness/README.md):

JSON, a list (or {"expected_failures": [...]}) of
  {"case": "B-FLOW-003", "subprotocol": "MBWS", "encoding": "binary",
   "reason": "our broker grants credit late, tracked in ISSUE-12"}
("subprotocol"/"encoding" optional: every combination).

Plain lines, '#' starts a comment:
  B-FLOW-003 [MBWS|MBLWS] [binary|text]: reason (required)
"""

import json
from dataclasses import dataclass

from . import ENCODINGS, SUBPROTOCOLS

_SHORT = {v.lower(): k for k, v in SUBPROTOCOLS.items()}
_SHORT.update({k.lower(): k for k in SUBPROTOCOLS})


class ExpectedError(Exception):
    """The expected-failures file is unreadable or wrong."""


@dataclass(frozen=True)
class Expected:
    case: str
    subprotocol: str   # full name, or None: any
    encoding: str      # or None: any
    reason: str
    where: str         # "FILE:LINE" or "FILE entry N", for messages

    def matches(self, case_id, subprotocol, encoding):
        return (self.case == case_id and self.subprotocol in (None, subprotocol)
                and self.encoding in (None, encoding))


def _entry(where, case, sub, enc, reason, known_cases):
    if not case:
        raise ExpectedError(f"{where}: no case id")
    if known_cases is not None and case not in known_cases:
        raise ExpectedError(f"{where}: unknown case {case!r}")
    full = None
    if sub:
        full = _SHORT.get(str(sub).lower())
        if full is None:
            raise ExpectedError(f"{where}: unknown subprotocol {sub!r} (MBWS or MBLWS)")
    if enc and enc not in ENCODINGS:
        raise ExpectedError(f"{where}: unknown encoding {enc!r} (binary or text)")
    if not (reason or "").strip():
        raise ExpectedError(f"{where}: a reason is required (why is this failure accepted?)")
    return Expected(case, full, enc or None, reason.strip(), where)


def _from_json(path, doc, known_cases):
    if isinstance(doc, dict):
        doc = doc.get("expected_failures")
    if not isinstance(doc, list):
        raise ExpectedError(f"{path}: expected a JSON list of entries "
                            "(or an object with \"expected_failures\": [...])")
    out = []
    for i, e in enumerate(doc, 1):
        where = f"{path} entry {i}"
        if not isinstance(e, dict):
            raise ExpectedError(f"{where}: expected an object with case, reason")
        unknown = set(e) - {"case", "subprotocol", "encoding", "reason"}
        if unknown:
            raise ExpectedError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
        out.append(_entry(where, e.get("case"), e.get("subprotocol"), e.get("encoding"),
                          e.get("reason"), known_cases))
    return out


def _from_lines(path, text, known_cases):
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        where = f"{path}:{n}"
        head, sep, reason = line.partition(":")
        if not sep:
            raise ExpectedError(f"{where}: expected 'CASE [SUBPROTOCOL] [ENCODING]: reason'")
        words = head.split()
        case, rest = (words[0] if words else ""), words[1:]
        sub = next((w for w in rest if w.lower() in _SHORT), None)
        enc = next((w for w in rest if w in ENCODINGS), None)
        extra = [w for w in rest if w not in (sub, enc)]
        if extra:
            raise ExpectedError(f"{where}: cannot read {' '.join(extra)!r} "
                                "(expected a subprotocol MBWS/MBLWS or an encoding binary/text)")
        out.append(_entry(where, case, sub, enc, reason, known_cases))
    return out


def load(path, known_cases=None):
    """The entries of an expected-failures file (JSON or plain lines)."""
    try:
        text = open(path, encoding="utf-8").read()
    except OSError as exc:
        raise ExpectedError(f"--expected-failures: cannot read {path}: {exc.strerror or exc}") from None
    if text.lstrip().startswith(("[", "{")):
        try:
            doc = json.loads(text)
        except ValueError as exc:
            raise ExpectedError(f"{path}: invalid JSON: {exc}") from None
        return _from_json(path, doc, known_cases)
    return _from_lines(path, text, known_cases)


def find(entries, case_id, subprotocol, encoding):
    return next((e for e in entries if e.matches(case_id, subprotocol, encoding)), None)
