"""Reading policy documents (YAML or JSON) into a `Policy`, with every error named by its
path in the document, e.g. `windows.sdr_response.tier1.target: must be > 0`."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ValidationError

from sla_policies.model import CrossReferenceErrors, Policy, cross_reference_problems


class PolicyIssue(BaseModel):
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class PolicyError(ValueError):
    def __init__(self, errors: list[PolicyIssue]):
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors


def _path(loc: tuple) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            # function-after[...] and similar pydantic internals are not document keys
            if ("[" in str(part) and "(" in str(part)) or part == "[key]":
                continue
            path += f".{part}" if path else str(part)
    return path or "$"


def _issues(exc: ValidationError) -> list[PolicyIssue]:
    issues: list[PolicyIssue] = []
    for err in exc.errors():
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, CrossReferenceErrors):
            issues.extend(PolicyIssue(path=p, message=m) for p, m in cause.problems)
            continue
        message = err["msg"]
        for prefix in ("Value error, ", "Assertion failed, "):
            message = message.removeprefix(prefix)
        if err["type"] == "extra_forbidden":
            message = "unknown key"
        elif err["type"] == "missing":
            message = "required key is missing"
        issues.append(PolicyIssue(path=_path(err["loc"]), message=message))
    return issues


def parse_policy(text: str, *, fmt: Literal["yaml", "json"] | None = None) -> Policy:
    """Parse and validate a policy document; raises PolicyError with every problem."""
    try:
        data = json.loads(text) if fmt == "json" else yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise PolicyError([PolicyIssue(path="$", message=f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}")]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise PolicyError([PolicyIssue(path="$", message=f"invalid YAML{where}: {problem}")]) from None
    return policy_from_data(data)


def policy_from_data(data: object) -> Policy:
    if not isinstance(data, dict):
        raise PolicyError([PolicyIssue(path="$", message="a policy document must be a mapping")])
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        issues = _issues(exc)
        # Field errors stop pydantic before the document-level checks; run those on the
        # raw document too, so one round of fixes is enough.
        known = {(i.path, i.message) for i in issues}
        issues += [PolicyIssue(path=p, message=m) for p, m in cross_reference_problems(data)
                   if (p, m) not in known]
        raise PolicyError(issues) from None


def bundled_policy_files() -> list[Path]:
    folder = resources.files("sla_policies") / "versions"
    return sorted(Path(str(p)) for p in folder.iterdir() if p.name.endswith((".yaml", ".yml", ".json")))


def load_policy_file(path: Path) -> Policy:
    return parse_policy(path.read_text(), fmt="json" if path.suffix == ".json" else "yaml")


@lru_cache(maxsize=1)
def default_policy() -> Policy:
    """The newest bundled version."""
    policies = [load_policy_file(p) for p in bundled_policy_files()]
    return max(policies, key=lambda p: (p.effective_date, p.version))


def validate_summary(policy: Policy) -> str:
    codes = policy.reason_codes
    n_codes = sum(len(getattr(codes, g)) for g in ("mql_rejection", "mql_rejection_alt", "sql_rejection",
                                                   "sal_disposition", "disqualification"))
    return (f"policy {policy.version} ({policy.effective_date}) is valid: "
            f"{len(policy.window_ids())} windows, {len(policy.cadences)} cadences, "
            f"{len(policy.scoring.signals)} scoring signals, {n_codes} reason codes, "
            f"{len(policy.metrics)} metrics")
