"""The bilateral scorecard (issue 17) on hand-built lead records: marketing's and sales'
commitments, the tracked figures (incl. the lagged per-SDR SQL->opportunity), pending
leads kept out of rates, each side's week in breach, and the cards per rep, team and
segment."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sla_policies.groups import RepInfo, group_cards, sla_report, weekly_trend
from sla_policies.loader import default_policy
from sla_policies.model import Policy
from sla_policies.records import ClockRecord, LeadRecord, TouchRecord, TransitionRecord
from sla_policies.scorecard import Period, iso_week, scorecard

POLICY = default_policy()
T0 = datetime(2027, 1, 4, 14, 0, tzinfo=UTC)  # a Monday, 09:00 in New York
WEEK = iso_week(date(2027, 1, 4), "America/New_York")
END = WEEK.end


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def lead(lead_id: str, path=(), *, tier: int | None = 2, sdr: str | None = "sdr-1", ae: str | None = None,
         routed: float | None = 1, clocks=(), touches=(), created: float = 0, **fields) -> LeadRecord:
    """An MQL at minute `created` (routed `routed` minutes later), then `path`:
    (from, to, minute, actor, code, note)."""
    mql_at = created
    ts = [TransitionRecord(lead_id=lead_id, at=at(created), to_stage="inquiry", event="T01", actor="system"),
          TransitionRecord(lead_id=lead_id, at=at(mql_at), from_stage="inquiry", to_stage="mql", event="T05",
                           actor="system")]
    ts += [TransitionRecord(lead_id=lead_id, at=at(m), from_stage=a, to_stage=b, event="e", actor=who,
                            reason_code=code, note=note) for a, b, m, who, code, note in path]
    cl = list(clocks)
    if routed is not None:
        cl.append(ClockRecord(lead_id=lead_id, item="routing.high_intent", started_at=at(mql_at),
                              due_at=at(mql_at + 5), breach_at=at(mql_at + 60), met_at=at(mql_at + routed)))
    base = {"employees": 300, "industry": "software", "annual_revenue": 5e6}
    return LeadRecord(lead_id=lead_id, lead_type=fields.pop("lead_type", "demo_request"),
                      source=fields.pop("source", None), policy_version=POLICY.version, stage=ts[-1].to_stage,
                      tier=tier, sdr=sdr, ae=ae, created_at=at(created), updated_at=at(created),
                      clocks=cl, transitions=ts, **{**base, **fields},
                      touches=[TouchRecord(lead_id=lead_id, at=at(m), actor=sdr or "?", channel="phone", outcome=o)
                               for m, o in touches])


def accept(minute: float, who: str = "sdr-1"):
    return ("mql", "sal", minute, who, None, None)


def reject(minute: float, code: str | None = "REJ-02", note: str | None = "wrong persona", who: str = "sdr-1"):
    return ("mql", "disqualified", minute, who, code, note)


def sal_decision(start: float = 1, breach: float = 24 * 60) -> ClockRecord:
    return ClockRecord(lead_id="?", item="sal_decision", started_at=at(start), due_at=at(start + 240),
                       breach_at=at(breach))


def result(records, metric_id: str, *, as_of: datetime = END, period: Period = WEEK, policy: Policy = POLICY):
    return scorecard(policy, records, period, as_of).metric(metric_id)


def nums(m) -> tuple:
    return m.numerator, m.denominator, m.pending, m.value, m.status


# ---------------------------------------------------------------- marketing's commitments
def test_volume_per_segment_against_the_week_and_month_targets():
    records = [lead(f"v{i}", tier=1 if i < 20 else 2) for i in range(90)]
    assert nums(result(records, "mql_volume")) == (90, 100, 0, 90.0, "amber")  # 80..100 is amber
    assert nums(result(records, "mql_volume_tier1")) == (20, 25, 0, 80.0, "amber")  # the red edge itself: amber
    assert nums(result(records, "mql_volume_tier2")) == (70, 75, 0, 93.33, "amber")
    assert result(records[:50], "mql_volume").status == "red"
    # A calendar month is judged against the monthly figure (400).
    month = Period(start=datetime(2027, 1, 1, 5, tzinfo=UTC), end=datetime(2027, 2, 1, 5, tzinfo=UTC))
    assert nums(result(records, "mql_volume", period=month))[:2] == (90, 400)
    # A running week has a value but no status yet: its target can still be met.
    running = result(records, "mql_volume", as_of=at(60 * 24))
    assert running.value == 90.0 and running.status is None and running.note == "the period is still running"


def test_regions_carry_their_own_volume_targets():
    doc = POLICY.model_dump(mode="json")
    doc["commitments"]["regions"] = {"emea": {"per_month": 500, "acceptance": 60},
                                     "latam": {"per_month": 100, "acceptance": 50}}
    policy = Policy.model_validate(doc)
    records = [lead(f"e{i}", region="emea") for i in range(150)] + [lead("l1", region="latam")]
    cards = {c.id: c for c in group_cards(policy, records, WEEK, END, "segment", {})}
    assert set(cards) == {"tier1", "tier2", "region:emea", "region:latam"}
    emea = next(m for m in cards["region:emea"].metrics if m.id == "mql_volume")
    assert nums(emea) == (150, 125, 0, 120.0, "green")  # 500 a month = 125 a week
    latam = next(m for m in cards["region:latam"].metrics if m.id == "mql_volume")
    assert nums(latam)[:2] == (1, 25) and latam.status == "red"
    tier1 = next(m for m in cards["tier1"].metrics if m.id == "mql_volume")
    assert tier1.denominator == 25 and tier1.numerator == 0


def test_acceptance_per_tier_counts_decided_mqls_and_shows_the_rest_pending():
    records = [
        lead("a1", [accept(30)], tier=1), lead("a2", [accept(40)], tier=1), lead("a3", [reject(50)], tier=1),
        lead("a4", tier=1, clocks=[sal_decision()]),  # undecided, window closed (1 bd): counts, not accepted
        lead("a5", tier=1, clocks=[sal_decision(breach=10 ** 6)]),  # undecided, window open: pending
        lead("b1", [accept(30)], tier=2),
    ]
    assert nums(result(records, "tier1_acceptance_rate")) == (2, 4, 1, 50.0, "red")
    assert nums(result(records, "tier2_acceptance_rate")) == (1, 1, 0, 100.0, "green")
    assert result(records, "mql_to_sal_rate").pending == 1


def test_enrichment_needs_size_industry_and_revenue():
    records = [lead(f"e{i}") for i in range(19)] + [lead("no-revenue", annual_revenue=None)]
    assert nums(result(records, "enrichment_rate")) == (19, 20, 0, 95.0, "amber")  # Q30: the edge is amber
    records.append(lead("no-industry", industry=""))
    assert result(records, "enrichment_rate").status == "amber"
    assert result(records + [lead("x", employees=None), lead("y", employees=None)], "enrichment_rate").status == "red"


def test_routing_within_five_minutes_of_mql_on_system_timestamps():
    records = [lead("fast", routed=3), lead("edge", routed=5), lead("slow", routed=7),
               lead("waiting", routed=None, created=60 * 24 * 6 + 60 * 9),  # MQL 2 min before as_of, not routed
               lead("never", routed=None)]
    as_of = at(60 * 24 * 6 + 60 * 9 + 2)
    assert nums(result(records, "routing_speed_rate", as_of=as_of)) == (2, 4, 1, 50.0, "red")
    minutes = scorecard(POLICY, records, WEEK, as_of).metric("routing_minutes")
    assert (minutes.numerator, minutes.denominator, minutes.value, minutes.pending) == (15, 3, 5.0, 2)


# ---------------------------------------------------------------- sales' commitments
def test_every_mql_dispositioned_within_48_hours_of_assignment():
    records = [
        lead("in-time", [accept(47 * 60)]), lead("late", [reject(49 * 60 + 1)]),
        lead("system", [("mql", "recycled", 60, "system", "UNSUBSCRIBED", None)]),  # nothing to disposition
        lead("open-past", []), lead("open-young", [], created=60 * 24 * 6),
    ]
    as_of = at(60 * 24 * 6 + 60)
    assert nums(result(records, "mql_disposition_rate", as_of=as_of)) == (1, 3, 1, 33.33, "red")


def test_feedback_completion_wants_a_code_and_notes_on_every_rejection():
    records = [lead("full", [reject(30)]), lead("no-note", [reject(30, note=" ")]),
               lead("accepted", [accept(30)]),
               lead("ae-rej", [accept(30), ("sal", "sql", 60, "sdr-1", None, None),
                               ("sql", "sal", 90, "ae-1", "AE-REJ-01", "no budget confirmed")])]
    assert nums(result(records, "rejection_feedback_rate")) == (2, 3, 0, 66.67, "red")


# ---------------------------------------------------------------- tracked figures
def sql_lead(lead_id: str, sql_minute: float, opp_minute: float | None, sdr: str) -> LeadRecord:
    path = [accept(sql_minute - 10, sdr), ("sal", "sql", sql_minute, sdr, None, None)]
    if opp_minute is not None:
        path.append(("sql", "opportunity", opp_minute, "ae-1", None, None))
    return lead(lead_id, path, sdr=sdr, ae="ae-1", created=sql_minute - 20)


def test_sql_to_opportunity_per_sdr_is_measured_four_to_six_weeks_after_the_sql():
    """The seeds' point: 40 SQLs at 60% (24 opportunities) beats 80 at 25% (20)."""
    five_weeks_ago = -60 * 24 * 35  # minutes before T0
    records = [sql_lead(f"a{i}", five_weeks_ago, five_weeks_ago + 600 if i < 24 else None, "sdr-a")
               for i in range(40)]
    records += [sql_lead(f"b{i}", five_weeks_ago, five_weeks_ago + 600 if i < 20 else None, "sdr-b")
                for i in range(80)]
    records += [sql_lead("fresh", 60, None, "sdr-a")]  # two days old: too young to judge, not a failure
    roster = {"sdr-a": RepInfo(rep_id="sdr-a", role="sdr", team="m1"),
              "sdr-b": RepInfo(rep_id="sdr-b", role="sdr", team="m1")}
    as_of = at(60 * 24 * 2)
    cards = {c.id: c for c in group_cards(POLICY, records, WEEK, as_of, "rep", roster)}
    assert "sql_to_opp_lagged" not in {m.id for m in cards.pop("ae-1").tracked}  # an SDR's figure
    lagged = {rep: next(m for m in card.tracked if m.id == "sql_to_opp_lagged") for rep, card in cards.items()}
    assert (lagged["sdr-a"].numerator, lagged["sdr-a"].denominator, lagged["sdr-a"].value) == (24, 40, 60.0)
    assert (lagged["sdr-b"].numerator, lagged["sdr-b"].denominator, lagged["sdr-b"].value) == (20, 80, 25.0)
    cohort = lagged["sdr-a"].period
    assert (as_of - cohort.start, as_of - cohort.end) == (timedelta(days=42), timedelta(days=28))
    # Six weeks later the same SQLs have left the cohort; the fresh one is in it.
    later = group_cards(POLICY, records, WEEK, as_of + timedelta(days=35), "rep", roster, only={"sdr-a"})[0]
    assert next(m for m in later.tracked if m.id == "sql_to_opp_lagged").denominator == 1


