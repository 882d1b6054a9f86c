"""Human-readable text for one execution's result: failure messages and
wire-log lines (shared by pytest output, JUnit XML and the HTML report)."""

import re

ARROWS = {"out": "->", "in": "<-", "event": "**"}
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_.]*)\}")


def expand_leftovers(text):
    """A reason must never show a raw ${name}: one the engine could not expand
    (the value was never captured) reads as "(name: not known)"."""
    return _PLACEHOLDER.sub(lambda m: f"({m.group(1)}: not known)", text or "")

# C0 controls but tab and newline, DEL, C1 controls, and the bidi overrides:
# a target's text must not drive the terminal that shows a failure.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def terminal_safe(text):
    """text with control characters written as \\xNN (\\uNNNN above 0xff)."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
                        else f"\\u{ord(m.group()):04x}", str(text))


# Profile appendix B: the 1000 ms timers (ACK-2's ACK, FLOW-5's window) get
# 500 ms of tolerance in cases, so a case waits 1500 ms. Say so, instead of
# letting 1500 ms read like the profile's value.
_TIMED = re.compile(r"\b((?:ACK|FLOW)\b[^;\n]{0,60}?)within 1500 ms")


def timing_note(text):
    return _TIMED.sub(r"\1within 1000 ms (+500 ms tolerance)", text or "")


def reason_text(text):
    """A reason or expectation as reports show it."""
    return timing_note(expand_leftovers(text))


def wire_line(entry):
    t = entry.get("t_ms")
    when = f"{t:9.1f} ms" if isinstance(t, (int, float)) else " " * 12
    conn = f"c{entry.get('conn', '?')}"
    direction = entry.get("dir", "?")
    arrow = ARROWS.get(direction, direction)
    if direction == "event":
        return f"{when} {conn} {arrow} {entry.get('note', '')}"
    op = entry.get("opcode", "?")
    fin = "" if entry.get("fin", True) else " (no FIN)"
    length = entry.get("len")
    desc = entry.get("frame") or entry.get("note") or ""
    if not desc:
        hx = entry.get("hex", "")
        desc = "hex " + (hx[:48] + "..." if len(hx) > 48 else hx)
    if entry.get("decode_error"):
        desc += f" [does not decode: {entry['decode_error']}]"
    if entry.get("announced_len") is not None:
        desc += f" [header announced {entry['announced_len']} B]"
    if entry.get("close_code") is not None and "close" in op:
        reason = close_reason(entry)
        desc += f" [close code {entry['close_code']}{f' reason {reason!r}' if reason else ''}]"
    if entry.get("truncated"):
        desc += " [payload truncated]"
    size = f"{length} B" if length is not None else ""
    return f"{when} {conn} {arrow} {op}{fin} {size}  {desc}".rstrip()


def close_reason(entry):
    """The reason text of a close frame (the payload after the 2-octet code)."""
    hx = entry.get("hex") or ""
    if entry.get("opcode") != "close" or len(hx) <= 4:
        return ""
    try:
        return bytes.fromhex(hx[4:]).decode("utf-8", errors="replace")
    except ValueError:
        return ""


def wire_text(wire, tail=None):
    wire = wire or []
    lines = [wire_line(e) for e in wire[-tail:]] if tail else [wire_line(e) for e in wire]
    if tail and len(wire) > tail:
        lines.insert(0, f"   ... {len(wire) - tail} earlier entries (see the report)")
    return "\n".join(lines)


def step_text(step):
    if not step:
        return ""
    head = f"failed step #{step.get('index', '?')}"
    if step.get("kind"):
        head += f" ({step['kind']})"
    if step.get("path"):
        head += f" at {step['path']}"
    out = [head]
    if "expected" in step:
        out.append(f"  expected: {timing_note(str(step.get('expected')))}")
    if "received" in step:
        out.append(f"  received: {step.get('received')}")
    return "\n".join(out)


def failure_message(rec, target_desc="", report_hint="", tail=15):
    """The message of a failing pytest test (pytrace off: this is all it shows)."""
    verdict = rec.get("verdict", "error")
    kind = {"fail": "FAIL: the implementation broke an expectation",
            "error": "ERROR: a problem of the case or the environment"}.get(verdict, verdict)
    reqs = ", ".join(rec.get("requirements") or [])
    lines = [f"{rec.get('case')} [{rec.get('subprotocol')}, {rec.get('encoding')}]"
             f"{' against ' + target_desc if target_desc else ''}: {kind}",
             f"{rec.get('title', '')}" + (f"  ({reqs})" if reqs else "")]
    if rec.get("reason"):
        lines.append(f"reason: {reason_text(rec['reason'])}")
    st = step_text(rec.get("failed_step"))
    if st:
        lines.append(st)
    if rec.get("client_exit") is not None or rec.get("client_output"):
        lines.append(f"client under test: exit status {rec.get('client_exit')}")
        out = (rec.get("client_output") or "").rstrip().splitlines()[-10:]
        if out:
            lines.append("client output (tail):\n  " + "\n  ".join(out))
    if rec.get("wire"):
        n = len(rec["wire"])
        lines.append(f"wire log (last {min(tail, n)} of {n} entries):")
        lines.append(wire_text(rec["wire"], tail))
    if report_hint:
        lines.append(report_hint)
    return terminal_safe("\n".join(lines))
