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
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise CaseError(f"{shown}: unreadable: {exc}") from None
        except ValueError as exc:
            raise CaseError(f"{shown}: not JSON: {exc}") from None
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