def test_first_outreach_ae_acknowledgment_and_the_touch_floor():
    response = ClockRecord(lead_id="?", item="sdr_response.tier2", started_at=at(1), due_at=at(121), met_at=at(31))
    ack = ClockRecord(lead_id="?", item="ae_acceptance", started_at=at(100), due_at=at(340), met_at=at(160))
    busy = [(1 + d * 60 * 24, "no_answer") for d in range(6)]  # six touches over six days
    records = [lead("t1", clocks=[response, ack], touches=busy),
               lead("t2", clocks=[response.model_copy(update={"met_at": at(11)})], touches=busy[:2])]
    late = at(60 * 24 * 30)
    card = scorecard(POLICY, records, WEEK, late)
    assert nums(card.metric("first_outreach_minutes"))[:4] == (40, 2, 0, 20.0)
    assert nums(card.metric("ae_acknowledgment_minutes"))[:4] == (60, 1, 0, 60.0)
    assert nums(card.metric("touch_floor_rate"))[:4] == (1, 2, 0, 50.0)
    # Within the 21 days, the lead with two touches is still pending, not a failure.
    assert nums(scorecard(POLICY, records, WEEK, END).metric("touch_floor_rate"))[:3] == (1, 1, 1)
    assert card.metric("touch_floor_rate").status is None  # tracked: no band, never red


