"""The policy's transition table (docs/domain.md §2) asked for one rule.

Managers act for their team's reps: a rule for `sdr` also admits `sdr_manager`, one for
`ae` also `ae_manager` (the access check then requires the manager's own team).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sla_policies import access
from sla_policies.lifecycle.errors import Refused
from sla_policies.model import Policy
from sla_policies.model.transitions import TransitionRule
from sla_policies.state import LeadState

if TYPE_CHECKING:
    from sla_policies.commands import Actor

DELEGATES = {"sdr": ("sdr_manager",), "ae": ("ae_manager",)}


def _refused(reason: str, status: int = 409, field: str | None = None):
    return Refused(reason, status, field=field)


def events_allowed(policy: Policy, stage: str | None) -> list[str]:
    return sorted({r.event for r in policy.transitions if r.applies(stage)})


def actors_of(rule: TransitionRule) -> set[str]:
    actors = set(rule.actors)
    for actor in rule.actors:
        actors.update(DELEGATES.get(actor, ()))
    return actors


def find(policy: Policy, stage: str | None, event: str, role: str, *, to: str | None = None) -> TransitionRule:
    """The rule for `event` in `stage` by `role` (going to `to`, when the caller knows),
    or Refused: 409 when the stage does not allow the event, 403 when the role may not."""
    candidates = [r for r in policy.transitions if r.event == event and r.applies(stage)]
    if to is not None:
        fitting = [r for r in candidates if r.to in (to, "by_code", "by_outcome") or (r.to == "same" and to == stage)]
        if candidates and not fitting:
            raise _refused(f"'{event}' may not take a lead from '{stage}' to '{to}'")
        candidates = fitting
    if not candidates:
        allowed = ", ".join(events_allowed(policy, stage)) or "none"
        raise _refused(f"'{event}' is not valid for a lead in stage '{stage}' (allowed: {allowed})")
    for rule in candidates:
        if role in actors_of(rule):
            return rule
    who = sorted({a for r in candidates for a in r.actors})
    raise _refused(f"'{event}' in stage '{stage}' is for {', '.join(who)}, not {role}", 403)


def check_access(rule: TransitionRule, actor: Actor, state: LeadState) -> None:
    if rule.access == "role":
        return
    wanted: access.Access = "act" if rule.access == "owner" else "read"
    reason = access.refusal(actor, state, wanted)
    if reason is not None:
        raise _refused(reason, 403)
