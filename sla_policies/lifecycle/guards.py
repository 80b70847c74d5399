"""The named guards of the transition table, evaluated in code.

A guard gets the decision in progress, the rule, and the rule's subject (what the rule is
about: the qualification decision, the command, the reason code, the assignment) and
answers None (it holds) or the refusal. The names are the policy model's `GUARDS`; a test
checks both lists are the same.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol, cast

from sla_policies.commands import Accept, Handoff
from sla_policies.gate import missing_for_sql
from sla_policies.lifecycle.errors import Refused
from sla_policies.model import Policy, ReasonCode
from sla_policies.model.transitions import TransitionRule
from sla_policies.qualification import InquiryDecision
from sla_policies.state import (
    AccountStatus,
    Assignment,
    LeadState,
    PlannedEscalation,
    Suppression,
    Unassigned,
)


class Ctx(Protocol):
    """What a guard reads of the decision under way (the decision context satisfies it;
    guards depend on this much, not on the context that calls them)."""

    state: LeadState
    policy: Policy
    now: datetime


Guard = Callable[[Ctx, TransitionRule, object], "Refused | None"]


def _refused(reason: str, status: int = 409, field: str | None = None) -> Refused:
    return Refused(reason, status, field=field)


def _qualified(ctx: Ctx, rule: TransitionRule, subject: object) -> Refused | None:
    """T02/T03/T05/T06/T07/T09/T10: the qualification decision names this rule's stage."""
    if isinstance(subject, InquiryDecision) and subject.to_stage == rule.to:
        return None
    return _refused(f"{rule.id}: the qualification decision does not lead to {rule.to}")


def _existing_customer(ctx: Ctx, rule: TransitionRule, subject: object) -> Refused | None:
    if isinstance(subject, InquiryDecision):
        return _qualified(ctx, rule, subject)
    if isinstance(subject, AccountStatus) and subject.matched:
        return None
    return _refused("the account matches no customer and no open opportunity")


def _rep_found(ctx: Ctx, rule: TransitionRule, subject: object) -> Refused | None:
    return None if isinstance(subject, Assignment) else _refused("no rep was assigned")


def _no_rep(ctx: Ctx, rule: TransitionRule, subject: object) -> Refused | None:
    if isinstance(subject, Unassigned) and subject.reason == "territory":
        return None
    return _refused("a rep covers this lead's territory")


def _roster_full(ctx: Ctx, rule: TransitionRule, subject: object) -> Refused | None:
    if isinstance(subject, Unassigned) and subject.reason == "capacity":
        return None
    return _refused("the roster was not full for this lead")


def routed_since(state: LeadState):
    """When the lead was last routed (T11), also after a move released its owner."""
    return next((t.at for t in reversed(state.transitions) if t.event == "T11 assigned"), state.routed_at)


def cadence_worked(state: LeadState, policy) -> bool:
    """The full tier cadence is logged (§6.4): as many touches since routing as the tier's
    cadence has attempts."""
    since = routed_since(state)
    if state.tier is None or since is None:
        return False
    cadence = policy.cadences[policy.lead_tiers[state.tier].cadence]
    return sum(1 for t in state.touches if t.at >= since) >= cadence.attempts


def replied(state: LeadState, policy) -> bool:
    """The prospect answered since routing (a live call, a reply, a booked meeting)."""
    since = routed_since(state)
    if since is None:
        return False
    outcomes = set(policy.recycling.reply_outcomes)
    return any(t.at >= since and t.outcome in outcomes for t in state.touches)


def _cadence_worked_no_reply(ctx: Ctx, rule: TransitionRule, subject: object) -> Refused | None:
    if not cadence_worked(ctx.state, ctx.policy):
        return _refused("the full tier cadence is not logged yet (§6.4)")
    if replied(ctx.state, ctx.policy):
        return _refused("the prospect replied during the cadence (§6.4)")
    return None


