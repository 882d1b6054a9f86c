"""Load case files, validate them against cases/schema.json, and expand each
case into its executions (case x subprotocol x encoding)."""

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from . import ENCODINGS, SUBPROTOCOLS


class CaseError(Exception):
    """A case file is missing, unreadable or invalid: the run stops early."""


@dataclass(frozen=True)
class Case:
    id: str
    title: str
    section: str
    requirements: tuple
    role: str            # role under test: "broker" (B- cases) or "client" (C-)
    subprotocols: tuple
    encodings: tuple
    file: str            # path relative to the repository (or as given)
    path: str = ""       # absolute path, handed to the engine

    def combinations(self):
        return [(s, e) for s in self.subprotocols for e in self.encodings]


@dataclass(frozen=True)
class Execution:
    """One pytest test: a case in one combination against one target."""
    target: str
    case: Case = field(compare=False, hash=False)
    case_id: str
    subprotocol: str
    encoding: str

    @property
    def combo(self):
        return f"{SUBPROTOCOLS.get(self.subprotocol, self.subprotocol)}-{self.encoding}"

    @property
    def key(self):
        return (self.target, self.case_id, self.subprotocol, self.encoding)

    def test_id(self, several_targets):
        base = f"{self.case_id}-{self.combo}"
        return f"{base}@{self.target}" if several_targets else base


def json_pointer(path):
    """RFC 6901 pointer for a jsonschema error path."""
    parts = [str(p).replace("~", "~0").replace("/", "~1") for p in path]
    return "/" + "/".join(parts) if parts else "/ (document root)"


MAX_DEPTH = 64  # as the engine (peer/engine/engine_json_check.h)


def _scan_text(text):
    """(pointer, why) for what the engine refuses before parsing: nesting
    deeper than MAX_DEPTH, a NUL character; None when the text is fine."""
    stack, want_key, i, n = [], False, 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            j, key = i + 1, []
            while j < n and text[j] != '"':
                if text[j] == "\\":
                    if text.startswith("u0000", j + 1):
                        return json_pointer([p for _, p in stack]), "a NUL character (\\u0000) in a string"
                    key.append(text[j:j + 2])
                    j += 2
                    continue
                if text[j] == "\0":
                    return json_pointer([p for _, p in stack]), f"a NUL octet at offset {j}"
                key.append(text[j])
                j += 1
            if want_key and stack:
                stack[-1][1] = "".join(key)
            want_key, i = False, j + 1
            continue
        if c in "{[":
            if len(stack) == MAX_DEPTH:
                return json_pointer([p for _, p in stack]), f"nested deeper than {MAX_DEPTH} levels"
            stack.append([c == "{", "" if c == "{" else 0])
            want_key = c == "{"
        elif c in "}]" and stack:
            stack.pop()
            want_key = False
        elif c == "," and stack:
            if not stack[-1][0]:
                stack[-1][1] += 1
            want_key = stack[-1][0]
        elif c == "\0":
            return json_pointer([p for _, p in stack]), f"a NUL octet at offset {i}"
        i += 1
    return None


class _Duplicate(Exception):
    pass


def _no_duplicates(pairs):
    seen = set()
    for k, _ in pairs:
        if k in seen:
            raise _Duplicate(k)
        seen.add(k)
    return dict(pairs)


def _find_duplicate(text):
    """(pointer, why) of the first object with a key twice, or None."""
    try:
        json.loads(text, object_pairs_hook=_no_duplicates)
        return None
    except _Duplicate as dup:
        key = dup.args[0]
    # where: walk the pairs again, keeping the path
    def walk(value, path):
        if isinstance(value, list) and value and isinstance(value[0], tuple) and value[0] == ("__pairs__",):
            pairs, seen = value[1:], set()
            for k, _ in pairs:
                if k in seen:
                    return path
                seen.add(k)
            for k, v in pairs:
                hit = walk(v, path + [k])
                if hit is not None:
                    return hit
        elif isinstance(value, list):
            for i, v in enumerate(value):
                hit = walk(v, path + [i])
                if hit is not None:
                    return hit
        return None
    tree = json.loads(text, object_pairs_hook=lambda p: [("__pairs__",)] + p)
    return json_pointer(walk(tree, []) or []), f"the key {key!r} appears twice"


