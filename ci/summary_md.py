#!/usr/bin/python3
"""Print a short Markdown summary of a results.json (for CI job summaries)."""
import json
import sys


def main(path):
    doc = json.load(open(path, encoding="utf-8"))
    s = doc["summary"]
    out = [f"### MBWS profile {doc['profile']} conformance: run {doc['run_id']}", ""]
    for t in doc["targets"]:
        c = s["cases_by_target"].get(t["name"], {"pass": 0, "fail": 0, "skip": 0})
        what = ", ".join(x for x in (t["broker_url"] and f"broker `{t['broker_url']}`",
                                     t["client_cmd"] and f"client `{t['client_cmd']}`") if x)
        out.append(f"- **{t['name']}** ({what}): {c['pass']}/{c['pass'] + c['fail']} cases passed"
                   + (f", {c['skip']} skipped" if c["skip"] else ""))
    several = len(doc["targets"]) > 1
    not_exercised = [f"- **{e['requirement']} NOT EXERCISED**{' @' + e['target'] if several else ''}: "
                     f"every case citing it skipped ({', '.join(e['cases'])}): {'; '.join(e['reasons'])}"
                     for e in s.get("not_exercised", [])]
    not_exercised += [f"- {e['requirement']} not exercised by `{e['case']}` [{', '.join(e['combinations'])}]"
                      f"{' @' + e['target'] if several else ''}: {'; '.join(e['reasons']) or 'skipped'}"
                      for e in s.get("skipped", [])]
    if not_exercised:  # skips are findings (issue 11): at the top, never hidden in a count
        out += ["", "Not exercised (a skip is a finding, not a pass):", ""] + not_exercised
    out += ["", f"Executions: {s['total']} — pass {s['pass']}, fail {s['fail']}, "
                f"error {s['error']}, skip {s['skip']}", "",
            "| section | pass | fail | error | skip |", "|---|---|---|---|---|"]
    for name, row in s["by_section"].items():
        out.append(f"| {name} | {row['pass']} | {row['fail']} | {row['error']} | {row['skip']} |")
    bad = [r for r in doc["results"] if r["verdict"] in ("fail", "error")]
    if bad:
        out += ["", "Failures:", ""]
        for r in bad[:30]:
            out.append(f"- `{r['id']}` ({r['verdict']}): {r['reason'] or r['title']}")
        if len(bad) > 30:
            out.append(f"- ... and {len(bad) - 30} more (see the report artifact)")
    print("\n".join(out))


if __name__ == "__main__":
    main(sys.argv[1])
