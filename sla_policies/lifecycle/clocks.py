"""SLA clocks and cadence touches: started at the instant of the event that starts them,
with every instant computed once, on the lead's calendar, and kept in the state."""

from __future__ import annotations

from datetime import datetime

from sla_policies import clockbook
from sla_policies.clock import (
    add_span,
    clock_start,
    start_of_business_day,
    window_deadlines,
)
from sla_policies.lifecycle.context import Ctx
from sla_policies.span import Span
from sla_policies.state import PlannedEscalation, PlannedTouch, SlaClock

REP_ROLES = frozenset({"sdr", "ae"})
MANAGER_ROLES = frozenset({"sdr_manager", "ae_manager"})


def rep_for(ctx: Ctx, role: str) -> str | None:
    """Who a window of `role` belongs to: the owner, or the SDR who handed over (the
    intro is still the SDR's after an AE owns the lead)."""
    state = ctx.state
    if role == state.owner_role or (role in REP_ROLES and state.sdr is None):
        return state.owner if role in REP_ROLES else None
    return state.sdr if role == "sdr" else None


def manager_for(ctx: Ctx, role: str) -> str | None:
    state = ctx.state
    if role == "sdr_manager" and state.owner_role == "ae" and state.sdr is not None:
        return state.sdr_manager  # an SDR window after the handoff
    return state.owner_manager if role in MANAGER_ROLES else None


def plan(ctx: Ctx, window_id: str, start: datetime, *, breach_override: Span | None = None):
    """The instants of `window_id` started at `start`: (Deadlines, ladder instants)."""
    window = ctx.policy.window(window_id)
    cal = ctx.cal(start)
    basis = "business" if window.clock == "business" else "calendar"
    d = window_deadlines(
        start, target=window.target, warning=window.warning, breach=breach_override or window.breach,
        basis=basis, cal=cal,
        after_hours_from_next_open=window.after_hours.from_next_open if window.after_hours else None,
        after_hours_by=window.after_hours.by_next_business_day_at if window.after_hours else None)
    ladder: list[datetime] = []
    if d.breach_at is not None:
        for step in window.escalation:
            if step.after is None:
                ladder.append(d.breach_at)
            elif step.measured_from == "clock_start":
                # §11.1 "at 48 h with nothing logged": from the clock start, on the window's
                # clock (48 h = 2 bd, Q3/Q4); never before the breach itself.
                ladder.append(max(add_span(d.clock_started_at, step.after, basis=basis, cal=cal), d.breach_at))
            else:
                ladder.append(add_span(d.breach_at, step.after, basis="calendar", cal=cal))
    return window, d, ladder


def start_clocks(ctx: Ctx, items: list[tuple[str, datetime, int | None]], *,
                 breach_override: Span | None = None) -> list[SlaClock]:
    started = []
    for window_id, start, tier in items:
        window, d, ladder = plan(ctx, window_id, start, breach_override=breach_override)
        clock = SlaClock(
            seq=ctx.next("clock_seq"), item=window_id, tier=tier, owner_role=window.owner,
            owner=rep_for(ctx, window.owner), started_at=d.started_at, clock_started_at=d.clock_started_at,
            due_at=d.due_at, warning_at=d.warning_at, breach_at=d.breach_at,
            escalation_plan=[PlannedEscalation(role=step.role, at=at, reassign=step.reassign, forces=step.forces)
                             for step, at in zip(window.escalation, ladder)])
        ctx.state.clocks.append(clock)
        ctx.record("clock_started", clock=clock)
        started.append(clock)
    return started


def start_clock(ctx: Ctx, window_id: str, start: datetime, tier: int | None = None) -> SlaClock:
    return start_clocks(ctx, [(window_id, start, tier)])[0]


def instant(ctx: Ctx, start: datetime, span: Span | None, basis: str = "calendar") -> datetime | None:
    if span is None:
        return None
    return add_span(start, span, basis=basis, cal=ctx.cal(start))  # type: ignore[arg-type]


def meet(ctx: Ctx, item: str) -> None:
    for clock in clockbook.meet(ctx.state, item, ctx.now):
        ctx.record("clock_met", clock=clock)


def meet_prefix(ctx: Ctx, prefix: str) -> None:
    # sorted: set order depends on the process's hash seed, and decisions must not.
    for item in sorted({c.item for c in clockbook.open_clocks(ctx.state, lambda i: i.startswith(prefix))}):
        meet(ctx, item)


def void(ctx: Ctx, prefix: str, note: str) -> None:
    for clock in clockbook.void(ctx.state, prefix, ctx.now, note):
        ctx.record("clock_voided", clock=clock)


def void_all(ctx: Ctx, note: str) -> None:
    void(ctx, "", note)


def start_stage_age_clock(ctx: Ctx, stage_id: str, now: datetime) -> None:
    """§9: each opportunity stage has its own maximum age (the window's breach)."""
    limit = ctx.policy.opportunity.stage(stage_id).max_age
    (clock,) = start_clocks(ctx, [("opp_stage_age", now, None)], breach_override=limit)
    clock.note = f"{stage_id.upper()} max age {limit}"


def start_debrief_clock(ctx: Ctx, now: datetime) -> None:
    """internal_debrief (Q20): due 24 h before the first AE meeting, breached only when a
    strategic account's meeting starts without it; anchored on the booked meeting."""
    state = ctx.state
    meeting, window = state.meeting_at, ctx.policy.window("internal_debrief")
    if meeting is None or meeting <= now or window.target is None:
        return
    breach = meeting if state.strategic else None
    clock = SlaClock(
        seq=ctx.next("clock_seq"), item="internal_debrief", owner_role=window.owner,
        owner=rep_for(ctx, window.owner), started_at=now, clock_started_at=now,
        due_at=max(meeting - window.target.to_timedelta(), now), breach_at=breach,
        escalation_plan=[PlannedEscalation(role=step.role, at=breach) for step in window.escalation
                         if breach is not None and step.after is None],
        note=f"first AE meeting {meeting.isoformat()}" + (" (strategic)" if breach else ""))
    state.clocks.append(clock)
    ctx.record("clock_started", clock=clock)


def plan_cadence(ctx: Ctx, cadence_id: str, routed_at: datetime) -> None:
    """§6.2 / Q23: day 1 = the routing day (next bd after hours); day-1 touches are due by
    its close, later ones when their business day opens; the cadence ends at recycle_at."""
    cadence = ctx.policy.cadences[cadence_id]
    cal = ctx.cal(routed_at)
    eod1 = Span.parse("eod1")
    due = [add_span(routed_at, eod1, basis="business", cal=cal) if t.day == 1 else
           (clock_start(routed_at, cal) if t.day == 1 else start_of_business_day(routed_at, t.day, cal))
           for t in cadence.touches]
    ctx.state.cadence = [PlannedTouch(number=t.number, day=t.day, channel=t.channel, purpose=t.purpose, due_at=at)
                         for t, at in zip(cadence.touches, due)]
    ctx.state.cadence_ends_at = add_span(routed_at, cadence.recycle_at, basis="business", cal=cal)
    ctx.state.cadence_end_seen = False
    refresh_next_touch(ctx)


def clear_cadence(ctx: Ctx) -> None:
    ctx.state.cadence, ctx.state.cadence_ends_at = [], None
    refresh_next_touch(ctx)


def refresh_next_touch(ctx: Ctx) -> None:
    due = [t.due_at for t in ctx.state.cadence if t.done_at is None]
    ctx.state.next_touch = min(due) if due else None
