"""The business-hours clock: named cases from docs/domain.md and properties that must always hold."""

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


def ny(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0,
       microsecond: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, microsecond, tzinfo=NY)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0,
        microsecond: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, microsecond, tzinfo=UTC)


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
    # A full business day from an open ends at that day's close, not at the next open.
    assert add_business_time(ny(2026, 3, 3, 8, 0), timedelta(hours=10), US) == ny(2026, 3, 3, 18, 0)
    assert add_business_time(ny(2026, 3, 3, 8, 0), timedelta(hours=20), US) == ny(2026, 3, 4, 18, 0)


def test_zero_business_time_is_the_clock_start():
    assert add_business_time(ny(2026, 3, 3, 11, 7), timedelta(0), US) == ny(2026, 3, 3, 11, 7)
    assert add_business_time(ny(2026, 3, 3, 18, 0), timedelta(0), US) == ny(2026, 3, 4, 8, 0)
    assert add_business_time(ny(2026, 2, 28, 12, 0), timedelta(0), US) == ny(2026, 3, 2, 8, 0)


def test_composition_at_the_close_boundary():
    at_close = add_business_time(ny(2026, 3, 3, 16, 0), timedelta(hours=2), US)
    assert at_close == ny(2026, 3, 3, 18, 0)
    # b > 0 continues from the next open, exactly like adding a + b at once ...
    assert add_business_time(at_close, timedelta(minutes=30), US) == ny(2026, 3, 4, 8, 30)
    assert add_business_time(ny(2026, 3, 3, 16, 0), timedelta(hours=2, minutes=30), US) == ny(2026, 3, 4, 8, 30)
    # ... while b == 0 from a close is the clock start, the next open (the documented exception).
    assert add_business_time(at_close, timedelta(0), US) == ny(2026, 3, 4, 8, 0)


def test_clock_start_and_next_business_day_open():
    assert clock_start(ny(2026, 3, 3, 11, 0), US) == ny(2026, 3, 3, 11, 0)
    assert clock_start(ny(2026, 3, 3, 7, 0), US) == ny(2026, 3, 3, 8, 0)
    assert clock_start(ny(2026, 3, 3, 18, 0), US) == ny(2026, 3, 4, 8, 0)
    assert clock_start(ny(2026, 3, 3, 8, 0), US) == ny(2026, 3, 3, 8, 0)
    assert next_business_day_open(ny(2026, 3, 3, 7, 0), US) == ny(2026, 3, 3, 8, 0)
    assert next_business_day_open(ny(2026, 3, 3, 8, 0), US) == ny(2026, 3, 3, 8, 0)
    assert next_business_day_open(ny(2026, 3, 3, 11, 0), US) == ny(2026, 3, 4, 8, 0)
    assert next_business_day_open(ny(2026, 3, 6, 19, 0), US) == ny(2026, 3, 9, 8, 0)
    assert is_business_time(ny(2026, 3, 3, 17, 59, 59, 999999), US)
    assert not is_business_time(ny(2026, 3, 3, 18, 0), US)
    assert not is_business_time(ny(2026, 3, 3, 7, 59, 59), US)
    assert US.is_open(ny(2026, 3, 3, 8, 0)) and not US.is_open(ny(2026, 3, 7, 12, 0))
    assert not is_business_time(ny(2026, 11, 26, 12, 0), US)  # Thanksgiving
    assert clock_start(ny(2026, 3, 3, 16, 0).astimezone(UTC), US).tzinfo is UTC


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


def test_july_4th_observed_on_friday():
    # 2026-07-04 is a Saturday, observed Friday 2026-07-03.
    assert date(2026, 7, 3) in US.closed_dates
    assert add_business_time(ny(2026, 7, 2, 17, 0), timedelta(hours=2), US) == ny(2026, 7, 6, 9, 0)
    assert add_business_days(ny(2026, 7, 2, 10, 0), 1, US) == ny(2026, 7, 6, 10, 0)
    assert end_of_business_day(ny(2026, 7, 2, 20, 0), 1, US) == ny(2026, 7, 6, 18, 0)


def test_london_easter_with_uk_holidays():
    # Good Friday 2026-04-03 is a GB-wide bank holiday; Easter Monday 2026-04-06 only in
    # England, Wales and Northern Ireland: without a subdivision it is a business day.
    london = ZoneInfo("Europe/London")
    gb = resolve_calendar("Europe/London", country="GB", years=YEARS)
    before_easter = datetime(2026, 4, 2, 17, 30, tzinfo=london)
    assert add_business_time(before_easter, timedelta(hours=1), gb) == utc(2026, 4, 6, 7, 30)
    gb = resolve_calendar("Europe/London", country="GB", subdivision="ENG", years=YEARS)
    start = datetime(2026, 4, 2, 17, 30, tzinfo=london)
    assert add_business_time(start, timedelta(hours=1), gb) == datetime(2026, 4, 7, 8, 30, tzinfo=london)
    assert add_business_time(start, timedelta(hours=1), gb) == utc(2026, 4, 7, 7, 30)  # BST


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
    assert add_business_time(ny(2026, 10, 30, 17, 0), timedelta(hours=2), US) == ny(2026, 11, 2, 9, 0)
    later = add_span(ny(2026, 10, 31, 12, 0), Span.parse("24h"), basis="calendar", cal=US)
    assert later == utc(2026, 11, 1, 16, 0)
    assert later.astimezone(NY).hour == 11
    # "1d" on the calendar clock is 24 elapsed hours too.
    assert add_span(ny(2026, 10, 31, 12, 0), Span.parse("1d"), basis="calendar", cal=US) == later


