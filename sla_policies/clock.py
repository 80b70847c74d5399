"""The business-hours clock: every SLA deadline is computed here, and nowhere else.

Conventions (docs/domain.md "Units", §5.1, Q3, Q23):
- Business time is the half-open interval [open, close) of each business day, in the
  calendar's local time. A business clock runs only inside it; started outside it, it
  starts at the next open (`clock_start`).
- A business-time deadline that consumes exactly the rest of a day lands *at* that day's
  close (18:00), not at the next open: 18:00 is the end of that day's business time.
- Zero business time from `s` is `clock_start(s)`: `s` itself inside business hours, else
  the next open (so from a close instant it is the next open, not the close).
- Hence add(add(s, a), b) == add(s, a + b) for every a >= 0 and b > 0. (With b == 0 it
  fails only when add(s, a) lands exactly at a close: the left side is then the next open.)
- Business time is measured on the UTC time line: each day's segment is
  close_utc - cursor_utc, never wall-clock arithmetic, so a DST switch inside business
  hours (none of the usual zones has one at 08:00-18:00, but a calendar may be open at
  night) makes that day's business time 1 h shorter or longer, as it really is.
- "N bd" is N business days later at the same local time as the clock start (24 bh =
  1 bd, 48 bh = 2 bd). "eodN" is the close of business day N, day 1 being the day the
  clock starts (the next business day for an after-hours start; Q23). Local wall times
  are mapped to instants per day, so a DST switch between the two days moves the UTC
  offset, not the local time. A wall time that does not exist or is ambiguous on the
  target day is resolved with fold=0: an ambiguous time is its first occurrence; a
  nonexistent one is read with the offset in force before the switch, i.e. it lands
  one hour later on the wall clock (02:30 on a spring-forward night becomes 03:30).
- Spans in business days (bd, eodN) are business days on either basis.
- Calendar spans (s, m, h, d) are elapsed time: "24h" across a DST switch is 24 real
  hours, and "1d" likewise is 24 elapsed hours (the local wall time shifts by an hour
  across a switch). "N mo" is the same local wall time N calendar months later (clamped
  to the month's last day, fold=0), for suppression windows.
All inputs must be timezone-aware (naive ones raise ValueError); every result is in UTC.
"""

from __future__ import annotations

import calendar as _monthcal
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict

from sla_policies.calendar import BusinessCalendar
from sla_policies.span import Span, SpanUnit

Basis = Literal["business", "calendar"]
_MAX_SCAN_DAYS = 3700  # ten years of consecutive closed days means a broken calendar


def _aware(instant: datetime) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"naive datetime {instant.isoformat()}: instants must be timezone-aware")
    return instant.astimezone(UTC)


def _local_date(instant: datetime, cal: BusinessCalendar) -> date:
    return instant.astimezone(cal.zone).date()


def _business_days_from(day: date, cal: BusinessCalendar):
    """Business days on or after `day`, in order."""
    for _ in range(_MAX_SCAN_DAYS):
        if cal.is_business_day(day):
            yield day
        day += timedelta(days=1)
    raise ValueError("no business day within ten years: check the calendar's weekdays and closed dates")


def _next_business_day(day: date, cal: BusinessCalendar) -> date:
    return next(_business_days_from(day, cal))


def _nth_business_day(first: date, n: int, cal: BusinessCalendar) -> date:
    """Business day number n (1-based) counting `first` (a business day) as day 1."""
    days = _business_days_from(first, cal)
    for _ in range(n - 1):
        next(days)
    return next(days)


def _wall(day: date, at: time, cal: BusinessCalendar) -> datetime:
    """Local wall time `at` on `day` as a UTC instant, resolved with fold=0."""
    return datetime.combine(day, at.replace(fold=0), tzinfo=cal.zone).astimezone(UTC)


