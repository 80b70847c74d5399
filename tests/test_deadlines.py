"""The deadline request the workflow records: calendar inputs to exact instants."""

from datetime import UTC, datetime

from sla_policies.deadlines import CalendarInputs, DeadlineRequest, InstantRequest, compute_deadlines, compute_instant
from sla_policies.span import Span

NY = CalendarInputs(timezone="America/New_York", country="US")


def test_new_year_observed_on_friday_31_december_counts_for_a_utc_start_in_january():
    # 2021-12-31 (Friday) is New Year's Day observed in the US. A start at 2022-01-01 02:00 UTC
    # is still 2021-12-31 21:00 in New York: the next business day is Monday 3 January.
    plan = compute_deadlines(DeadlineRequest(start=datetime(2022, 1, 1, 2, 0, tzinfo=UTC), basis="business",
                                             target=Span.parse("2h"), breach=Span.parse("4h"), calendar=NY))
    assert plan.deadlines.due_at == datetime(2022, 1, 3, 15, 0, tzinfo=UTC)  # 10:00 EST Monday


def test_escalation_steps_are_planned_from_the_breach():
    plan = compute_deadlines(DeadlineRequest(
        start=datetime(2026, 3, 3, 15, 0, tzinfo=UTC), basis="business", target=Span.parse("5m"),
        breach=Span.parse("2h"), escalation_after=(None, Span.parse("2bd"), Span.parse("24h")), calendar=NY))
    breach = plan.deadlines.breach_at
    assert breach == datetime(2026, 3, 3, 17, 0, tzinfo=UTC)
    assert plan.escalation_at == [breach, datetime(2026, 3, 5, 17, 0, tzinfo=UTC),
                                  datetime(2026, 3, 4, 17, 0, tzinfo=UTC)]


def test_cadence_day_one_is_the_routing_instant_and_later_days_start_at_open():
    routed = datetime(2026, 3, 3, 15, 7, tzinfo=UTC)  # Tuesday 10:07 EST
    assert compute_instant(InstantRequest(start=routed, business_day=1, calendar=NY)) == routed
    assert compute_instant(InstantRequest(start=routed, business_day=3, calendar=NY)) == \
        datetime(2026, 3, 5, 13, 0, tzinfo=UTC)