def test_outcome_and_joint_metrics_with_their_owners():
    won = [("mql", "sal", 10, "sdr-1", None, None), ("sal", "sql", 20, "sdr-1", None, None),
           ("sql", "opportunity", 30, "ae-1", None, None),
           ("opportunity", "closed_won", 60 * 24 * 3, "ae-1", None, None)]
    lost = won[:3] + [("opportunity", "closed_lost", 60 * 24, "ae-1", None, None)]
    records = [lead("w1", won, source="webinar", lead_type="webinar", acv=90_000.0, meeting_at=at(100),
                    meeting_held=True),
               lead("l1", lost, source="paid", acv=30_000.0, meeting_at=at(100)),
               lead("o1", won[:3], source="paid", acv=50_000.0, meeting_at=END + timedelta(days=1)),
               lead("m1", [])]  # an MQL still being worked: pending for MQL->SQL
    card = scorecard(POLICY, records, WEEK, END)
    close = card.metric("close_rate_by_source")
    assert (close.owner, nums(close)[:4]) == ("vp_marketing", (1, 2, 1, 50.0))
    assert close.breakdown == {"paid": (0, 1), "webinar": (1, 1)}
    assert card.metric("opp_won_rate_by_channel").breakdown == {"demo_request": (0, 1), "webinar": (1, 1)}
    assert card.metric("opp_won_rate_by_channel").owner == "vp_sales"
    assert nums(card.metric("demo_show_rate"))[:4] == (1, 2, 0, 50.0)  # o1's meeting is next week's
    assert scorecard(POLICY, records, WEEK, at(50)).metric("demo_show_rate").pending == 2  # not yet due
    assert nums(card.metric("mql_to_sql_rate"))[:4] == (3, 3, 1, 100.0)
    assert nums(card.metric("cycle_time_days"))[:4] == (3, 1, 0, 3.0)
    assert nums(card.metric("pipeline_to_revenue"))[:4] == (90_000, 120_000, 1, 75.0)


