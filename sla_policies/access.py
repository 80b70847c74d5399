"""Who may read a lead and who may act on it: one pure rule for the API and the core.

Reading is membership. A lead keeps the keys of the people who may read it
(`LeadState.reader_keys()`: everyone who owned it and their managers, plus the role queue
of its stage) and a principal holds keys (`principal_keys`); the two sets must meet. The
API's single read, history, list, reports and pages use it (api/visibility.py, also as an
SQL filter over `leads.readers`), and `decide` checks it first for every command, in the
workflow's Update validator: a stranger is refused before the stage check could tell them
anything about the lead, and the API forwards commands without reading the lead first.

Acting (README "Principals and teams"):
- a rep (`sdr`, `ae`) acts on the leads it owns;
- a manager (`sdr_manager`, `ae_manager`) acts on the leads of its team, i.e. whose
  recorded `owner_manager` is the manager itself or the team its token names;
- `revops` and `system` act on any lead; what anyone may do beyond that is the transition
  table's business (rules that need no ownership);
- a lead waiting in `capacity_hold` has no owner: the managers of the reps it waits for
  (the roster's answer, `LeadState.capacity_hold.managers`) read it (its reader keys) and
  act on it (reroute) while it waits (docs/domain.md T25);
- a missing manager (null `owner_manager`, a token without a team) never matches anyone.

`principal` is anything with `id`, `role` and `team` (the API's Principal, the commands'
Actor); `lead` is the lead's state.
"""

from __future__ import annotations

from typing import Literal, Protocol

from sla_policies.state import QUEUE_READERS, CapacityHold, LeadState

REP_ROLES = frozenset({"sdr", "ae"})
MANAGER_ROLES = frozenset({"sdr_manager", "ae_manager"})
READ_ALL_ROLES = frozenset({"revops", "marketing_ops", "integration", "system"})
EVERYTHING = None  # the keys of a principal who reads every lead (RevOps, integrations, executives)

Access = Literal["read", "act"]


class Principal(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def role(self) -> str: ...

    @property
    def team(self) -> str | None: ...


def _manages(principal: Principal, manager: str | None) -> bool:
    if manager is None:
        return False  # a lead whose owner has no recorded manager is on nobody's team
    return principal.id == manager or (principal.team is not None and principal.team == manager)


def principal_keys(principal: Principal) -> frozenset[str] | None:
    """The keys a principal holds, or EVERYTHING. A manager holds their own id, the team
    their token names (a deputy) and the queue of their role; a rep their own id."""
    if principal.role in REP_ROLES:
        return frozenset({principal.id})
    if principal.role in MANAGER_ROLES:
        queues = {key for key in QUEUE_READERS.values() if key == f"queue:{principal.role}"}
        return frozenset({principal.id, *([principal.team] if principal.team else []), *queues})
    return EVERYTHING


def read_refusal(principal: Principal, lead: LeadState) -> str | None:
    """None when `principal` may read the lead, else why not (a 403's detail)."""
    keys = principal_keys(principal)
    if keys is EVERYTHING or not keys.isdisjoint(lead.reader_keys()):
        return None
    if principal.role in REP_ROLES:
        return f"lead {lead.lead_id} is not yours ({principal.id} never owned it)"
    return _not_on_team(principal, lead)


def _held(lead: LeadState) -> CapacityHold | None:
    return lead.capacity_hold if lead.stage == "capacity_hold" else None


def _not_on_team(principal: Principal, lead: LeadState) -> str:
    hold = _held(lead)
    if hold is not None:
        teams = ", ".join(hold.managers) or "nobody"
        return f"lead {lead.lead_id} waits for a {hold.role} of the teams of {teams}, not of {principal.id}'s team"
    return f"lead {lead.lead_id} is not on {principal.id}'s team"


def refusal(principal: Principal, lead: LeadState, access: Access) -> str | None:
    """None when `principal` may `access` the lead, else why not (a 403's detail)."""
    if access == "read":
        return read_refusal(principal, lead)
    role = principal.role
    if role in READ_ALL_ROLES or role not in REP_ROLES | MANAGER_ROLES:
        return None if role in ("revops", "system") else f"a {role} does not own leads"
    if role in REP_ROLES:
        if principal.id == lead.owner:
            return None
        return f"lead {lead.lead_id} is owned by {lead.owner or 'nobody yet'}, not {principal.id}"
    if _manages(principal, lead.owner_manager):
        return None
    hold = _held(lead)
    if hold is not None and any(_manages(principal, m) for m in hold.managers):
        return None
    return _not_on_team(principal, lead)


def may(principal: Principal, lead: LeadState, access: Access) -> bool:
    return refusal(principal, lead, access) is None
