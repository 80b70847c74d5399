"""The pure reports of sla_policies.scorecard on hand-built lead records."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

import pytest

from sla_policies.loader import default_policy
from sla_policies.records import ClockRecord, EscalationRecord, LeadRecord, TouchRecord, TransitionRecord
from sla_policies.scorecard import METRICS, Period, compliance, funnel, iso_week, rejection_report, scorecard

POLICY = default_policy()
T0 = datetime(2027, 1, 4, 14, 0, tzinfo=UTC)  # a Monday, 09:00 in New York
WEEK = Period(start=T0 - timedelta(hours=14), end=T0 + timedelta(days=7))


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def lead(lead_id: str, path: Sequence[tuple[str, str, float, str | None]], *, tier: int | None = 1,
         lead_type: str = "demo_request", acv: str | None = "30k_75k", clocks=(), touches=()) -> LeadRecord:
    """`path`: (from, to, minute, reason_code) after an inquiry created at minute 0."""
    transitions = [TransitionRecord(lead_id=lead_id, at=at(0), from_stage=None, to_stage="inquiry",
                                    event="T01", actor="system")]
    transitions += [TransitionRecord(lead_id=lead_id, at=at(m), from_stage=a, to_stage=b, event="e",
                                     actor="x", reason_code=code) for a, b, m, code in path]
    return LeadRecord(lead_id=lead_id, lead_type=lead_type, source=lead_type, policy_version=POLICY.version,
                      stage=transitions[-1].to_stage, tier=tier, acv_tier=acv, created_at=at(0), updated_at=at(0),
                      clocks=[c.model_copy(update={"lead_id": lead_id}) for c in clocks],
                      transitions=transitions,
                      touches=[TouchRecord(lead_id=lead_id, at=at(m), actor="sdr-1", channel="phone", outcome=o)
                               for m, o in touches])


def response(met: float | None, *, due: float = 5, breach: float | None = 120, voided: float | None = None,
             tier: int = 1, breached: float | None = None) -> ClockRecord:
    return ClockRecord(lead_id="?", item=f"sdr_response.tier{tier}", tier=tier, started_at=at(1), due_at=at(due),
                       breach_at=at(breach) if breach else None, met_at=at(met) if met is not None else None,
                       voided_at=at(voided) if voided is not None else None,
                       breached_at=at(breached) if breached is not None else None)


MQL = ("inquiry", "mql", 1, None)


def test_every_policy_metric_is_reported_and_an_empty_period_has_no_values():
    card = scorecard(POLICY, [], WEEK)
    assert [m.id for m in card.metrics] == [m.id for m in POLICY.metrics]
    assert set(METRICS) == {m.id for m in POLICY.metrics}  # every default metric has a rule
    volume = {"mql_volume", "mql_volume_tier1", "mql_volume_tier2"}
    assert all(m.value is None and m.status is None and m.denominator == 0 for m in card.metrics if m.id not in volume)
    # A volume target exists even with no lead, but a period in which no lead arrived at all is not judged.
    assert [(m.numerator, m.status, m.note) for m in card.metrics if m.id in volume] == [
        (0, None, "no lead at all arrived in this period")] * 3
    assert all(m.value is None and m.tracked for m in card.tracked)
    assert [(v.side, v.in_breach) for v in card.sides] == [("marketing", False), ("sales", False)]
    assert card.leads == 0


def test_response_rate_counts_targets_and_ignores_voided_and_undecided_clocks():
    records = [
        lead("a", [MQL], clocks=[response(met=4)]),  # on target
        lead("b", [MQL], clocks=[response(met=5)]),  # exactly at the target: met
        lead("c", [MQL], clocks=[response(met=30)]),  # late
        lead("d", [MQL], clocks=[response(met=None, breached=120)]),  # never, breached
        lead("e", [MQL, ("mql", "data_hold", 3, "REJ-01")], clocks=[response(met=None, voided=3)]),  # §5.3
        lead("f", [MQL], clocks=[response(met=None, due=10_000, breach=None)]),  # not yet due
    ]
    metric = scorecard(POLICY, records, WEEK, as_of=at(600)).metric("mql_response_tier1")
    assert (metric.numerator, metric.denominator, metric.value) == (2, 4, 50.0)
    assert metric.status == "red" and metric.target == 80


@pytest.mark.parametrize(("accepted", "rejected", "status"), [(19, 1, "amber"), (39, 1, "green"), (17, 3, "amber"),
                                                              (8, 2, "red")])
def test_quality_rate_edges_are_amber(accepted, rejected, status):
    """Q30: exactly 95% is amber though it meets the >=95% commitment; exactly 85% is amber."""
    records = [lead(f"q{status}{i}", [MQL, ("mql", "sal", 10, None)]) for i in range(accepted)]
    records += [lead(f"r{status}{i}", [MQL, ("mql", "disqualified", 10, "REJ-02")]) for i in range(rejected)]
    records.append(lead("undecided", [MQL]))  # nobody decided: not in the denominator
    metric = scorecard(POLICY, records, WEEK).metric("mql_quality_rate")
    assert (metric.numerator, metric.denominator) == (accepted, accepted + rejected)
    assert metric.status == status and metric.commitment == 95


def test_breach_rate_is_lower_is_better():
    clean = [lead(f"ok{i}", [MQL], clocks=[response(met=2)]) for i in range(19)]
    late = lead("late", [MQL], clocks=[response(met=None, breached=120)])
    metric = scorecard(POLICY, clean + [late], WEEK).metric("sla_breach_rate")
    assert (metric.numerator, metric.denominator, metric.value, metric.status) == (1, 20, 5.0, "amber")
    assert scorecard(POLICY, clean, WEEK).metric("sla_breach_rate").status == "green"


def test_funnel_rates_and_sql_acceptance_within_target():
    ae_clock = ClockRecord(lead_id="?", item="ae_acceptance", started_at=at(100), due_at=at(340), breach_at=at(580))
    full = [MQL, ("mql", "sal", 10, None), ("sal", "sql", 100, None)]
    records = [
        lead("o1", full + [("sql", "opportunity", 200, None)], clocks=[ae_clock],
             touches=[(5, "connected")]),
        lead("o2", full + [("sql", "opportunity", 400, None)], clocks=[ae_clock]),  # accepted, but late
        lead("s1", [MQL, ("mql", "sal", 10, None)], tier=2, lead_type="webinar"),
        lead("i1", [], tier=None, lead_type="newsletter"),
    ]
    card = scorecard(POLICY, records, WEEK, as_of=at(1000))
    assert card.metric("sql_acceptance_rate").value == 50.0
    assert card.metric("sql_to_opp_rate").value == 100.0
    # s1 is a SAL nobody has decided yet, its sal_resolution window still open: pending,
    # not a failure (issue 15), so both rates count only the decided leads.
    sal_to_sql = card.metric("sal_to_sql_rate")
    assert (sal_to_sql.numerator, sal_to_sql.denominator, sal_to_sql.pending, sal_to_sql.value) == (2, 2, 1, 100.0)
    live = card.metric("mql_live_contact_rate")
    assert (live.numerator, live.denominator, live.pending) == (1, 2, 1)
    rows = {row.segment: row for row in funnel(POLICY, records, WEEK, by="source")}
    assert rows["all"].reached == {"inquiry": 4, "mql": 3, "sal": 3, "sql": 2, "opportunity": 2, "closed_won": 0}
    assert rows["all"].conversion["opportunity_to_closed_won"] == 0.0
    assert rows["all"].conversion["inquiry_to_mql"] == 75.0
    assert rows["newsletter"].conversion["mql_to_sal"] is None  # nothing to convert
    assert set(rows) == {"demo_request", "webinar", "newsletter", "all"}
    assert [r.segment for r in funnel(POLICY, records, WEEK, by="tier")] == ["tier1", "tier2", "untiered", "all"]


def test_rejection_report_cells_and_top_patterns_with_marketing_actions():
    week = iso_week(date(2027, 1, 6), "America/New_York")
    assert week.start.isoformat() == "2027-01-04T00:00:00-05:00"
    rej = [("REJ-02", "webinar", "10k_30k")] * 3 + [("REJ-02", "webinar", "30k_75k")] + \
          [("REJ-03", "demo_request", "30k_75k")] * 2 + [("REJ-01", "gated_content", "lt_10k")] + \
          [("REJ-07", "webinar", "30k_75k")]
    records = [lead(f"x{i}", [MQL, ("mql", "disqualified", 30, code)], lead_type=src, acv=acv)
               for i, (code, src, acv) in enumerate(rej)]
    records.append(lead("ae", [MQL, ("mql", "sal", 5, None), ("sal", "sql", 9, None), ("sql", "sal", 20, "AE-REJ-01")]))
    records.append(lead("late", [("inquiry", "mql", 1, None), ("mql", "disqualified", 60 * 24 * 9, "REJ-02")]))
    report = rejection_report(POLICY, records, week)
    assert report.total == 9 and report.by_code == {"AE-REJ-01": 1, "REJ-01": 1, "REJ-02": 4, "REJ-03": 2, "REJ-07": 1}
    assert [(c.code, c.source, c.acv_tier, c.count) for c in report.cells if c.code == "REJ-02"] == [
        ("REJ-02", "webinar", "10k_30k", 3), ("REJ-02", "webinar", "30k_75k", 1)]
    top = report.top_patterns
    assert [(p.code, p.source, p.count) for p in top] == [("REJ-02", "webinar", 4), ("REJ-03", "demo_request", 2),
                                                          ("AE-REJ-01", "demo_request", 1)]
    assert top[0].acv_tiers == {"10k_30k": 3, "30k_75k": 1} and top[0].share == pytest.approx(44.44)
    assert top[0].action == POLICY.reason_codes.by_code("REJ-02").marketing_action
    assert top[2].action == POLICY.reason_codes.by_code("AE-REJ-01").required_action
    assert rejection_report(POLICY, [], week).top_patterns == []


def test_compliance_partitions_clocks_by_item_and_tier():
    records = [
        lead("c1", [MQL], clocks=[response(met=4)]),
        lead("c2", [MQL], clocks=[response(met=50, breached=None)]),
        lead("c3", [MQL], clocks=[response(met=None, breached=120).model_copy(update={
            "escalated_to": [EscalationRecord(role="sdr_manager", rep_id="m", at=at(120))]})]),
        lead("c4", [MQL], clocks=[response(met=None, voided=3)]),
        lead("c5", [MQL], clocks=[response(met=None, due=5000, breach=None)]),
        lead("c6", [MQL], tier=2, clocks=[response(met=1, tier=2)]),
    ]
    rows = {(r.item, r.tier): r for r in compliance(records, WEEK, as_of=at(600))}
    t1 = rows[("sdr_response.tier1", 1)]
    assert (t1.started, t1.met_on_target, t1.met_late, t1.missed_open, t1.breached, t1.escalated, t1.voided,
            t1.running) == (5, 1, 1, 1, 1, 1, 1, 1)
    assert t1.compliance == pytest.approx(33.33)
    assert rows[("sdr_response.tier2", 2)].compliance == 100.0


def test_a_policy_metric_without_a_rule_is_reported_without_a_value():
    extra = POLICY.metrics[0].model_copy(update={"id": "demo_show_rate"})
    policy = POLICY.model_copy(update={"metrics": [*POLICY.metrics, extra]})
    metric = scorecard(policy, [], WEEK).metric("demo_show_rate")
    assert metric.value is None and "no rule" in metric.note


def test_period_must_end_after_it_starts():
    with pytest.raises(ValueError):
        Period(start=T0, end=T0)


def test_the_funnel_ends_at_won():
    full = [MQL, ("mql", "sal", 10, None), ("sal", "sql", 100, None), ("sql", "opportunity", 200, None)]
    records = [lead("w1", full + [("opportunity", "closed_won", 900, None)]),
               lead("l1", full + [("opportunity", "closed_lost", 900, None)])]
    (row,) = [r for r in funnel(POLICY, records, WEEK, by="source") if r.segment == "all"]
    assert (row.reached["opportunity"], row.reached["closed_won"]) == (2, 1)
    assert row.conversion["opportunity_to_closed_won"] == 50.0