# ---------------------------------------------------------------- sides, pending, groups
def test_a_fresh_sql_is_pending_not_a_zero_percent_red_week():
    """Issue 15: an SQL made two minutes ago made sql_to_opp_rate 0% and red."""
    ae = ClockRecord(lead_id="?", item="ae_acceptance", started_at=at(20), due_at=at(260), breach_at=at(500))
    records = [lead("s", [accept(10), ("sal", "sql", 20, "sdr-1", None, None)], clocks=[ae])]
    m = result(records, "sql_to_opp_rate", as_of=at(22))
    assert (m.numerator, m.denominator, m.pending, m.value, m.status) == (0, 0, 1, None, None)
    assert m.note == "nothing to measure in this period (1 pending)"
    assert result(records, "sql_to_opp_rate", as_of=at(501)).status == "red"  # the window closed undecided


def test_each_side_is_in_breach_when_any_of_its_metrics_is_red_and_every_figure_states_its_ratio():
    records = [lead(f"r{i}", [reject(30, note=None)]) for i in range(3)]
    card = scorecard(POLICY, records, WEEK, END)
    sides = {v.side: v for v in card.sides}
    assert sides["marketing"].in_breach and {"mql_quality_rate", "mql_to_sal_rate"} <= set(sides["marketing"].red)
    assert "rejection_feedback_rate" in sides["sales"].red
    for m in [*card.metrics, *card.tracked]:
        assert m.period is not None and m.denominator >= 0 and m.numerator >= 0
    assert [m.side for m in scorecard(POLICY, records, WEEK, END, side="sales").metrics] == \
        ["sales"] * 6 + ["joint"] + ["sales"] * 2


def test_cards_per_rep_and_team_show_the_metrics_of_that_kind_of_rep():
    records = [lead("a", [accept(5)], sdr="sdr-1"), lead("b", [reject(5)], sdr="sdr-2"),
               lead("c", [accept(5), ("sal", "sql", 9, "sdr-1", None, None)], sdr="sdr-1", ae="ae-1")]
    roster = {"sdr-1": RepInfo(rep_id="sdr-1", role="sdr", team="sdrm-1"),
              "sdr-2": RepInfo(rep_id="sdr-2", role="sdr", team="sdrm-1"),
              "ae-1": RepInfo(rep_id="ae-1", role="ae", team="aem-1")}
    reps = {c.id: c for c in group_cards(POLICY, records, WEEK, END, "rep", roster)}
    assert set(reps) == {"sdr-1", "sdr-2", "ae-1"}
    assert reps["sdr-1"].leads == 2 and reps["ae-1"].leads == 1
    ids = {m.id for m in reps["sdr-1"].metrics}
    assert "mql_disposition_rate" in ids and "sql_acceptance_rate" not in ids and "mql_volume" not in ids
    assert "sql_acceptance_rate" in {m.id for m in reps["ae-1"].metrics}
    sdr1 = next(m for m in reps["sdr-1"].metrics if m.id == "mql_to_sal_rate")
    assert (sdr1.numerator, sdr1.denominator) == (2, 2)
    teams = {c.id: c for c in group_cards(POLICY, records, WEEK, END, "team", roster)}
    assert set(teams) == {"sdrm-1", "aem-1"} and teams["sdrm-1"].leads == 3
    team = next(m for m in teams["sdrm-1"].metrics if m.id == "mql_to_sal_rate")
    assert (team.numerator, team.denominator) == (2, 3)
    report = sla_report(POLICY, records, WEEK, END, side="sales", by="team", roster=roster, only={"aem-1"})
    assert [g.id for g in report.groups] == ["aem-1"] and all(m.side != "marketing" for m in report.metrics)


def test_the_weekly_trend_of_one_rep():
    records = [lead("w0", [accept(-60 * 24 * 7 + 5)], created=-60 * 24 * 7), lead("w1", [reject(5)])]
    roster = {"sdr-1": RepInfo(rep_id="sdr-1", role="sdr", team="sdrm-1")}
    trend = weekly_trend(POLICY, records, END, 3, by="rep", group="sdr-1", roster=roster)
    assert [p.value for p in trend["mql_to_sal_rate"]] == [None, 100.0, 0.0]
    assert [p.week_start.date() for p in trend["mql_to_sal_rate"]] == [date(2026, 12, 21), date(2026, 12, 28),
                                                                      date(2027, 1, 4)]
