"""Deadline explanations (issue 16): the words retell exactly the computation of
sla_policies/clock.py, so each case computes the deadlines with `window_deadlines` from the
default policy's window and checks both the instants and the sentence."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from sla_policies.calendar import holiday_names, resolve_calendar
from sla_policies.clock import Basis, window_deadlines
from sla_policies.explain import explain, span_words
from sla_policies.loader import default_policy
from sla_policies.span import Span

NY = ZoneInfo("America/New_York")
CAL = resolve_calendar("America/New_York", country="US", years=[2026, 2027])
NAMES = holiday_names("US", [2026, 2027])


def explained(window_id: str, start: datetime, verb: str = "arrived"):
    window = default_policy().window(window_id)
    basis: Basis = "business" if window.clock == "business" else "calendar"
    rule = window.after_hours
    from_next_open = rule.from_next_open if rule else None
    by = rule.by_next_business_day_at if rule else None
    deadlines = window_deadlines(start, target=window.target, breach=window.breach, warning=window.warning,
                                 basis=basis, cal=CAL, after_hours_from_next_open=from_next_open, after_hours_by=by)
    return deadlines, explain(deadlines, target=window.target, breach=window.breach, warning=window.warning,
                              basis=basis, cal=CAL, after_hours_from_next_open=from_next_open,
                              after_hours_by=by, holiday_names=NAMES, verb=verb)


def test_an_after_hours_tier1_arrival_explains_the_next_open_and_the_after_hours_rule():
    deadlines, why = explained("sdr_response.tier1", datetime(2026, 11, 24, 19, 0, tzinfo=NY))
    assert deadlines.due_at == datetime(2026, 11, 25, 8, 30, tzinfo=NY)
    assert deadlines.breach_at == datetime(2026, 11, 25, 10, 0, tzinfo=NY)
    assert why.text == ("arrived Tue 24 Nov 19:00 New York (after hours) → next open Wed 25 Nov 08:00"
                        " → + 30 business minutes after the next open (after-hours rule) → due Wed 25 Nov 08:30"
                        " → + 2 business hours from the clock start → breach Wed 25 Nov 10:00")
    assert why.skipped == []


def test_a_window_running_over_thanksgiving_names_the_holiday_it_skipped():
    deadlines, why = explained("sdr_response.tier2", datetime(2026, 11, 25, 15, 0, tzinfo=NY))
    # 2 business hours: 15:00 -> 17:00 Wednesday; breach 4 h: 3 h on Wednesday, then Friday.
    assert deadlines.due_at == datetime(2026, 11, 25, 17, 0, tzinfo=NY)
    assert deadlines.breach_at == datetime(2026, 11, 27, 9, 0, tzinfo=NY)
    assert why.steps == ["arrived Wed 25 Nov 15:00 New York", "+ 2 business hours → due Wed 25 Nov 17:00",
                         "+ 4 business hours from the clock start → breach Fri 27 Nov 09:00"]
    assert why.skipped == ["Thanksgiving Day (Thu 26 Nov) skipped"]
    assert why.text.endswith("; Thanksgiving Day (Thu 26 Nov) skipped")


def test_a_tier2_after_hours_arrival_is_due_by_ten_the_next_business_day():
    deadlines, why = explained("sdr_response.tier2", datetime(2026, 12, 4, 18, 30, tzinfo=NY))  # a Friday
    assert deadlines.due_at == datetime(2026, 12, 7, 10, 0, tzinfo=NY)
    assert why.steps[:3] == ["arrived Fri 4 Dec 18:30 New York (after hours)", "next open Mon 7 Dec 08:00",
                             "by 10:00 on the next business day (after-hours rule) → due Mon 7 Dec 10:00"]


@pytest.mark.parametrize("span, basis, words", [
    ("30m", "business", "30 business minutes"), ("1h", "business", "1 business hour"),
    ("2h", "calendar", "2 hours"), ("90d", "calendar", "90 days"), ("6mo", "calendar", "6 months"),
    ("1bd", "business", "1 business day (same local time)"), ("5bd", "calendar", "5 business days (same local time)"),
    ("eod14", "business", "end of business day 14"),
])
def test_span_words(span, basis, words):
    assert span_words(Span.parse(span), basis) == words
