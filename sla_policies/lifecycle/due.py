"""Instants that came due: warnings, targets, breaches, ladder steps, touch reminders,
the end of the cadence (T15) and the month-6 check-in."""

from __future__ import annotations

from datetime import datetime

from sla_policies import clockbook
from sla_policies.lifecycle import clocks
from sla_policies.lifecycle.context import Ctx
from sla_policies.lifecycle.guards import cadence_worked, replied
from sla_policies.lifecycle.owners import assign
from sla_policies.lifecycle.paths import enter_recycled
from sla_policies.state import Assignment, Escalation, SlaClock


def fire_due(ctx: Ctx) -> None:
    now, state = ctx.now, ctx.state
    for at, _, clock, kind, step in clockbook.pending(state):
        if at > now or not clock.open:
            continue
        if kind == "warning":
            clock.warned_at = at
            ctx.notify("warning", clock.owner_role, clock.owner, item=clock.item, due_at=clock.breach_at)
            ctx.record("clock_warning", clock=clock)
        elif kind == "due":
            clock.target_missed = True
            if clock.warning_at is None and clock.breach_at is not None and clock.breach_at > at:
                clock.warned_at = at
                ctx.notify("warning", clock.owner_role, clock.owner, item=clock.item, due_at=clock.breach_at,
                           detail="target missed")
            ctx.record("clock_target_missed", clock=clock)
        elif kind == "breach":
            clock.breached_at, clock.status = at, "breached"
            ctx.bump("breaches")
            ctx.notify("breach", clock.owner_role, clock.owner, item=clock.item, detail=clock.why)
            ctx.record("clock_breached", clock=clock)
        else:
            escalate(ctx, clock, step, at)
    cadence_due(ctx)
    check_in = state.check_in_at
    if check_in is not None and check_in <= now and state.stage == "recycled":
        state.check_in_at = None
        ctx.notify("info", "sdr", state.sdr, item="month_6_check_in",
                   detail="Long-term nurture check-in is due (AE-REJ-02 / timeline >= 12 months).")


def _cadence_exhausted_by(ctx: Ctx, at: datetime) -> bool:
    ends = ctx.state.cadence_ends_at
    return (ends is not None and ends <= at and cadence_worked(ctx.state, ctx.policy)
            and not replied(ctx.state, ctx.policy))


def in_diagnostic_period(ctx: Ctx, at: datetime) -> bool:
    """The first days of the lead's policy version, when its option is on (§13)."""
    window = ctx.policy.diagnostic.window(ctx.policy.effective_date, ctx.policy.calendars.company_timezone)
    return window is not None and window[0] <= at < window[1]


def escalate(ctx: Ctx, clock: SlaClock, step_index: int, at: datetime) -> None:
    state = ctx.state
    planned = clock.escalation_plan[step_index]
    planned.done = True
    if step_index > 0 and in_diagnostic_period(ctx, at):
        # Diagnostic month: the breach is recorded and its manager told (the first step);
        # the ladder goes no further, so nobody above is paged and no lead is reassigned.
        ctx.record("clock_escalation_held", clock=clock)
        return
    rep = clocks.manager_for(ctx, planned.role)
    escalation = Escalation(role=planned.role, rep_id=rep, at=at)
    # Reassignment moves the lead only while the late rep still owns it (not after a handoff).
    if planned.reassign and state.owner is not None and clock.owner == state.owner:
        previous = state.owner
        assignment = assign(ctx, state.owner_role or "sdr", exclude=[previous])
        if isinstance(assignment, Assignment):
            escalation.reassigned = True
            for other in clockbook.open_clocks(state, lambda i: True):
                if other.owner == previous:
                    other.owner = assignment.rep_id  # Q26: reassignment never resets clocks
            ctx.release(previous)
    clock.escalated_to.append(escalation)
    detail = "; ".join(d for d in ("reassigned" if escalation.reassigned else None, clock.why) if d) or None
    ctx.notify("escalation", planned.role, rep, item=clock.item, detail=detail)
    ctx.record("clock_escalated", clock=clock)
    if planned.forces and state.stage == "sal" and not _cadence_exhausted_by(ctx, at):
        # (A cadence exhausted by now recycles by T15 instead: that is the lead's real outcome.)
        # Nothing was decided by the deadline: the disposition the policy names is applied
        # for the manager, at the ladder step's instant, and the record says who forced it.
        code = next(c for c in ctx.policy.reason_codes.sal_disposition if c.code == planned.forces)
        enter_recycled(ctx, code, event="force_disposition", label="T16 forced_disposition", role="system",
                       actor=f"system for {planned.role}", note=f"{clock.item} breached: disposition forced",
                       at=at, subject=planned)


def cadence_due(ctx: Ctx) -> None:
    state, now = ctx.state, ctx.now
    if not state.cadence and state.cadence_ends_at is None:
        return
    for planned in state.cadence:
        if planned.done_at is None and not planned.reminded and planned.due_at <= now:
            planned.reminded = True
            ctx.notify("touch_due", state.owner_role or "sdr", state.owner, due_at=planned.due_at,
                       detail=f"Touch {planned.number} (day {planned.day}, {planned.channel}): {planned.purpose}")
    clocks.refresh_next_touch(ctx)
    ends = state.cadence_ends_at
    if state.stage != "sal" or ends is None or now < ends:
        return
    # T15 (§6.4): only a fully worked cadence without a reply is exhausted; the end of its
    # span alone is not. A cadence completed later is exhausted at its last touch.
    state.cadence_end_seen = True
    if _cadence_exhausted_by(ctx, now):
        code = next(c for c in ctx.policy.reason_codes.sal_disposition
                    if c.code == ctx.policy.recycling.cadence_exhausted_code)
        last_touch = max((t.at for t in state.touches), default=ends)
        enter_recycled(ctx, code, event="cadence_exhausted", label="T15 cadence_exhausted", role="system",
                       actor="system", note=None, at=max(ends, last_touch))
