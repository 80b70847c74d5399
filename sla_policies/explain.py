"""Deadlines that explain themselves: why a clock is due when it is, in a rep's words.

A breach is what gets argued over (docs/domain.md §13: disputes are settled on the
record), so each step of the computation in `sla_policies/clock.py` is retold here from
the same inputs: the start, whether it was after hours, where the business clock began,
the span added on which clock, the after-hours rule if one replaced the target, and the
closed days (public holidays) the clock skipped. Pure: the words are a function of the
window's spans, the lead's calendar and the instants already computed.

Example: "arrived Tue 24 Nov 19:00 New York (after hours) → next open Wed 25 Nov 08:00 →
+ 30 business minutes after the next open (after-hours rule) → due Wed 25 Nov 08:30".
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from pydantic import BaseModel, ConfigDict

from sla_policies.calendar import BusinessCalendar
from sla_policies.clock import Basis, Deadlines, is_business_time
from sla_policies.span import Span, SpanUnit

_UNIT_WORDS = {SpanUnit.second: "second", SpanUnit.minute: "minute", SpanUnit.hour: "hour",
               SpanUnit.day: "day", SpanUnit.month: "month"}


class Explanation(BaseModel):
    """The steps in order, the closed days skipped, and the whole as one line."""

    model_config = ConfigDict(frozen=True)

    steps: list[str]
    skipped: list[str]
    text: str


def place(cal: BusinessCalendar) -> str:
    """"New York" for America/New_York: the last part of the zone name, as people say it."""
    return cal.timezone.rsplit("/", 1)[-1].replace("_", " ")


def when(instant: datetime, cal: BusinessCalendar) -> str:
    local = instant.astimezone(cal.zone)
    return f"{local:%a} {local.day} {local:%b} {local:%H:%M}"


def span_words(span: Span, basis: Basis) -> str:
    """"30 business minutes", "2 hours", "5 business days (same local time)", "end of business day 3"."""
    if span.unit is SpanUnit.end_of_business_day:
        return f"end of business day {span.amount}"
    if span.unit is SpanUnit.business_day:
        days = "business day" if span.amount == 1 else "business days"
        return f"{span.amount} {days} (same local time)"
    unit = _UNIT_WORDS[span.unit] + ("" if span.amount == 1 else "s")
    business = "business " if basis == "business" and span.unit in (SpanUnit.second, SpanUnit.minute,
                                                                     SpanUnit.hour) else ""
    return f"{span.amount} {business}{unit}"


def skipped_days(start: datetime, end: datetime, cal: BusinessCalendar,
                 names: dict[date, str] | None = None) -> list[str]:
    """The closed weekdays (holidays and extra closed dates) strictly inside the local days
    the clock ran over, with their names where known: weekends go without saying."""
    first, last = start.astimezone(cal.zone).date(), end.astimezone(cal.zone).date()
    found, day = [], first
    while day <= last:
        if day.weekday() in cal.weekdays and day in cal.closed_dates:
            name = (names or {}).get(day) or "closed day"
            found.append(f"{name} ({day:%a} {day.day} {day:%b}) skipped")
        day += timedelta(days=1)
    return found


def explain(deadlines: Deadlines, *, basis: Basis, cal: BusinessCalendar, target: Span | None,
            breach: Span | None, warning: Span | None = None, after_hours_from_next_open: Span | None = None,
            after_hours_by: time | None = None, holiday_names: dict[date, str] | None = None,
            verb: str = "started") -> Explanation:
    """Why `deadlines` (computed by `clock.window_deadlines` from the same arguments) fall
    where they do. `verb` names the starting event in the rep's terms ("arrived", "accepted")."""
    start, begun = deadlines.started_at, deadlines.clock_started_at
    first = f"{verb} {when(start, cal)} {place(cal)}"
    if basis == "business" and not is_business_time(start, cal):
        first += " (after hours)"
    steps = [first]
    if basis == "business" and begun != start:
        steps.append(f"next open {when(begun, cal)}")
    if deadlines.due_at is not None and target is not None:
        if deadlines.after_hours and after_hours_from_next_open is not None:
            how = f"+ {span_words(after_hours_from_next_open, 'business')} after the next open (after-hours rule)"
        elif deadlines.after_hours and after_hours_by is not None:
            how = f"by {after_hours_by:%H:%M} on the next business day (after-hours rule)"
        else:
            how = f"+ {span_words(target, basis)}"
        clamped = " (capped at the breach)" if deadlines.breach_at == deadlines.due_at and target != breach else ""
        steps.append(f"{how} → due {when(deadlines.due_at, cal)}{clamped}")
    if deadlines.warning_at is not None and warning is not None:
        steps.append(f"+ {span_words(warning, basis)} → warning {when(deadlines.warning_at, cal)}")
    if deadlines.breach_at is not None and breach is not None:
        steps.append(f"+ {span_words(breach, basis)} from the clock start → breach {when(deadlines.breach_at, cal)}")
    last = max(i for i in (deadlines.due_at, deadlines.warning_at, deadlines.breach_at, begun) if i is not None)
    skipped = skipped_days(start, last, cal, holiday_names) if basis == "business" or (
        breach is not None and breach.is_business_days) else []
    text = " → ".join(steps)
    if skipped:
        text += "; " + "; ".join(skipped)
    return Explanation(steps=steps, skipped=skipped, text=text)
