"""Where a reason code sends a lead (docs/domain.md §7, §10): recycle, disqualify, hold,
route out, re-route; with the suppression each one writes."""

from __future__ import annotations

from datetime import datetime

from sla_policies.lifecycle import clocks
from sla_policies.lifecycle.context import Ctx
from sla_policies.lifecycle.errors import LifecycleError
from sla_policies.lifecycle.owners import release_owner
from sla_policies.lifecycle.types import WriteSuppression
from sla_policies.model import ReasonCode
from sla_policies.state import AccountStatus, OwnerChange, Suppression


def routing_window(ctx: Ctx) -> str:
    lead_type = ctx.policy.lead_types.get(ctx.state.intake.lead_type)
    return "routing.high_intent" if lead_type and lead_type.high_intent_routing else "routing.standard"


def code_of(ctx: Ctx, code: str, allowed: list[ReasonCode]) -> ReasonCode:
    return next(c for c in allowed if c.code == code)


def suppress(ctx: Ctx, code: ReasonCode, until: datetime | None) -> None:
    """Put what the code names on the global suppression list (REJ-06 domain for good,
    REJ-02 company, REJ-03 contact)."""
    intake = ctx.state.intake
    value = {"domain": intake.email_domain(), "contact": intake.contact.email,
             "company": (intake.account.company or "").strip().lower() or None}.get(code.scope or "")
    if value is None or code.scope is None:
        return
    ctx.emit(WriteSuppression(entry=Suppression(
        scope=code.scope, value=value, permanent=code.permanent, until=None if code.permanent else until,
        reason_code=code.code, lead_id=ctx.state.lead_id, at=ctx.now)))


def enter_recycled(ctx: Ctx, code: ReasonCode, *, event: str, label: str, role: str, actor: str,
                   note: str | None, at: datetime | None = None, subject: object = None) -> None:
    """`at`: the instant that decided it (a deadline), when not a person's action now."""
    state = ctx.state
    ctx.check(event, "recycled", role=role, subject=subject)
    when = at or ctx.now
    span = code.suppression or ctx.policy.recycling.minimum_suppression
    state.suppressed_until = clocks.instant(ctx, when, span)
    state.check_in_at = clocks.instant(ctx, when, code.check_in) if code.check_in else None
    state.intent_since = when
    clocks.clear_cadence(ctx)
    clocks.void_all(ctx, f"recycled with {code.code}")
    release_owner(ctx)
    ctx.transition(event, "recycled", label, role=role, actor=actor, reason_code=code.code, note=note, at=when,
                   checked=True)
    ctx.continue_as_new()  # a recycled lead waits months: start that wait with a short history


def apply_code_path(ctx: Ctx, code: ReasonCode, *, event: str, label: str, role: str, actor: str,
                    note: str | None, subject: object = None) -> None:
    """Each reason code's documented path (§7): hold, suppress, route out, disqualify."""
    state, now = ctx.state, ctx.now
    stage = state.stage
    clocks.clear_cadence(ctx)
    if code.path == "recycled":
        enter_recycled(ctx, code, event=event, label=label, role=role, actor=actor, note=note, subject=subject)
        return
    if code.path == "disqualified":
        state.permanent = code.permanent
        state.intent_since = now  # after the wait, only fresh engagement re-qualifies
        default = ctx.policy.defaults.default_disqualification_suppression
        span = None if code.permanent else (code.suppression or default)
        state.suppressed_until = clocks.instant(ctx, now, span) if span else None
        suppress(ctx, code, state.suppressed_until)
    clocks.void_all(ctx, f"left {stage} by {code.code}")
    if code.path in ("data_hold", "territory_hold", "routed_out", "disqualified"):
        if code.path in ("territory_hold", "data_hold"):
            state.routed_at = None
        ctx.transition(event, code.path, label, role=role, actor=actor, reason_code=code.code, note=note,
                       subject=subject)
        if code.path == "territory_hold":  # REJ-07: routing is owed again, and RevOps owns it
            clocks.start_clock(ctx, routing_window(ctx), now)
    elif code.path == "reroute":
        state.routed_at = None
        if state.owner is not None:
            state.owner_changes.append(OwnerChange(at=now, from_owner=state.owner, to_owner=None))
        state.owner = None
        ctx.transition(event, "mql", label, role=role, actor=actor, reason_code=code.code, note=note, subject=subject)
    else:
        raise LifecycleError(f"path {code.path} of {code.code} is not valid from {stage}")


def route_out(ctx: Ctx, status: AccountStatus, *, role: str, actor: str) -> None:
    """T09: the account belongs to Account Management / CS, not to the lead flow."""
    clocks.clear_cadence(ctx)
    clocks.void_all(ctx, f"routed out: {status.describe()}")
    release_owner(ctx)
    ctx.transition("route_out", "routed_out", "T09 existing_customer", role=role, actor=actor,
                   note=status.describe(), subject=status)
    ctx.notify("info", "revops", None, item="existing_customer", detail=status.describe())
