"""Who may read a lead and who may act on it: one pure function for the API and the core.

The rules (README "Principals and teams"):
- a rep (`sdr`, `ae`) acts on the leads it owns; it reads those and every lead it owned
  before (the SDR who handed a lead to an AE, a rep it was reassigned away from);
- a manager (`sdr_manager`, `ae_manager`) acts on the leads of its team, i.e. whose
  recorded `owner_manager` is the manager itself or the team its token names; it reads
  those and the leads its team owned before;
- `revops`, `marketing_ops`, `integration` and `system` read everything; what they may do
  is the transition table's business (their rules need no ownership);
- a lead waiting in `capacity_hold` has no owner: the managers of the reps it waits for
  (the roster's answer, `LeadState.capacity_hold.managers`) read it and act on it
  (reroute) while it waits (docs/domain.md T25);
- a missing manager (null `owner_manager`, a token without a team) never matches anyone.

`principal` is anything with `id`, `role` and `team` (the API's Principal, the commands'
Actor); `lead` is the lead's state.
"""

from __future__ import annotations

from typing import Literal, Protocol

from sla_policies.state import LeadState

REP_ROLES = frozenset({"sdr", "ae"})
MANAGER_ROLES = frozenset({"sdr_manager", "ae_manager"})
READ_ALL_ROLES = frozenset({"revops", "marketing_ops", "integration", "system"})

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


def refusal(principal: Principal, lead: LeadState, access: Access) -> str | None:
    """None when `principal` may `access` the lead, else why not (a 403's detail)."""
    role = principal.role
    if role in READ_ALL_ROLES:
        return None if access == "read" or role in ("revops", "system") else f"a {role} does not own leads"
    if role in REP_ROLES:
        if principal.id == lead.owner:
            return None
        if access == "read" and principal.id in {lead.sdr, *lead.previous_owners}:
            return None
        return f"lead {lead.lead_id} is owned by {lead.owner or 'nobody yet'}, not {principal.id}"
    if role in MANAGER_ROLES:
        if _manages(principal, lead.owner_manager):
            return None
        hold = lead.capacity_hold if lead.stage == "capacity_hold" else None
        if hold is not None and any(_manages(principal, m) for m in hold.managers):
            return None
        if access == "read" and any(_manages(principal, m) for m in {lead.sdr_manager, *lead.previous_managers}):
            return None
        if hold is not None:
            teams = ", ".join(hold.managers) or "nobody"
            return (f"lead {lead.lead_id} waits for a {hold.role} of the teams of {teams}, "
                    f"not of {principal.id}'s team")
        return f"lead {lead.lead_id} is not on {principal.id}'s team"
    return f"a {role} may not {access} leads"


def may(principal: Principal, lead: LeadState, access: Access) -> bool:
    return refusal(principal, lead, access) is None
