"""Pattern escalation (docs/domain.md §11.2, Q29/Q30) on hand-built weekly scorecards and records."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sla_policies.loader import default_policy
from sla_policies.patterns import ladder, level_for, pattern_escalations, red_streak, side_streak, weekly_scorecards
from sla_policies.records import LeadRecord, TransitionRecord
from sla_policies.scorecard import Scorecard, iso_week, scorecard

POLICY = default_policy()
MONDAY = date(2027, 1, 4)


def week_card(back: int, statuses: dict[str, str | None]) -> Scorecard:
    """The default policy's scorecard for the week `back` weeks before MONDAY's, with the
    given metrics forced to a status (value chosen on the matching side of the edges)."""
    card = scorecard(POLICY, [], iso_week(MONDAY - timedelta(weeks=back), POLICY.calendars.company_timezone))
    metrics = []
    for m in card.metrics:
        if m.id in statuses:
            status = statuses[m.id]
            value = {"red": m.red, "green": m.target, "amber": (m.target + m.red) / 2, None: None}[status]
            m = m.model_copy(update={"status": status, "value": value})
        metrics.append(m)
    return card.model_copy(update={"metrics": metrics})


def weeks(*statuses: str | None, metric: str = "mql_to_sal_rate") -> list[Scorecard]:
    """Oldest first."""
    return [week_card(len(statuses) - 1 - i, {metric: s}) for i, s in enumerate(statuses)]


def test_the_ladder_levels_follow_the_policy():
    assert level_for(POLICY, 1) is None
    assert level_for(POLICY, 2).level == "tier1"
    assert level_for(POLICY, 3).level == "tier1"
    assert level_for(POLICY, 4).level == "tier2" and level_for(POLICY, 4).notify == ["ceo"]
    assert level_for(POLICY, 5).level == "tier2"
    assert level_for(POLICY, 6).level == "tier3" and level_for(POLICY, 9).level == "tier3"


def test_one_red_week_is_not_a_pattern_two_are_tier1_and_name_the_side():
    assert pattern_escalations(POLICY, weeks("green", "red")) == []
    [found] = pattern_escalations(POLICY, weeks("green", "red", "red"))
    assert (found.side, found.metrics, found.weeks, found.level) == ("marketing", ["mql_to_sal_rate"], 2, "tier1")
    assert found.notify == ["vp_marketing", "vp_sales"]
    assert "corrective action" in found.action


def test_the_streak_counts_back_from_the_latest_week_only():
    # Red for three weeks long ago, then amber: nothing now (a past run is over).
    assert pattern_escalations(POLICY, weeks("red", "red", "red", "amber")) == []
    # An empty week (no value) ends the run; amber is not red (Q30: edges are amber).
    assert red_streak(weeks("red", None, "red"), "mql_to_sal_rate") == 1
    assert red_streak(weeks("red", "amber", "red", "red"), "mql_to_sal_rate") == 2
    assert side_streak(weeks("red", "amber", "red", "red"), "marketing") == 2
    assert side_streak(weeks("red", "amber", "red", "red"), "sales") == 0
    assert pattern_escalations(POLICY, []) == []


def test_a_side_stays_in_breach_while_any_of_its_metrics_is_red():
    # Q29: the side's run continues when a different one of its metrics is red each week.
    history = [week_card(3, {"mql_quality_rate": "red"}), week_card(2, {"mql_to_sal_rate": "red"}),
               week_card(1, {"enrichment_rate": "red"}), week_card(0, {"mql_quality_rate": "red"})]
    [found] = pattern_escalations(POLICY, history)
    assert (found.side, found.weeks, found.level, found.metrics) == ("marketing", 4, "tier2", ["mql_quality_rate"])
    assert red_streak(history, "mql_quality_rate") == 1  # no single metric ran four weeks


def test_four_and_six_weeks_reach_the_ceo_and_renegotiation_per_side():
    history = [week_card(5 - i, {"sql_acceptance_rate": "red", "mql_quality_rate": "red" if i >= 2 else "green",
                                 "sla_breach_rate": "red"})
               for i in range(6)]
    found = {p.side: p for p in pattern_escalations(POLICY, history)}
    assert set(found) == {"marketing", "sales"}  # sla_breach_rate is joint: it breaches neither side
    assert (found["marketing"].weeks, found["marketing"].level, found["marketing"].notify) == (4, "tier2", ["ceo"])
    assert (found["sales"].weeks, found["sales"].level) == (6, "tier3")
    assert "renegotiate" in found["sales"].action
    sides = {s.side: s for s in ladder(POLICY, history)}
    assert [w.in_breach for w in sides["marketing"].weeks] == [False, False, True, True, True, True]
    assert sides["sales"].red_weeks_by_metric == {"sql_acceptance_rate": 6}


def rejected_mql(lead_id: str, at: datetime) -> LeadRecord:
    return LeadRecord(
        lead_id=lead_id, lead_type="demo_request", source="paid_social", policy_version=POLICY.version,
        stage="disqualified", tier=2, acv_tier="30k_75k", created_at=at, updated_at=at, clocks=[], touches=[],
        transitions=[
            TransitionRecord(lead_id=lead_id, at=at, to_stage="inquiry", event="T01", actor="system"),
            TransitionRecord(lead_id=lead_id, at=at, from_stage="inquiry", to_stage="mql", event="e", actor="system"),
            TransitionRecord(lead_id=lead_id, at=at + timedelta(hours=1), from_stage="mql", to_stage="disqualified",
                             event="e", actor="sdr-1", reason_code="REJ-02"),
        ])


def test_weekly_scorecards_from_records_find_a_two_week_quality_pattern():
    tuesday = datetime(2027, 1, 5, 15, 0, tzinfo=UTC)
    records = [rejected_mql("p1", tuesday - timedelta(weeks=1)), rejected_mql("p2", tuesday)]
    history = weekly_scorecards(POLICY, records, MONDAY + timedelta(days=4), weeks=3)
    assert [c.period.start.date() for c in history] == [date(2026, 12, 21), date(2026, 12, 28), MONDAY]
    assert [c.metric("mql_quality_rate").status for c in history] == [None, "red", "red"]
    found = {p.side: p for p in pattern_escalations(POLICY, history)}
    assert found["marketing"].weeks == 2 and found["marketing"].level == "tier1"
    assert {"mql_quality_rate", "mql_to_sal_rate"} <= set(found["marketing"].metrics)  # nobody accepted either
