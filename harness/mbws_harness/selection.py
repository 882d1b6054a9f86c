"""Checks of the selection options (--section, --req, --exclude, -k): a name
that selects nothing is an error that lists the valid (or closest) names,
never a quiet run of zero cases."""

import difflib

from .targets import TargetError


def section_names(state):
    """Valid --section values: section names and profile section numbers."""
    names = {c.section for c in state.cases}
    for sec in list(names):
        head = state.sections.get(sec, "").split(".")[0]
        if head.isdigit():
            names.add(head)
    return names


def requirement_ids(state):
    return {r for c in state.cases for r in c.requirements} | set(state.requirements)


def _req_hit(want, ids):
    want = want.upper()
    return any(r.upper() == want or r.upper().startswith(want + "-") for r in ids)


def closest(word, names, n=6):
    near = difflib.get_close_matches(word, sorted(names), n=n, cutoff=0.5)
    if not near:
        near = difflib.get_close_matches(word.upper(), sorted(n_.upper() for n_ in names),
                                         n=n, cutoff=0.5)
    return near


def _unknown(option, word, names, kind, show_all):
    near = closest(word, names)
    listing = ", ".join(sorted(names, key=_natural)) if show_all else ""
    msg = f"{option} {word}: no {kind} of that name"
    if near:
        msg += f"; closest: {', '.join(near)}"
    if listing:
        msg += f"\nvalid {kind}s: {listing}"
    return msg


def check(state):
    """Raise TargetError for --section/--req/--exclude values naming nothing."""
    opt = state.config.option
    sections = section_names(state)
    reqs = requirement_ids(state)
    case_ids = {c.id for c in state.cases}
    errors = []
    for s in opt.sections or []:
        if s.lower() not in {n.lower() for n in sections}:
            errors.append(_unknown("--section", s, sections, "section", True))
    prefixes = {r.rsplit("-", 1)[0] for r in reqs}
    for r in opt.reqs or []:
        if not _req_hit(r, reqs):
            errors.append(_unknown("--req", r, reqs | prefixes, "requirement", False)
                          + f"\nrequirement prefixes: {', '.join(sorted(prefixes))}")
    for x in getattr(opt, "exclude", None) or []:
        if x not in case_ids and not _req_hit(x, reqs):
            errors.append(_unknown("--exclude", x, case_ids | reqs, "case or requirement", False))
    if errors:
        raise TargetError("\n".join(errors))


def excluded(case, excludes):
    """True when --exclude names this case or a requirement it cites."""
    return any(x == case.id or _req_hit(x, case.requirements) for x in excludes or [])


def nothing_selected(state):
    """Why the selection is empty, with the closest case ids for -k."""
    opt = state.config.option
    parts = [f"{k} {v}" for k, v in (("-k", opt.keyword), ("-m", opt.markexpr)) if v]
    parts += [f"--section {s}" for s in opt.sections or []]
    parts += [f"--req {r}" for r in opt.reqs or []]
    parts += [f"--exclude {x}" for x in getattr(opt, "exclude", None) or []]
    msg = f"the selection ({' '.join(parts) or 'none'}) selects no execution"
    words = [w for w in (opt.keyword or "").replace("(", " ").replace(")", " ").split()
             if w not in ("and", "or", "not")]
    ids = {c.id for c in state.cases}
    near = list(dict.fromkeys(n for w in words for n in closest(w, ids | section_names(state))))
    if near:
        msg += f"; closest case ids / sections: {', '.join(near)}"
    elif words:
        msg += f"; case ids look like {', '.join(sorted(ids, key=_natural)[:4])}, ..."
    return msg


def _natural(s):
    import re
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", str(s))]