def test_business_time_is_real_time_when_a_dst_switch_falls_inside_business_hours():
    # A calendar open every day 00:00-23:00: the spring-forward night is inside its hours.
    always = BusinessCalendar(timezone="America/New_York", open=time(0, 0), close=time(23, 0),
                              weekdays=frozenset(range(7)))
    start = ny(2026, 3, 8, 1, 0)  # EST, 06:00 UTC; 02:00 EST -> 03:00 EDT
    assert add_business_time(start, timedelta(hours=2), always) == utc(2026, 3, 8, 8, 0)
    assert add_business_time(start, timedelta(hours=2), always).astimezone(NY).hour == 4
    # That day has 22 h of business time, 1 h less than its wall-clock span 00:00-23:00.
    assert add_business_time(ny(2026, 3, 8, 0, 0), timedelta(hours=22), always) == ny(2026, 3, 8, 23, 0)
    # Fall back: 24 h of business time that day.
    assert add_business_time(ny(2026, 11, 1, 0, 0), timedelta(hours=24), always) == ny(2026, 11, 1, 23, 0)


def test_business_days_to_a_nonexistent_or_ambiguous_wall_time_resolve_with_fold_0():
    always = BusinessCalendar(timezone="America/New_York", open=time(0, 0), close=time(23, 0),
                              weekdays=frozenset(range(7)))
    # 02:30 does not exist on 2026-03-08: read with EST (the offset before the switch) -> 03:30 EDT.
    assert add_business_days(ny(2026, 3, 7, 2, 30), 1, always) == utc(2026, 3, 8, 7, 30)
    # 01:30 happens twice on 2026-11-01: the first occurrence (EDT) is taken.
    assert add_business_days(ny(2026, 10, 31, 1, 30), 1, always) == utc(2026, 11, 1, 5, 30)
    # Starting from the second occurrence (EST, fold=1), the next day is plain 01:30 EST.
    second = datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=NY)
    assert second.astimezone(UTC) == utc(2026, 11, 1, 6, 30)  # (interzone == is always False at fold=1)
    assert clock_start(second, always) == utc(2026, 11, 1, 6, 30)
    assert add_business_days(second, 1, always) == utc(2026, 11, 2, 6, 30)
    assert add_business_days(ny(2026, 10, 1, 1, 30), 31, always) == utc(2026, 11, 1, 5, 30)


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


def test_eod14_from_a_monday_is_thursday_of_the_third_week():
    start = ny(2026, 3, 2, 10, 0)  # Monday; no US holiday in March 2026
    assert end_of_business_day(start, 14, US) == ny(2026, 3, 19, 18, 0)
    assert date(2026, 3, 19).weekday() == 3
    for n in range(1, 15):
        assert business_day_number(start, start_of_business_day(start, n, US), US) == n
        assert business_day_number(start, end_of_business_day(start, n, US), US) == n
    assert start_of_business_day(start, 1, US) == ny(2026, 3, 2, 8, 0)
    assert add_span(start, Span.parse("1bd"), basis="calendar", cal=US) == ny(2026, 3, 3, 10, 0)


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


@pytest.mark.parametrize("call", [
    lambda t: clock_start(t, US),
    lambda t: is_business_time(t, US),
    lambda t: US.is_open(t),
    lambda t: next_business_day_open(t, US),
    lambda t: add_business_time(t, timedelta(hours=1), US),
    lambda t: add_business_days(t, 1, US),
    lambda t: end_of_business_day(t, 1, US),
    lambda t: start_of_business_day(t, 1, US),
    lambda t: business_day_number(ny(2026, 3, 3, 9, 0), t, US),
    lambda t: add_span(t, Span.parse("2h"), basis="calendar", cal=US),
    lambda t: add_span(t, Span.parse("6mo"), basis="calendar", cal=US),
    lambda t: after_hours_due(t, US, from_next_open=Span.parse("30m")),
    lambda t: window_deadlines(t, target=Span.parse("5m"), breach=Span.parse("2h"), basis="business", cal=US),
])
def test_naive_datetimes_are_refused(call):
    with pytest.raises(ValueError, match="timezone-aware"):
        call(datetime(2026, 3, 3, 9, 0))