def _check_day_number(n: int, minimum: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < minimum:
        raise ValueError(f"business day count must be an integer >= {minimum}, got {n!r}")


def is_business_time(instant: datetime, cal: BusinessCalendar) -> bool:
    """True inside [open, close) of a business day (local time)."""
    return cal.is_open(_aware(instant))


def next_business_day_open(instant: datetime, cal: BusinessCalendar) -> datetime:
    """The first business-day open at or after `instant` ("the next bd open" of the
    after-hours rules): today's open if `instant` is on a business day at or before its
    open; otherwise (inside hours, at/after close, or on a closed day) the open of the
    first business day strictly after the local date of `instant`."""
    instant = _aware(instant)
    day = _local_date(instant, cal)
    if cal.is_business_day(day) and instant <= cal.open_at(day):
        return cal.open_at(day).astimezone(UTC)
    return cal.open_at(_next_business_day(day + timedelta(days=1), cal)).astimezone(UTC)


def clock_start(instant: datetime, cal: BusinessCalendar) -> datetime:
    """When a business clock started at `instant` begins to run: `instant` itself inside
    business hours, else the next business-day open."""
    instant = _aware(instant)
    return instant if is_business_time(instant, cal) else next_business_day_open(instant, cal)


def add_business_time(start: datetime, delta: timedelta, cal: BusinessCalendar) -> datetime:
    """`delta` of business time after `start` (the clock runs from `clock_start(start)`).
    Exactly the rest of a day lands at its close; zero returns `clock_start(start)`."""
    if delta < timedelta(0):
        raise ValueError("business time cannot be negative")
    cursor = clock_start(start, cal)
    remaining = delta
    for _ in range(_MAX_SCAN_DAYS):
        close = cal.close_at(_local_date(cursor, cal)).astimezone(UTC)
        available = close - cursor
        if remaining <= available:
            return cursor + remaining
        remaining -= available
        cursor = next_business_day_open(close, cal)
    raise ValueError("business time does not fit in ten years")  # pragma: no cover


def add_business_days(start: datetime, n: int, cal: BusinessCalendar) -> datetime:
    """n business days after the clock start, at the same local time (n == 0: the clock
    start). After hours the clock starts at the next open, so the result is at 08:00."""
    _check_day_number(n, 0)
    begun = clock_start(start, cal).astimezone(cal.zone)
    day = _nth_business_day(begun.date(), n + 1, cal)
    return _wall(day, begun.time(), cal)


def start_of_business_day(start: datetime, n: int, cal: BusinessCalendar) -> datetime:
    """The open of business day n (n >= 1), day 1 being the day the clock starts. Day 1's
    open may precede `start` (a start inside hours); cadence uses clock_start for day 1."""
    _check_day_number(n, 1)
    first = _local_date(clock_start(start, cal), cal)
    return cal.open_at(_nth_business_day(first, n, cal)).astimezone(UTC)


def end_of_business_day(start: datetime, n: int, cal: BusinessCalendar) -> datetime:
    """The close of business day n (n >= 1), day 1 being the day the clock starts."""
    _check_day_number(n, 1)
    first = _local_date(clock_start(start, cal), cal)
    return cal.close_at(_nth_business_day(first, n, cal)).astimezone(UTC)


def business_day_number(start: datetime, instant: datetime, cal: BusinessCalendar) -> int:
    """Which business day `instant` falls on, day 1 being the day the clock starts (a
    non-business day counts as the business day before it; 0 before the clock starts)."""
    first = _local_date(clock_start(start, cal), cal)
    last = _local_date(_aware(instant), cal)
    if last < first:
        return 0
    count, day = 0, first
    while day <= last:
        count += cal.is_business_day(day)
        day += timedelta(days=1)
    return count


def _add_months(start: datetime, months: int, cal: BusinessCalendar) -> datetime:
    local = _aware(start).astimezone(cal.zone)
    month_index = local.month - 1 + months
    year, month = local.year + month_index // 12, month_index % 12 + 1
    day = min(local.day, _monthcal.monthrange(year, month)[1])
    return _wall(date(year, month, day), local.time(), cal)


def add_span(start: datetime, span: Span, *, basis: Basis, cal: BusinessCalendar) -> datetime:
    """`span` after `start`. bd / eodN: business days on either basis. Business basis:
    s/m/h are business time, d/mo are refused. Calendar basis: s/m/h/d elapsed time,
    mo calendar months at the same local wall time."""
    start = _aware(start)
    if span.unit is SpanUnit.business_day:
        return add_business_days(start, span.amount, cal)
    if span.unit is SpanUnit.end_of_business_day:
        return end_of_business_day(start, span.amount, cal)
    if basis == "business":
        if span.unit in (SpanUnit.day, SpanUnit.month):
            raise ValueError(f"{span}: calendar-day spans need the calendar clock")
        return add_business_time(start, span.to_timedelta(), cal)
    if span.unit is SpanUnit.month:
        return _add_months(start, span.amount, cal)
    return start + span.to_timedelta()


def after_hours_due(arrival: datetime, cal: BusinessCalendar, *, from_next_open: Span | None = None,
                    by_next_business_day_at: time | None = None) -> datetime:
    """The after-hours rules of docs/domain.md §5.1: "≤30 min after next bd open" (from_next_open
    30m), "≤24 h after next bd opens" (from_next_open 1bd), "by 10:00 next bd"."""
    if (from_next_open is None) == (by_next_business_day_at is None):
        raise ValueError("give exactly one of from_next_open and by_next_business_day_at")
    opens = next_business_day_open(arrival, cal)
    if from_next_open is not None:
        return add_span(opens, from_next_open, basis="business", cal=cal)
    assert by_next_business_day_at is not None  # exactly one of the two is given (checked above)
    return _wall(_local_date(opens, cal), by_next_business_day_at, cal)


class Deadlines(BaseModel):
    """The instants of one window instance, computed once when its clock starts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    started_at: AwareDatetime
    clock_started_at: AwareDatetime
    due_at: AwareDatetime | None = None
    warning_at: AwareDatetime | None = None
    breach_at: AwareDatetime | None = None
    after_hours: bool = False


def window_deadlines(start: datetime, *, target: Span | None, breach: Span | None, warning: Span | None = None,
                     basis: Basis, cal: BusinessCalendar, after_hours_from_next_open: Span | None = None,
                     after_hours_by: time | None = None) -> Deadlines:
    """Target, warning and breach instants of a window started at `start`.

    docs/domain.md §5.1: for an after-hours arrival (business basis, `start` outside business
    hours) an after-hours rule, if given, replaces the target, while the breach threshold
    is measured from the next business-day open (which is what the business clock does
    anyway). Warning and breach are spans from the clock start. If the due instant would
    fall after the breach it is clamped to the breach. Calendar-basis windows ignore the
    after-hours rule (they run 24x7).
    """
    start = _aware(start)
    begun = clock_start(start, cal) if basis == "business" else start

    def at(span: Span | None) -> datetime | None:
        return add_span(start, span, basis=basis, cal=cal) if span is not None else None

    due, breach_at, warning_at = at(target), at(breach), at(warning)
    after_hours = basis == "business" and not is_business_time(start, cal)
    has_rule = after_hours_from_next_open is not None or after_hours_by is not None
    if after_hours and has_rule and target is not None:
        due = after_hours_due(start, cal, from_next_open=after_hours_from_next_open,
                              by_next_business_day_at=after_hours_by)
    if due is not None and breach_at is not None and due > breach_at:
        due = breach_at
    return Deadlines(started_at=start, clock_started_at=begun, due_at=due, warning_at=warning_at,
                     breach_at=breach_at, after_hours=after_hours and has_rule)
