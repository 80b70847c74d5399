"""The business-hours clock: named cases from DOMAIN.md and properties that must always hold."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sla_policies.calendar import BusinessCalendar, resolve_calendar
from sla_policies.clock import (
    add_business_days,
    add_business_time,
    add_span,
    after_hours_due,
    business_day_number,
    clock_start,
    end_of_business_day,
    is_business_time,
    next_business_day_open,
    start_of_business_day,
    window_deadlines,
)
from sla_policies.span import Span

NY = ZoneInfo("America/New_York")
YEARS = range(2025, 2030)
US = resolve_calendar("America/New_York", country="US", years=YEARS)


def ny(*args) -> datetime:
    return datetime(*args, tzinfo=NY)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


# ------------------------------------------------------------------ named cases

def test_tier1_mql_at_19_on_a_tuesday_is_due_0830_wednesday():
    arrival = ny(2026, 3, 3, 19, 0)  # a Tuesday
    assert arrival.weekday() == 1
    d = window_deadlines(arrival, target=Span.parse("5m"), breach=Span.parse("2h"), basis="business",
                         cal=US, after_hours_from_next_open=Span.parse("30m"))
    assert d.due_at == ny(2026, 3, 4, 8, 30)
    assert d.breach_at == ny(2026, 3, 4, 10, 0)  # 2 bh measured from the next open
    assert d.clock_started_at == ny(2026, 3, 4, 8, 0)
    assert d.after_hours


def test_tier1_inside_hours_uses_the_target():
    d = window_deadlines(ny(2026, 3, 3, 11, 0), target=Span.parse("5m"), breach=Span.parse("2h"),
                         basis="business", cal=US, after_hours_from_next_open=Span.parse("30m"))
    assert (d.due_at, d.breach_at, d.after_hours) == (ny(2026, 3, 3, 11, 5), ny(2026, 3, 3, 13, 0), False)


def test_friday_1758_plus_5_business_minutes_is_monday_0803():
    friday = ny(2026, 2, 27, 17, 58)
    assert friday.weekday() == 4
    assert add_business_time(friday, timedelta(minutes=5), US) == ny(2026, 3, 2, 8, 3)


def test_exactly_the_rest_of_the_day_lands_at_close():
    assert add_business_time(ny(2026, 3, 3, 16, 0), timedelta(hours=2), US) == ny(2026, 3, 3, 18, 0)
    assert add_business_time(ny(2026, 3, 3, 18, 0), timedelta(minutes=1), US) == ny(2026, 3, 4, 8, 1)


def test_tier2_after_hours_friday_evening_is_due_monday_1000():
    d = window_deadlines(ny(2026, 2, 27, 20, 0), target=Span.parse("2h"), breach=Span.parse("4h"),
                         basis="business", cal=US, after_hours_by=time(10, 0))
    assert d.due_at == ny(2026, 3, 2, 10, 0)
    assert d.breach_at == ny(2026, 3, 2, 12, 0)


def test_tier3_saturday_arrival_due_tuesday_open_breach_wednesday_open():
    d = window_deadlines(ny(2026, 2, 28, 11, 0), target=Span.parse("1bd"), breach=Span.parse("2bd"),
                         basis="business", cal=US, after_hours_from_next_open=Span.parse("1bd"))
    assert d.due_at == ny(2026, 3, 3, 8, 0)
    assert d.breach_at == ny(2026, 3, 4, 8, 0)


def test_deadline_crossing_thanksgiving():
    # Wednesday 2026-11-25 17:00 + 2 bh: Thursday is Thanksgiving, so Friday 09:00.
    assert date(2026, 11, 26) in US.closed_dates
    assert add_business_time(ny(2026, 11, 25, 17, 0), timedelta(hours=2), US) == ny(2026, 11, 27, 9, 0)
    assert add_business_days(ny(2026, 11, 25, 9, 30), 1, US) == ny(2026, 11, 27, 9, 30)


def test_spring_forward_in_new_york():
    # DST starts Sunday 2026-03-08: EST (UTC-5) before, EDT (UTC-4) after.
    assert add_business_time(ny(2026, 3, 6, 17, 0), timedelta(hours=2), US) == utc(2026, 3, 9, 13, 0)
    assert add_business_days(ny(2026, 3, 6, 9, 0), 1, US) == utc(2026, 3, 9, 13, 0)
    # Calendar hours are elapsed time: 24 h later the local wall clock reads an hour later.
    later = add_span(ny(2026, 3, 7, 12, 0), Span.parse("24h"), basis="calendar", cal=US)
    assert later == utc(2026, 3, 8, 17, 0)
    assert later.astimezone(NY).hour == 13


def test_fall_back_in_new_york():
    # DST ends Sunday 2026-11-01: EDT before, EST after.
    assert add_business_time(ny(2026, 10, 30, 17, 0), timedelta(hours=2), US) == utc(2026, 11, 2, 14, 0)
    assert add_business_days(ny(2026, 10, 30, 9, 0), 1, US) == utc(2026, 11, 2, 14, 0)
    later = add_span(ny(2026, 10, 31, 12, 0), Span.parse("24h"), basis="calendar", cal=US)
    assert later.astimezone(NY).hour == 11


def test_berlin_christmas_with_german_holidays():
    de = resolve_calendar("Europe/Berlin", country="DE", years=YEARS)
    berlin = ZoneInfo("Europe/Berlin")
    start = datetime(2026, 12, 24, 17, 0, tzinfo=berlin)  # 24th is a working day, 25/26 are not
    assert add_business_time(start, timedelta(hours=2), de) == datetime(2026, 12, 28, 9, 0, tzinfo=berlin)


def test_tokyo_golden_week():
    jp = resolve_calendar("Asia/Tokyo", country="JP", years=YEARS)
    tokyo = ZoneInfo("Asia/Tokyo")
    start = datetime(2026, 5, 1, 17, 30, tzinfo=tokyo)
    assert add_business_time(start, timedelta(hours=1), jp) == datetime(2026, 5, 7, 8, 30, tzinfo=tokyo)


def test_eod14_counts_business_days_from_day_one():
    start = ny(2026, 11, 2, 10, 0)  # Monday; Veterans Day (11th) is a US holiday
    assert date(2026, 11, 11) in US.closed_dates
    assert end_of_business_day(start, 14, US) == ny(2026, 11, 20, 18, 0)
    assert add_span(start, Span.parse("eod14"), basis="business", cal=US) == ny(2026, 11, 20, 18, 0)
    assert end_of_business_day(start, 1, US) == ny(2026, 11, 2, 18, 0)
    assert start_of_business_day(start, 12, US) == ny(2026, 11, 18, 8, 0)
    assert business_day_number(start, ny(2026, 11, 18, 12, 0), US) == 12
    assert business_day_number(start, ny(2026, 11, 11, 12, 0), US) == 7  # a holiday counts as the day before


def test_after_hours_start_makes_the_next_business_day_day_one():
    friday_night = ny(2026, 2, 27, 22, 0)
    assert end_of_business_day(friday_night, 1, US) == ny(2026, 3, 2, 18, 0)
    assert business_day_number(friday_night, ny(2026, 3, 2, 9, 0), US) == 1


def test_months_keep_local_time_and_clamp():
    assert add_span(ny(2026, 8, 31, 9, 0), Span.parse("6mo"), basis="calendar", cal=US) == ny(2027, 2, 28, 9, 0)
    assert add_span(ny(2026, 1, 1, 9, 0), Span.parse("90d"), basis="calendar", cal=US) == ny(2026, 4, 1, 10, 0)


def test_calendar_day_span_is_refused_on_the_business_clock():
    with pytest.raises(ValueError, match="calendar clock"):
        add_span(ny(2026, 3, 3, 9, 0), Span.parse("90d"), basis="business", cal=US)


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        clock_start(datetime(2026, 3, 3, 9, 0), US)


@pytest.mark.parametrize("kwargs,match", [
    ({"timezone": "Mars/Olympus_Mons", "country": None}, "Mars/Olympus_Mons"),
    ({"timezone": "America/New_York", "country": "XX"}, "XX"),
])
def test_unknown_timezone_or_country_is_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        resolve_calendar(years=YEARS, **kwargs)


def test_after_hours_rules_need_exactly_one_form():
    with pytest.raises(ValueError):
        after_hours_due(ny(2026, 3, 3, 20, 0), US)


# ------------------------------------------------------------------ properties

CALENDARS = [
    US,
    resolve_calendar("Europe/London", country="GB", years=YEARS),
    resolve_calendar("Europe/Berlin", country="DE", years=YEARS),
    resolve_calendar("Asia/Kolkata", country="IN", years=YEARS),
    resolve_calendar("Australia/Sydney", country="AU", subdivision="NSW", years=YEARS),
    resolve_calendar("America/Los_Angeles", country="US", years=YEARS),
]

calendars = st.sampled_from(CALENDARS)
instants = st.datetimes(min_value=datetime(2025, 1, 2), max_value=datetime(2028, 6, 30),
                        timezones=st.just(UTC))
durations = st.integers(min_value=0, max_value=200 * 60).map(lambda m: timedelta(minutes=m))
positive = st.integers(min_value=1, max_value=200 * 60).map(lambda m: timedelta(minutes=m))


def business_elapsed(a: datetime, b: datetime, cal: BusinessCalendar) -> timedelta:
    """Reference: business time between two instants, summed day by day independently."""
    total = timedelta(0)
    day = a.astimezone(cal.zone).date() - timedelta(days=1)
    while day <= b.astimezone(cal.zone).date():
        if cal.is_business_day(day):
            lo, hi = max(a, cal.open_at(day)), min(b, cal.close_at(day))
            if hi > lo:
                total += hi - lo
        day += timedelta(days=1)
    return total


def on_business_edge(instant: datetime, cal: BusinessCalendar) -> bool:
    local = instant.astimezone(cal.zone)
    return is_business_time(instant, cal) or (
        cal.is_business_day(local.date()) and instant == cal.close_at(local.date())
    )


@settings(max_examples=200, deadline=None)
@given(calendars, instants, durations)
def test_business_time_elapsed_equals_delta(cal, start, delta):
    end = add_business_time(start, delta, cal)
    assert business_elapsed(start, end, cal) == delta


@settings(max_examples=200, deadline=None)
@given(calendars, instants, positive)
def test_business_deadline_is_never_outside_business_hours(cal, start, delta):
    assert on_business_edge(add_business_time(start, delta, cal), cal)


@settings(max_examples=200, deadline=None)
@given(calendars, instants, durations, durations)
def test_adding_a_then_b_equals_adding_a_plus_b(cal, start, a, b):
    assert add_business_time(add_business_time(start, a, cal), b, cal) == add_business_time(start, a + b, cal)


@settings(max_examples=200, deadline=None)
@given(calendars, instants, instants, durations)
def test_monotonic_in_start(cal, s1, s2, delta):
    s1, s2 = min(s1, s2), max(s1, s2)
    assert add_business_time(s1, delta, cal) <= add_business_time(s2, delta, cal)


@settings(max_examples=200, deadline=None)
@given(calendars, instants, durations, durations)
def test_monotonic_in_delta(cal, start, d1, d2):
    d1, d2 = min(d1, d2), max(d1, d2)
    assert add_business_time(start, d1, cal) <= add_business_time(start, d2, cal)


@settings(max_examples=200, deadline=None)
@given(calendars, instants, st.integers(min_value=1, max_value=30))
def test_business_days_keep_the_local_time_of_the_clock_start(cal, start, n):
    begun = clock_start(start, cal)
    result = add_business_days(start, n, cal)
    assert result.astimezone(cal.zone).time() == begun.astimezone(cal.zone).time()
    assert is_business_time(result, cal)
    assert business_day_number(start, result, cal) == n + 1


@settings(max_examples=200, deadline=None)
@given(calendars, instants)
def test_clock_start_is_idempotent_and_business_time(cal, instant):
    begun = clock_start(instant, cal)
    assert begun >= instant
    assert is_business_time(begun, cal)
    assert clock_start(begun, cal) == begun
    assert business_elapsed(instant, begun, cal) == timedelta(0)


@settings(max_examples=200, deadline=None)
@given(calendars, instants, st.sampled_from([Span.parse("30m"), Span.parse("1bd")]),
       st.sampled_from([None, time(10, 0)]))
def test_after_hours_due_is_after_arrival_and_in_business_hours(cal, arrival, span, by):
    due = (after_hours_due(arrival, cal, by_next_business_day_at=by) if by
           else after_hours_due(arrival, cal, from_next_open=span))
    assert due > arrival
    assert is_business_time(due, cal)
    assert due >= next_business_day_open(arrival, cal)
