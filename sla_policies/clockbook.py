"""The lead's SLA clock record: which clocks are open, what they are waiting for, and
what meeting or voiding one does. Pure bookkeeping over `LeadState`, so the workflow
module keeps only the decisions and the waiting."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Literal, NamedTuple

from sla_policies.model.transitions import OPEN_STAGES
from sla_policies.state import LeadState, SlaClock

Kind = Literal["warning", "due", "breach", "escalation"]

# A wait for an instant further off than this ends this much early, and the rest is waited
# from that later moment: a durable timer's duration counts from the start of the step that
# set it, so a long step would carry its length into the instant (workflows/lead.py
# `_sleep_until_next`; bench/RESULTS.md, session 13).
AIM_EARLY = timedelta(seconds=5)


class PendingInstant(NamedTuple):
    at: datetime
    order: int  # warning, due, breach, then the ladder steps in order
    clock: SlaClock
    kind: Kind
    step: int  # ladder step index for "escalation", else -1


def open_clocks(state: LeadState, match: Callable[[str], bool]) -> list[SlaClock]:
    return [c for c in state.clocks if c.open and match(c.item)]


def meet(state: LeadState, item: str, now: datetime) -> list[SlaClock]:
    """Mark the open clocks of `item` met; a met clock keeps a breach it already had."""
    met = open_clocks(state, lambda i: i == item)
    for clock in met:
        clock.met_at = now
        clock.target_missed = clock.due_at is not None and now > clock.due_at
        if clock.status == "running":
            clock.status = "met"
    return met


def void(state: LeadState, prefix: str, now: datetime, note: str) -> list[SlaClock]:
    """Close without a verdict the open clocks whose item starts with `prefix` (e.g. a coded
    rejection voids the SDR response clock, §5.3); a breach stays on the record."""
    voided = open_clocks(state, lambda i: i.startswith(prefix))
    for clock in voided:
        clock.voided_at, clock.note = now, note
        clock.status = "breached" if clock.breached_at is not None else "voided"
    return voided


def pending(state: LeadState) -> list[PendingInstant]:
    """Every SLA instant still to fire, in firing order."""
    found: list[PendingInstant] = []
    for clock in state.clocks:
        if not clock.open:
            continue
        if clock.warning_at and clock.warned_at is None:
            found.append(PendingInstant(clock.warning_at, 0, clock, "warning", -1))
        if clock.due_at and not clock.target_missed and clock.breached_at is None:
            found.append(PendingInstant(clock.due_at, 1, clock, "due", -1))
        if clock.breach_at and clock.breached_at is None:
            found.append(PendingInstant(clock.breach_at, 2, clock, "breach", -1))
        for i, step in enumerate(clock.escalation_plan):
            if not step.done:
                found.append(PendingInstant(step.at, 3 + i, clock, "escalation", i))
    return sorted(found, key=lambda p: (p.at, p.order, p.clock.seq))


def next_wakeup(state: LeadState) -> datetime | None:
    """The earliest instant the lead must act on by itself: a clock instant, a touch
    reminder, the end of the cadence, the end of a suppression, a check-in, a capacity-hold
    retry or the next decay step of a scored lead's score (docs/domain.md §3.1, Q8)."""
    instants = [p.at for p in pending(state)]
    instants += [t.due_at for t in state.cadence if t.done_at is None and not t.reminded]
    if state.stage == "sal" and state.cadence_ends_at is not None and not state.cadence_end_seen:
        instants.append(state.cadence_ends_at)
    if state.suppressed_until is not None and state.stage in ("recycled", "disqualified"):
        instants.append(state.suppressed_until)
    if state.check_in_at is not None and state.stage == "recycled":
        instants.append(state.check_in_at)
    if state.capacity_hold is not None and state.stage == "capacity_hold":
        instants.append(state.capacity_hold.retry_at)
    if state.score_changes_at is not None and state.stage in OPEN_STAGES:
        instants.append(state.score_changes_at)
    return min(instants) if instants else None


def next_wait(wake_at: datetime, now: datetime) -> timedelta | None:
    """How long to wait at `now` for the instant `wake_at`: None once it is due; all of it
    when it is at most AIM_EARLY away; else all but AIM_EARLY, which is waited afterwards."""
    left = wake_at - now
    if left <= timedelta(0):
        return None
    return left - AIM_EARLY if left > AIM_EARLY else left