@pytest.mark.parametrize("call", [
    lambda: add_business_days(ny(2026, 3, 3, 9, 0), -1, US),
    lambda: end_of_business_day(ny(2026, 3, 3, 9, 0), 0, US),
    lambda: start_of_business_day(ny(2026, 3, 3, 9, 0), 0, US),
    lambda: add_business_time(ny(2026, 3, 3, 9, 0), timedelta(minutes=-1), US),
])
def test_negative_or_zero_day_counts_are_refused(call):
    with pytest.raises(ValueError):
        call()


def test_after_hours_due_later_than_the_breach_is_clamped():
    d = window_deadlines(ny(2026, 3, 3, 19, 0), target=Span.parse("5m"), breach=Span.parse("2h"),
                         basis="business", cal=US, after_hours_from_next_open=Span.parse("1bd"))
    assert d.due_at == d.breach_at == ny(2026, 3, 4, 10, 0)


def test_calendar_windows_run_24x7_and_ignore_after_hours_rules():
    d = window_deadlines(ny(2026, 2, 28, 23, 0), target=Span.parse("5m"), breach=Span.parse("60m"),
                         basis="calendar", cal=US, after_hours_from_next_open=Span.parse("30m"))
    assert (d.clock_started_at, d.due_at, d.breach_at) == (ny(2026, 2, 28, 23, 0), ny(2026, 2, 28, 23, 5),
                                                          ny(2026, 3, 1, 0, 0))
    assert not d.after_hours


def test_calendar_serializes_deterministically_and_round_trips():
    payload = US.model_dump_json()
    assert BusinessCalendar.model_validate_json(payload) == US
    assert '"weekdays":[0,1,2,3,4]' in payload
    assert '"closed_dates":["2025-01-01",' in payload


@pytest.mark.parametrize("kwargs,match", [
    ({"timezone": "Mars/Olympus_Mons", "country": None}, "Mars/Olympus_Mons"),
    ({"timezone": "America/New_York", "country": "XX"}, "XX"),
])
def test_unknown_timezone_or_country_is_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        resolve_calendar(years=YEARS, **kwargs)


def test_unknown_subdivision_is_named_and_years_are_required():
    with pytest.raises(ValueError, match="'ZZ'"):
        resolve_calendar("America/New_York", country="US", subdivision="ZZ", years=YEARS)
    with pytest.raises(ValueError, match="years"):
        resolve_calendar("America/New_York", country="US", years=range(0))
    assert resolve_calendar("America/New_York", country=None, years=range(0)).closed_dates == frozenset()


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
    """Reference: business time between two instants, summed day by day from the raw
    calendar fields (no calendar/clock helpers), intervals intersected in UTC."""
    zone = ZoneInfo(cal.timezone)
    total = timedelta(0)
    day = a.astimezone(zone).date() - timedelta(days=1)
    while day <= b.astimezone(zone).date() + timedelta(days=1):
        if day.weekday() in cal.weekdays and day not in cal.closed_dates:
            opens = datetime(day.year, day.month, day.day, cal.open.hour, cal.open.minute, tzinfo=zone)
            closes = datetime(day.year, day.month, day.day, cal.close.hour, cal.close.minute, tzinfo=zone)
            lo, hi = max(a, opens).astimezone(UTC), min(b, closes).astimezone(UTC)
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
@given(calendars, instants, durations, positive)
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
@given(calendars, instants, st.integers(min_value=0, max_value=20), positive)
def test_composition_holds_from_open_aligned_starts(cal, start, whole_days, b):
    # Starts on an open make a + b land exactly on closes often, exercising the boundary.
    opened = next_business_day_open(start, cal)
    a = timedelta(hours=10 * whole_days)
    assert add_business_time(add_business_time(opened, a, cal), b, cal) == add_business_time(opened, a + b, cal)


@settings(max_examples=200, deadline=None)
@given(calendars, instants, st.integers(min_value=1, max_value=30))
def test_business_day_numbers_agree_with_day_starts_and_ends(cal, start, n):
    opens, closes = start_of_business_day(start, n, cal), end_of_business_day(start, n, cal)
    assert business_day_number(start, opens, cal) == n
    assert business_day_number(start, closes, cal) == n
    assert closes - opens == timedelta(hours=10)
    assert is_business_time(opens, cal) and not is_business_time(closes, cal)
    if n > 1:
        assert opens > end_of_business_day(start, n - 1, cal)


@settings(max_examples=200, deadline=None)
@given(calendars, instants, st.sampled_from(["5m", "2h", "4h", "1bd", "2bd"]),
       st.sampled_from([(Span.parse("30m"), None), (Span.parse("1bd"), None), (None, time(10, 0)), (None, None)]))
def test_window_deadlines_are_ordered(cal, start, breach, rule):
    d = window_deadlines(start, target=Span.parse("5m"), breach=Span.parse(breach), basis="business", cal=cal,
                         after_hours_from_next_open=rule[0], after_hours_by=rule[1])
    assert d.started_at <= d.clock_started_at <= d.due_at <= d.breach_at
    assert is_business_time(d.clock_started_at, cal)


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
