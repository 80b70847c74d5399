"""Co-signed policy releases (docs/domain.md §13): who must sign a version before RevOps
can activate it.

Every version carries both definitions, so both are signed every time: the MQL
definition by its owner and signers (default VP Marketing with VP Sales), the SQL
definition likewise (VP Sales with VP Marketing). A major change against the version in
force (the qualification framework, the ACV-tier structure, the routing fundamentals, or
who signs) needs the full cycle: the arbiter (default the CEO) endorses it too. A version
with no change list cannot be signed: the change list is what the signers sign.

Pure: the rule is a function of the two policies; who signed what is kept by the API.
"""

from __future__ import annotations

from dataclasses import dataclass

from sla_policies.diff import diff_policies
from sla_policies.model import Policy

# Top-level sections whose change is "major" (docs/domain.md §13 "Major change").
MAJOR_SECTIONS = ("qualification", "acv_tiers", "routing", "signoff")


@dataclass(frozen=True)
class RequiredSignoff:
    role: str
    reason: str


@dataclass(frozen=True)
class Signature:
    role: str
    principal_id: str
    content_hash: str
    signed_at: str  # ISO 8601, as stored


def major_changes(new: Policy, current: Policy | None) -> list[str]:
    """The changed paths that make `new` a major change against `current` (a first
    version, with nothing in force, is major as a whole)."""
    if current is None:
        return ["(first version)"]
    return [c.path for c in diff_policies(current, new) if c.path.split(".")[0].split("[")[0] in MAJOR_SECTIONS]


def required_signoffs(new: Policy, current: Policy | None) -> list[RequiredSignoff]:
    s = new.signoff
    needed: dict[str, list[str]] = {}
    for definition, people in (("MQL definition", s.mql_definition), ("SQL definition", s.sql_definition)):
        owner, signers = people[0], people[1:]
        needed.setdefault(owner, []).append(f"owns the {definition}")
        for role in signers:
            needed.setdefault(role, []).append(f"signs the {definition}")
    major = major_changes(new, current)
    if major:
        listed = ", ".join(major[:3]) + (", …" if len(major) > 3 else "")
        needed.setdefault(s.arbiter, []).append(f"endorses a major change ({listed})")
    return [RequiredSignoff(role, "; ".join(reasons)) for role, reasons in needed.items()]


def missing_roles(required: list[RequiredSignoff], signatures: list[Signature], content_hash: str) -> list[str]:
    """Roles still to sign. A signature counts only for the content it was given on."""
    signed = {s.role for s in signatures if s.content_hash == content_hash}
    return [r.role for r in required if r.role not in signed]