def read_case_json(path):
    """A case file's JSON, refused as the engine refuses it: not UTF-8, NUL,
    nesting deeper than MAX_DEPTH, a key twice. Raises CaseError naming the
    file's JSON pointer."""
    shown = str(path)
    try:
        text = Path(path).read_bytes().decode("utf-8")
    except OSError as exc:
        raise CaseError(f"{shown}: unreadable: {exc}") from None
    except UnicodeDecodeError as exc:
        raise CaseError(f"{shown}: an octet that is not UTF-8 at offset {exc.start}") from None
    bad = _scan_text(text)
    if bad:
        raise CaseError(f"{shown}: {bad[0]}: {bad[1]}")
    try:
        dup = _find_duplicate(text)
    except (ValueError, RecursionError) as exc:
        raise CaseError(f"{shown}: not JSON: {exc}") from None
    if dup:
        raise CaseError(f"{shown}: {dup[0]}: {dup[1]}")
    return json.loads(text)


def _validator(schema_path):
    import jsonschema
    try:
        schema = json.loads(schema_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CaseError(f"{schema_path}: case schema not found") from None
    except (OSError, ValueError) as exc:
        raise CaseError(f"{schema_path}: unreadable case schema: {exc}") from None
    cls = jsonschema.validators.validator_for(schema)
    try:
        cls.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise CaseError(f"{schema_path}: invalid schema at "
                        f"{json_pointer(exc.absolute_path)}: {exc.message}") from None
    return cls(schema, format_checker=getattr(cls, "FORMAT_CHECKER", None))


def _role_of(doc, case_id):
    role = doc.get("role")
    if role in ("broker", "client"):
        return role
    if case_id.startswith("B-"):
        return "broker"
    if case_id.startswith("C-"):
        return "client"
    raise CaseError(f"case {case_id}: role unknown (no 'role' field and the ID "
                    "starts with neither B- nor C-)")


def _listed(doc, keys, default):
    for key in keys:
        value = doc.get(key)
        if isinstance(value, str):
            return (value,)
        if isinstance(value, list) and value:
            return tuple(value)
    return tuple(default)


def case_files(cases_dir):
    """Every case file under cases_dir, sorted: *.json except the schema and
    the requirement list (which are not cases)."""
    skip = {"schema.json", "requirements.json"}
    return sorted(p for p in Path(cases_dir).rglob("*.json")
                  if p.name not in skip and not p.name.startswith("."))


def _display(path, base):
    try:
        return str(path.resolve().relative_to(base))
    except ValueError:
        return str(path)


def load_cases(cases_dir, base_dir=None):
    """Validate and load every case; raises CaseError on the first bad file."""
    cases_dir = Path(cases_dir)
    if not cases_dir.is_dir():
        raise CaseError(f"{cases_dir}: case directory not found (use --cases DIR)")
    base = Path(base_dir).resolve() if base_dir else cases_dir.resolve().parent
    validator = _validator(cases_dir / "schema.json")
    cases, seen = [], {}
    for path in case_files(cases_dir):
        shown = _display(path, base)
        try:
            doc = read_case_json(path)
        except CaseError as exc:
            raise CaseError(str(exc).replace(str(path), shown, 1)) from None
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
        if errors:
            err = errors[0]
            more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
            raise CaseError(f"{shown}: invalid at {json_pointer(err.absolute_path)}: "
                            f"{err.message}{more}")
        case_id = doc.get("id")
        if not isinstance(case_id, str) or not case_id:
            raise CaseError(f"{shown}: invalid at /id: a case needs a string id")
        if case_id in seen:
            raise CaseError(f"{shown}: invalid at /id: duplicate case id {case_id} "
                            f"(also in {seen[case_id]})")
        seen[case_id] = shown
        subs = _listed(doc, ("subprotocols", "subprotocol"), SUBPROTOCOLS)
        encs = _listed(doc, ("encodings", "encoding"), ENCODINGS)
        for s in subs:
            if s not in SUBPROTOCOLS:
                raise CaseError(f"{shown}: invalid at /subprotocols: unknown subprotocol {s!r}")
        for e in encs:
            if e not in ENCODINGS:
                raise CaseError(f"{shown}: invalid at /encodings: unknown encoding {e!r}")
        reqs = doc.get("requirements") or doc.get("requirement") or []
        if isinstance(reqs, str):
            reqs = [reqs]
        cases.append(Case(
            id=case_id, title=str(doc.get("title", "")),
            section=str(doc.get("section") or "unsectioned"),
            requirements=tuple(reqs), role=_role_of(doc, case_id),
            subprotocols=subs, encodings=encs, file=shown,
            path=str(path.resolve())))
    cases.sort(key=lambda c: [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", c.id)])
    return cases


def load_requirements(cases_dir):
    """The requirement list (cases/requirements.json) if there is one:
    ({section: title}, {req_id: {section, summary, binds}})."""
    path = Path(cases_dir) / "requirements.json"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}, {}
    sections = doc.get("sections") or {}
    reqs = {r["id"]: r for r in doc.get("requirements", []) if isinstance(r, dict) and "id" in r}
    return sections, reqs
