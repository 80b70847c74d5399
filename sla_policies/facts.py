"""Facts about one lead record that every report reads: the period type, when a lead
entered or left a stage, where it stood at an instant, and whether a window has closed.
Pure; `sla_policies.scorecard` and the metric rules share them."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel, model_validator

from sla_policies.records import ClockRecord, LeadRecord, TransitionRecord

WORKING_STAGES = frozenset({"mql", "sal"})  # an SDR is still working the lead


class Period(BaseModel):
    start: datetime
    end: datetime

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        if self.end <= self.start:
            raise ValueError("a period ends after it starts")
        return self

    def __contains__(self, at: datetime | None) -> bool:
        return at is not None and self.start <= at < self.end


def iso_week(day: date, timezone: str) -> Period:
    """The ISO week (Monday 00:00, company timezone; Q29) that contains `day`."""
    monday = day - timedelta(days=day.weekday())
    zone = ZoneInfo(timezone)
    start = datetime.combine(monday, time(0), tzinfo=zone)
    return Period(start=start, end=datetime.combine(monday + timedelta(days=7), time(0), tzinfo=zone))


def entered(record: LeadRecord, stage: str) -> datetime | None:
    """When the lead first entered `stage` (None if never)."""
    return next((t.at for t in record.transitions if t.to_stage == stage and t.from_stage != stage), None)


def left(record: LeadRecord, stage: str, as_of: datetime) -> TransitionRecord | None:
    """The first change out of `stage` after the lead first entered it, by `as_of`."""
    since = entered(record, stage)
    if since is None:
        return None
    return next((t for t in record.transitions
                 if t.from_stage == stage and t.to_stage != stage and since <= t.at <= as_of), None)


def stage_at(record: LeadRecord, at: datetime) -> str | None:
    """Where the lead stood at `at` (None before its first transition)."""
    stage = None
    for t in record.transitions:
        if t.at > at:
            break
        stage = t.to_stage
    return stage


def reached(record: LeadRecord, stage: str, as_of: datetime) -> bool:
    at = entered(record, stage)
    return at is not None and at <= as_of


def window_closed(record: LeadRecord, item: str, as_of: datetime) -> bool:
    """Some clock of `item` has run past its breach instant (or its target, if it has no
    breach) by `as_of`: whatever the lead did, that window is over."""
    for clock in record.clocks:
        if clock.item == item:
            end = clock.breach_at or clock.due_at
            if end is not None and end <= as_of:
                return True
    return False


def routed_at(record: LeadRecord) -> datetime | None:
    """When routing was done: the first met `routing.*` clock (system timestamps)."""
    return min((c.met_at for c in record.clocks if c.item.startswith("routing.") and c.met_at is not None),
               default=None)


def first_clock(record: LeadRecord, prefix: str) -> ClockRecord | None:
    return next((c for c in record.clocks if c.item == prefix or c.item.startswith(prefix + ".")), None)
