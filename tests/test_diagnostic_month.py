"""The diagnostic first month (docs/domain.md §13, issue 16): with the policy option on,
for the first N days of a version a breach is recorded and its manager told, but the
ladder stops there (no VP, no reassignment); after those days the whole ladder runs. The
scorecard marks the weeks that overlap those days. Off by default."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sla_policies.loader import default_policy
from sla_policies.scorecard import iso_week, scorecard
from tests.core import CoreLead
from tests.lifecycle import demo_request

NY = ZoneInfo("America/New_York")
MONDAY = datetime(2027, 4, 5, 10, 0, tzinfo=NY)  # no US holiday for weeks


def diagnostic_policy(effective: date):
    base = default_policy()
    return base.model_copy(update={"effective_date": effective,
                                   "diagnostic": base.diagnostic.model_copy(update={"enabled": True, "days": 30})})


def ladder_after_two_days(policy) -> list[tuple[str, bool]]:
    lead = CoreLead(demo_request(), policy=policy)
    lead.start(MONDAY)
    lead.advance_to(MONDAY + timedelta(days=2, minutes=1))  # past the 48 h step (2 bd from the start)
    assert lead.state is not None
    response = next(c for c in lead.state.clocks if c.item == "sdr_response.tier1")
    assert response.breached_at is not None
    return [(e.role, e.reassigned) for e in response.escalated_to]


def test_in_the_first_days_the_ladder_stops_at_the_manager():
    assert ladder_after_two_days(diagnostic_policy(MONDAY.date() - timedelta(days=3))) == [("sdr_manager", False)]


def test_after_the_diagnostic_days_and_by_default_the_whole_ladder_runs():
    whole = [("sdr_manager", False), ("vp_sales", True)]
    assert ladder_after_two_days(diagnostic_policy(MONDAY.date() - timedelta(days=40))) == whole
    assert not default_policy().diagnostic.enabled
    assert ladder_after_two_days(default_policy()) == whole


def test_the_scorecard_marks_the_weeks_of_the_diagnostic_days():
    policy = diagnostic_policy(date(2027, 4, 7))  # a Wednesday: 30 days to 7 May
    tz = policy.calendars.company_timezone
    marks = {week: scorecard(policy, [], iso_week(week, tz)).diagnostic
             for week in (date(2027, 4, 1), date(2027, 4, 5), date(2027, 5, 6), date(2027, 5, 10))}
    assert marks == {date(2027, 4, 1): False, date(2027, 4, 5): True, date(2027, 5, 6): True,
                     date(2027, 5, 10): False}
    assert not scorecard(default_policy(), [], iso_week(date(2027, 4, 5), tz)).diagnostic
