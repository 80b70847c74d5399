"""Who may read a lead: the one rule for the single read, the history, the list, the
dashboard, the reports and the pages, and the check before any command is forwarded.

One definition, membership: a lead keeps the keys of the people who may read it
(`LeadState.reader_keys()`: everyone who owned it and their managers, plus the role queue
of its stage), the read model stores the same keys in `leads.readers`, and a principal
holds keys (`principal_keys`). A principal may read a lead when the two sets meet. So the
predicate on a state and the SQL filter cannot disagree, and a null manager matches
nobody: a null is never a key.

Reading is the gate, not the decision: a command goes on to the workflow's validators,
which decide whether this reader may act (owner, team, role, stage). A stranger is
refused here, before the stage check could tell them anything about the lead.
"""

from __future__ import annotations

from api.auth import Principal
from api.problems import ProblemError
from sla_policies.state import QUEUE_READERS, LeadState

EVERYTHING = None  # RevOps and integrations read every lead


def principal_keys(principal: Principal) -> frozenset[str] | None:
    """The keys a principal holds, or EVERYTHING. A manager holds their own id, the team
    their token names (a deputy) and the queue of their role; a rep their own id."""
    if principal.kind == "rep":
        return frozenset({principal.id})
    if principal.kind == "manager":
        queues = {key for key in QUEUE_READERS.values() if key == f"queue:{principal.role}"}
        return frozenset({principal.id, *([principal.team] if principal.team else []), *queues})
    return EVERYTHING


def may_read(principal: Principal, state: LeadState) -> bool:
    keys = principal_keys(principal)
    return keys is EVERYTHING or not keys.isdisjoint(state.reader_keys())


def require_read(principal: Principal, state: LeadState) -> None:
    if not may_read(principal, state):
        what = "not yours" if principal.kind == "rep" else f"not on {principal.id}'s team"
        raise ProblemError(403, "Forbidden", f"lead {state.lead_id} is {what}")


def sql_filter(principal: Principal, *, alias: str = "") -> tuple[list[str], dict]:
    """The same rule over the read model: `{alias}readers` holds `reader_keys()` of the
    lead's last projected state (activities/read_model.py)."""
    keys = principal_keys(principal)
    if keys is EVERYTHING:
        return [], {}
    return [f"{alias}readers && %(reader_keys)s::text[]"], {"reader_keys": sorted(keys)}
