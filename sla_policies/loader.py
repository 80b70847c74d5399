"""Reading policy documents (YAML or JSON) into a `Policy`.

Every problem is reported, each named by its path in the document
(`windows.sdr_response.tier1.target: must be > 0`, `cadences.tier2.touches[3].day: ...`),
so one round of fixes is enough. This is the contract of `handoff policy validate` and of
the 422 answer to `POST /v1/policies`.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ValidationError

from sla_policies.model import CrossReferenceErrors, Policy, Problems, cross_reference_problems
from sla_policies.model.base import join


class PolicyIssue(BaseModel):
    path: str  # "$" for the document as a whole
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class PolicyError(ValueError):
    """A document that is not a valid policy; `errors` lists every problem found."""

    def __init__(self, errors: list[PolicyIssue]):
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors


# ----------------------------------------------------------------------------- parsing

class _DuplicateKey(Exception):
    def __init__(self, message: str):
        self.message = message


class _StrictYamlLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping (PyYAML keeps the last)."""

    def construct_mapping(self, node, deep=False):  # noqa: ANN001 - PyYAML signature
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise _DuplicateKey(f"key {key!r} at line {line} is already given at line {seen[key]}")
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


def _json_pairs(pairs: list[tuple[str, Any]]) -> dict:
    data: dict = {}
    for key, value in pairs:
        if key in data:
            raise _DuplicateKey(f"key {key!r} is given twice in one object")
        data[key] = value
    return data


def _read(text: str, fmt: Literal["yaml", "json"] | None) -> object:
    """The document's data; a syntax problem is a single issue at "$" with its position."""
    def fail(message: str) -> PolicyError:
        return PolicyError([PolicyIssue(path="$", message=message)])

    try:
        if fmt == "json":
            return json.loads(text, object_pairs_hook=_json_pairs)
        return yaml.load(text, Loader=_StrictYamlLoader)  # noqa: S506 - a SafeLoader subclass
    except _DuplicateKey as exc:
        raise fail(f"duplicate {exc.message}") from None
    except json.JSONDecodeError as exc:
        raise fail(f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise fail(f"invalid YAML{where}: {problem}") from None


# ----------------------------------------------------------------------------- errors

# pydantic adds location parts that are not document keys: union/validator branch tags
# such as "function-after[...]" or "tagged-union[...]", and "[key]" for a bad mapping key.
# Document keys never contain "[", so anything that does is noise.
def _doc_part(part: str | int) -> bool:
    return isinstance(part, int) or "[" not in part


def _path(data: object, loc: tuple[str | int, ...], *extra: str) -> str:
    """Dotted document path of a pydantic location. The document itself tells a list
    index ("touches[3]") from an integer mapping key ("lead_tiers.4")."""
    parts: list[str] = []
    node: object = data
    for part in (p for p in loc if _doc_part(p)):
        if isinstance(part, int) and isinstance(node, list):
            parts.append(f"[{part}]")
            node = node[part] if part < len(node) else None
        else:
            parts.append(str(part))
            node = node.get(part) if isinstance(node, dict) else None
    return join(*parts, *extra) or "$"


_MESSAGES = {
    "extra_forbidden": "unknown key",
    "missing": "required key is missing",
}


def _issues(exc: ValidationError, data: object) -> tuple[list[PolicyIssue], bool]:
    """Issues from pydantic's errors, and whether the document-level checks already ran."""
    issues: list[PolicyIssue] = []
    checked_references = False
    for err in exc.errors():
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, CrossReferenceErrors):
            checked_references = True
            issues.extend(PolicyIssue(path=p, message=m) for p, m in cause.problems)
        elif isinstance(cause, Problems):
            issues.extend(PolicyIssue(path=_path(data, err["loc"], sub), message=m) for sub, m in cause.problems)
        else:
            message = _MESSAGES.get(err["type"]) or re.sub(r"^(Value error|Assertion failed), ", "", err["msg"])
            issues.append(PolicyIssue(path=_path(data, err["loc"]), message=message))
    return issues, checked_references


def _unique(issues: list[PolicyIssue]) -> list[PolicyIssue]:
    seen: set[tuple[str, str]] = set()
    kept = []
    for issue in issues:
        if (issue.path, issue.message) not in seen:
            seen.add((issue.path, issue.message))
            kept.append(issue)
    return kept


# ----------------------------------------------------------------------------- API

def policy_from_data(data: object) -> Policy:
    """Validate already-parsed data (e.g. a JSON request body); raises PolicyError."""
    if not isinstance(data, dict):
        raise PolicyError([PolicyIssue(path="$", message="a policy document must be a mapping of keys to values")])
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        issues, checked_references = _issues(exc, data)
        if not checked_references:
            # Field errors stop pydantic before Policy's own check; run it on the raw
            # document so cross-reference problems are reported in the same round.
            try:
                issues += [PolicyIssue(path=p, message=m) for p, m in cross_reference_problems(data)]
            except (TypeError, AttributeError, KeyError, ValueError):
                # The raw document is malformed in a way the field errors above already
                # name (e.g. a mapping where an id belongs): report those, never crash.
                pass
        raise PolicyError(_unique(issues)) from None


def parse_policy(text: str, *, fmt: Literal["yaml", "json"] | None = None) -> Policy:
    """Parse and validate a policy document. fmt None reads YAML, which includes JSON."""
    return policy_from_data(_read(text, fmt))


def load_policy_file(path: str | Path) -> Policy:
    path = Path(path)
    return parse_policy(path.read_text(encoding="utf-8"), fmt="json" if path.suffix.lower() == ".json" else "yaml")


def version_key(version: str) -> tuple:
    """Orders versions naturally: 2026.9.0 < 2026.11.0 (numbers compare as numbers)."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"[._-]", version))


def bundled_policy_files() -> list[Path]:
    """The policy files shipped in sla_policies/versions/, oldest version first."""
    folder = resources.files("sla_policies") / "versions"
    files = [Path(str(p)) for p in folder.iterdir() if p.name.endswith((".yaml", ".yml", ".json"))]
    return sorted(files, key=lambda p: version_key(p.name.rsplit(".", 1)[0]))


@lru_cache(maxsize=1)
def default_policy() -> Policy:
    """The newest bundled version (frozen, so sharing one instance is safe)."""
    policies = [load_policy_file(p) for p in bundled_policy_files()]
    return max(policies, key=lambda p: (p.effective_date, version_key(p.version)))


def validate_summary(policy: Policy) -> str:
    """One line for `handoff policy validate`."""
    n_codes = sum(len(codes) for codes in policy.reason_codes.groups().values())
    return (f"policy {policy.version} ({policy.effective_date}) is valid: "
            f"{len(policy.window_ids())} windows, {len(policy.cadences)} cadences, "
            f"{len(policy.scoring.signals)} scoring signals, {n_codes} reason codes, "
            f"{len(policy.metrics)} metrics")