def _reason_code(ctx: Ctx, rule: TransitionRule, subject: object) -> Refused | None:
    """The code is of this handoff's set (422 naming reason_code), and a code meaning
    "no reply" waits for the full cadence (Q22)."""
    code, allowed, what = cast(tuple[str, list[ReasonCode], str], subject)
    found = next((c for c in allowed if c.code == code), None)
    if found is None:
        codes = ", ".join(c.code for c in allowed)
        return _refused(f"reason_code {code!r} is not a {what} code of policy {ctx.policy.version} "
                        f"(allowed: {codes})", 422, "reason_code")
    if found.requires_cadence_exhausted and not cadence_worked(ctx.state, ctx.policy):
        return _refused(f"reason_code {code}: only after the full tier cadence is logged (§6.4, Q22)", 409,
                        "reason_code")
    return None


def _sql_gate(ctx: Ctx, rule: TransitionRule, subject: object) -> Refused | None:
    assert isinstance(subject, Handoff)
    missing = missing_for_sql(
        ctx.policy, meddpic=subject.meddpic.model_dump(), meeting_booked=subject.meeting_at is not None,
        meeting_link=subject.meeting_link, pain_statement=subject.pain_statement,
        timeline_months=subject.timeline_months, briefing=subject.briefing.model_dump())
    return _refused("SQL gate not met; missing: " + ", ".join(missing), 422) if missing else None


def _briefing_read(ctx: Ctx, rule: TransitionRule, subject: object) -> Refused | None:
    if isinstance(subject, Accept) and (subject.briefing_read or not ctx.policy.sql_gate.ae_requires_briefing_read):
        return None
    return _refused("briefing_read: the AE must confirm the briefing document was read (§8)", 422, "briefing_read")


def _ladder_forces(ctx: Ctx, rule: TransitionRule, subject: object) -> Refused | None:
    codes = {c.code for c in ctx.policy.reason_codes.sal_disposition}
    if isinstance(subject, PlannedEscalation) and subject.forces in codes:
        return None
    return _refused("no ladder step forces a SAL disposition here")


def suppression_over(ctx: Ctx) -> bool:
    state, policy = ctx.state, ctx.policy
    until = state.suppressed_until
    if until is not None and ctx.now >= until:
        return True
    # Q14: a tier-1 hand-raise overrides the 90-d and 6-month suppressions, never a permanent one.
    if state.permanent or not policy.recycling.tier1_handraise_overrides:
        return False
    since = state.intent_since
    triggers = {s.id for s in policy.scoring.signals if s.tier1_trigger}
    return any(e.type in triggers and since is not None and e.occurred_at >= since for e in state.intake.events)


def _suppression_over(ctx: Ctx, rule: TransitionRule, subject: object) -> Refused | None:
    return None if suppression_over(ctx) else _refused("the suppression is not over")


def _unsubscribed(ctx: Ctx, rule: TransitionRule, subject: object) -> Refused | None:
    if any(e.type == "email_unsubscribe" for e in ctx.state.intake.events):
        return None
    return _refused("no unsubscribe was received")


def _competitor(ctx: Ctx, rule: TransitionRule, subject: object) -> Refused | None:
    return None if isinstance(subject, ReasonCode) and subject.permanent else _refused("not a permanent code")


def _listed(ctx: Ctx, rule: TransitionRule, subject: object) -> Refused | None:
    return None if isinstance(subject, Suppression) else _refused("no suppression list entry")


GUARDS: dict[str, Guard] = {
    "score_below_review_band": _qualified,
    "score_in_review_band": _qualified,
    "score_meets_threshold": _qualified,
    "auto_disqualifier": _qualified,
    "data_missing": _qualified,
    "plg_routing": _qualified,
    "existing_customer": _existing_customer,
    "rep_found": _rep_found,
    "no_rep_in_territory": _no_rep,
    "roster_full": _roster_full,
    "reason_code_of_set": _reason_code,
    "sql_gate_met": _sql_gate,
    "cadence_worked_no_reply": _cadence_worked_no_reply,
    "ladder_forces_disposition": _ladder_forces,
    "briefing_read": _briefing_read,
    "suppression_over": _suppression_over,
    "unsubscribed": _unsubscribed,
    "competitor_code": _competitor,
    "on_suppression_list": _listed,
}
