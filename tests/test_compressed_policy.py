"""The time-compressed demo/benchmark policy: still a valid policy, every window shorter,
business hours always open (weekends and public holidays too)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import yaml

from sla_policies.compressed import DEMO_FACTOR, nominal_seconds, time_compressed
from sla_policies.deadlines import CalendarInputs, DeadlineRequest, compute_deadlines
from sla_policies.loader import default_policy, parse_policy, validate_summary
from sla_policies.span import Span

BUSINESS_DAY = timedelta(hours=10)  # the default calendar's 08:00-18:00


def _spans(window):
    named = [("target", window.target), ("warning", window.warning), ("breach", window.breach)]
    named += [(f"escalation[{i}].after", step.after) for i, step in enumerate(window.escalation)]
    return {name: span for name, span in named if span is not None}


def test_every_window_is_shorter_and_in_seconds():
    source, compressed = default_policy(), time_compressed(default_policy())
    checked = 0
    for window_id, window in source.windows.items():
        fast = compressed.window(window_id)
        assert (fast.clock, fast.owner, [s.role for s in fast.escalation]) == \
               (window.clock, window.owner, [s.role for s in window.escalation])
        for name, span in _spans(window).items():
            short = _spans(fast)[name]
            assert short.unit.value == "s", (window_id, name, short)
            assert short.amount < nominal_seconds(span, BUSINESS_DAY), (window_id, name, span, short)
            assert short.amount == max(1, -(-int(nominal_seconds(span, BUSINESS_DAY)) // DEMO_FACTOR))
            checked += 1
    assert checked > 40
    tier1 = compressed.window("sdr_response.tier1")
    assert (tier1.target, tier1.breach) == (Span.parse("2s"), Span.parse("40s"))  # 5 min and 2 bh / 180


def test_compressed_policy_is_a_valid_document_of_its_own():
    compressed = time_compressed(default_policy(), 60, version="demo-1")
    assert compressed.version == "demo-1" and "time-compressed x60" in compressed.title
    # Through the same loader as a deployed document: no error anywhere.
    reparsed = parse_policy(yaml.safe_dump(compressed.model_dump(mode="json")), fmt="yaml")
    assert reparsed == compressed
    assert validate_summary(reparsed)
    # Suppressions and scoring windows shrink too; the cadence keeps its business-day plan.
    assert compressed.recycling.minimum_suppression == Span.parse(f"{90 * 86400 // 60}s")
    assert compressed.cadences["tier1"].span == Span.parse("7bd")


def test_factor_must_compress():
    with pytest.raises(ValueError):
        time_compressed(default_policy(), 1)


def test_the_clock_runs_at_night_on_weekends_and_on_public_holidays():
    compressed = time_compressed(default_policy())
    spec = compressed.calendars.default_calendar()
    window = compressed.window("sdr_response.tier1")
    # Thanksgiving 2026, 03:00 in New York: closed three ways on the real calendar.
    start = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
    calendar = CalendarInputs(timezone="America/New_York", country=None, open=spec.open, close=spec.close,
                              weekdays=tuple(spec.weekdays))
    plan = compute_deadlines(DeadlineRequest(start=start, basis="business", target=window.target,
                                             breach=window.breach, calendar=calendar,
                                             after_hours_from_next_open=window.after_hours.from_next_open))
    assert plan.deadlines.clock_started_at == start
    assert plan.deadlines.due_at == start + timedelta(seconds=2)
    assert plan.deadlines.breach_at == start + timedelta(seconds=40)
    assert not plan.deadlines.after_hours
    assert spec.observe_public_holidays is False
    assert default_policy().calendars.default_calendar().observe_public_holidays
