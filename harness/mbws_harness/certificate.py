"""The conformance statement that opens a report: what was certified (target
URL, subprotocols, encodings, the name it announced in CONNECTED, TLS when
there is TLS), against what (profile and revision, suite version and commit),
when, and a verdict for every requirement of the profile."""

import os
import re
from collections import OrderedDict

from . import PROFILE, PROFILE_REVISION, REPO_DIR, SUBPROTOCOLS, suite_commit

_NAME_RE = re.compile(r'\bname="((?:[^"\\]|\\.)*)"')


def connected_name(records, target):
    """The name= the target's broker announced in its first CONNECTED, if any."""
    for r in records:
        if r["target"] != target or r["role"] != "broker":
            continue
        for e in r.get("wire") or []:
            frame = e.get("frame") or ""
            if e.get("dir") == "in" and frame.startswith("CONNECTED"):
                m = _NAME_RE.search(frame)
                if m:
                    return m.group(1)
    return None


def _req_verdict(req, recs, tested_roles):
    """(verdict, detail) of one requirement for one target from the records citing it."""
    if not recs:
        binds = req.get("binds")
        if binds in ("broker", "client") and binds not in tested_roles:
            return "not applicable", f"binds the {binds}; no {binds} was tested"
        return "not applicable", "no selected case cites it"
    verdicts = [r["verdict"] for r in recs]
    count = len(recs)
    failed = [r for r in recs if r["verdict"] in ("fail", "error")]
    if failed:
        known = [r for r in failed if r.get("expected_failure")]
        v = "error" if all(r["verdict"] == "error" for r in failed) else "fail"
        detail = f"{len(failed)} of {count} executions; first: {failed[0]['case']} {failed[0]['combination']}"
        if known and len(known) == len(failed):
            detail += f" (listed as expected failure: {known[0]['expected_failure']['reason']})"
        return v, detail
    if "warn" in verdicts:
        w = next(r for r in recs if r["verdict"] == "warn")
        return "warn", f"{verdicts.count('warn')} of {count} executions; {w['case']}: {w['reason']}"
    if "pass" in verdicts:
        skipped = verdicts.count("skip")
        return "pass", f"{verdicts.count('pass')} of {count} executions passed" + \
            (f", {skipped} skipped" if skipped else "")
    reasons = list(OrderedDict.fromkeys(r["reason"] or "no reason given" for r in recs))
    return "skip", "; ".join(reasons[:3]) + (f" (+{len(reasons) - 3} more)" if len(reasons) > 3 else "")


def protocol_link(run_dir):
    """docs/protocol.md relative to the report (its requirement IDs are anchors)."""
    return os.path.relpath(REPO_DIR / "docs" / "protocol.md", run_dir)


def build(doc, records, state):
    """The statement as a dict (also stored in results.json as "certificate")."""
    targets = []
    for t in doc["targets"]:
        mine = [r for r in records if r["target"] == t["name"]]
        tested = {r["role"] for r in mine}
        rows = []
        for rid, req in state.requirements.items():
            citing = [r for r in mine if rid in r["requirements"]]
            v, detail = _req_verdict(req, citing, tested)
            rows.append(OrderedDict([("id", rid), ("summary", req.get("summary", "")),
                                     ("binds", req.get("binds")), ("verdict", v),
                                     ("detail", detail)]))
        counts = OrderedDict()
        for row in rows:
            counts[row["verdict"]] = counts.get(row["verdict"], 0) + 1
        targets.append(OrderedDict([
            ("name", t["name"]),
            ("broker_url", t.get("broker_url")),
            ("client_cmd", t.get("client_cmd")),
            ("reference", bool(t.get("bundled_broker") or t.get("bundled_client"))),
            ("connected_name", connected_name(mine, t["name"])),
            ("tls", OrderedDict((k, v) for k, v in (("broker", t.get("broker_tls")),
                                                    ("client", t.get("client_tls"))) if v) or None),
            ("subprotocols", [s for s in SUBPROTOCOLS if any(r["subprotocol"] == s for r in mine)]),
            ("encodings", [e for e in ("binary", "text") if any(r["encoding"] == e for r in mine)]),
            ("requirement_counts", counts),
            ("requirements", rows),
        ]))
    return OrderedDict([
        ("profile", PROFILE), ("profile_revision", PROFILE_REVISION),
        ("suite_version", doc["suite_version"]), ("suite_commit", suite_commit()),
        ("date", doc["finished"]),
        ("protocol_doc", protocol_link(state.run_dir)),
        ("targets", targets),
    ])
