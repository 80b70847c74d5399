"""DOMAIN.md's numbers held against the bundled default policy: a typo in the YAML fails here."""

from __future__ import annotations

import pytest

from sla_policies.loader import default_policy

P = default_policy()
SIGNALS = {s.id: s for s in P.scoring.signals}
TIERS = {t.id: t for t in P.acv_tiers}
CODES = {c.code: c for g in ("mql_rejection", "mql_rejection_alt", "sql_rejection", "sal_disposition",
                             "disqualification") for c in getattr(P.reason_codes, g)}
STAGES = {s.id: s for s in P.opportunity.stages}
ALERTS = {a.id: a for a in P.opportunity.alerts}
METRICS = {m.id: m for m in P.metrics}
SCENARIOS = {r.id: r for r in P.recycling.scenarios}


def w(window_id):
    return P.window(window_id)


def span(value):
    return None if value is None else str(value)


# (what, actual, expected) — DOMAIN section in the id
ROWS = [
    # §3.1 scoring
    *[(f"§3.1 {sid} points", SIGNALS[sid].points, pts) for sid, pts in {
        "industry_icp": 20, "company_size_target": 15, "persona_economic_buyer": 20, "persona_influencer": 10,
        "demo_request": 40, "contact_sales": 40, "pricing_form": 35, "roi_calculator": 30,
        "competitor_comparison": 25, "webinar_attended": 15, "case_study_download": 15,
        "email_clicks_3_in_7d": 15, "product_pages": 10, "awareness": 5, "email_unsubscribe": -50}.items()],
    *[(f"§3.1 {sid} action tier", SIGNALS[sid].action_tier, tier) for sid, tier in {
        "demo_request": "high", "contact_sales": "high", "pricing_form": "high", "roi_calculator": "medium",
        "competitor_comparison": "high", "webinar_attended": "medium", "awareness": "low"}.items()],
    *[(f"§4.1 {sid} is a tier-1 trigger", SIGNALS[sid].tier1_trigger, True)
      for sid in ("demo_request", "contact_sales", "pricing_form", "free_trial")],
    ("§3.1 competitor comparison is not a trigger", SIGNALS["competitor_comparison"].tier1_trigger, False),
    ("§3.1 MQL threshold", P.scoring.mql_threshold, 60),
    ("§3.1 manager review band", (P.scoring.manager_review.min, P.scoring.manager_review.max), (40, 59)),
    ("Q8 repeat window", span(P.scoring.repeat_window), "7d"),
    ("Q8 decay", [(span(d.after), d.total_points) for d in P.scoring.decay], [("30d", -10), ("60d", -20)]),
    ("Q8 floor", P.scoring.floor, 0),
    ("§4.1 alt cut-offs [002]", P.scoring.tier_cutoffs_alt, {1: 80, 2: 65}),
    # §3.2 ACV tiers
    *[(f"§3.2 {tid}", (TIERS[tid].min_acv, TIERS[tid].max_acv, TIERS[tid].mql_threshold, TIERS[tid].threshold_range,
                       TIERS[tid].expected_mql_to_sql, TIERS[tid].route_to), exp) for tid, exp in {
        "lt_10k": (0, 10000, 35, (35, 50), (12, 22), "plg"),
        "10k_30k": (10000, 30000, 50, (50, 65), (18, 28), "sdr"),
        "30k_75k": (30000, 75000, 60, (60, 75), (22, 35), "sdr_with_ae"),
        "75k_200k": (75000, 200000, 70, (70, 85), (28, 45), "ae_direct"),
        "200k_plus": (200000, None, 80, (80, 95), (35, 55), "named_ae")}.items()],
    ("Q37 first contact per ACV tier", [span(TIERS[t].first_contact) for t in TIERS], [None, "5m", "5m", "15m", "30m"]),
    ("§3.2 strategic handover document", TIERS["200k_plus"].handover_document, True),
    ("§3.6 committee contacts", [TIERS[t].committee_min_contacts for t in TIERS], [2, 2, 3, 4, 5]),
    ("§3.6 committee window", span(P.qualification.committee_engaged.window), "30d"),
    ("§3.6 committee default is a signal", P.qualification.committee_engaged.mode, "signal"),
    # §3.3 / §3.4
    ("§3.3 ICP fit minimum", P.qualification.icp_fit_min, 60),
    ("§3.3 recency", span(P.qualification.recency), "30d"),
    ("§3.3 required fields", P.qualification.required_fields, ["first_name", "last_name", "company", "email", "phone"]),
    ("Q11 phone waivable", P.qualification.phone_waivable_for, ["plg", "lt_10k"]),
    ("§3.4 small company", P.qualification.min_employees, 10),
    ("§3.3 enrichment aggregate", P.qualification.enrichment_completeness_target_pct, 95),
    ("§3.4 competitor is permanent",
     next(d.permanent for d in P.qualification.disqualifiers if d.id == "competitor_domain"), True),
    # §4.2 lead types
    *[(f"§4.2 {lt}", (span(P.lead_types[lt].routing), span(P.lead_types[lt].first_outreach),
                      P.lead_types[lt].multiplier, P.lead_types[lt].default_tier), exp) for lt, exp in {
        "demo_request": ("5m", "5m", 21, 1), "pricing_form": ("5m", "30m", 10, 1),
        "free_trial": ("5m", "30m", 8, 1), "contact_sales": ("5m", "30m", 15, 1),
        "gated_content": ("30m", "4h", 4, None), "webinar": ("4h", "eod2", 3, None),
        "newsletter": ("24h", None, 1, None)}.items()],
    ("§4.2 newsletter never to SDR", P.lead_types["newsletter"].to_sdr, False),
    ("§4.1 tier 2 cluster (Q34)", P.lead_tiers[2].min_medium_high_actions, 3),
    # §5.1 windows: target, breach, clock
    *[(f"§5.1 {wid}", (span(w(wid).target), span(w(wid).breach), w(wid).clock), exp) for wid, exp in {
        "scoring_latency": ("4h", "8h", "business"),
        "routing.high_intent": ("5m", "60m", "calendar"),
        "routing.standard": ("15m", "60m", "calendar"),
        "sdr_notification": ("1m", "1m", "calendar"),
        "sdr_response.tier1": ("5m", "2h", "business"),
        "sdr_response.tier2": ("2h", "4h", "business"),
        "sdr_response.tier3": ("1bd", "2bd", "business"),
        "sal_accept_after_first_attempt": ("15m", None, "business"),
        "sal_reject": ("4h", "1bd", "business"),
        "sal_decision": ("4h", "1bd", "business"),
        "activity_logging": ("30m", "30m", "calendar"),
        "sequence_enrollment": ("eod1", "eod1", "business"),
        "sal_resolution": ("eod14", "eod14", "business"),
        "post_call_follow_up": ("2bd", "eod3", "business"),
        "sql_completeness": (None, None, "gate"),
        "briefing_doc": (None, None, "gate"),
        "enrichment_before_routing": (None, None, "gate"),
        "ae_notification": (None, None, "event"),
        "three_way_intro": ("2h", "2h", "calendar"),
        "ae_acceptance": ("4h", "8h", "business"),
        "opportunity_creation": (None, "1bd", "event"),
        "ae_first_touch": ("1bd", "2bd", "business"),
        "internal_debrief": ("24h", None, "calendar"),
        "discovery_meeting": ("5bd", "5bd", "business"),
        "opp_next_step": ("24h", "7d", "calendar"),
        "opp_activity": ("10bd", "10bd", "business")}.items()],
    ("§5.1 sal_resolution day-12 review", span(w("sal_resolution").warning), "eod12"),
    ("§5.1 tier1 after hours", span(w("sdr_response.tier1").after_hours.from_next_open), "30m"),
    ("§5.1 tier2 after hours", str(w("sdr_response.tier2").after_hours.by_next_business_day_at), "10:00:00"),
    ("§5.1 tier3 after hours", span(w("sdr_response.tier3").after_hours.from_next_open), "1bd"),
    # §11.1 ladders
    *[(f"§11.1 {wid} ladder", [e.role for e in w(wid).escalation], roles) for wid, roles in {
        "scoring_latency": ["marketing_director"], "routing.high_intent": ["revops"], "routing.standard": ["revops"],
        "sdr_response.tier1": ["sdr_manager", "vp_sales"], "sdr_response.tier3": ["sdr_manager"],
        "sal_decision": ["sdr_manager"], "sal_reject": ["sdr_manager"], "sal_resolution": ["sdr_manager"],
        "post_call_follow_up": ["sdr_manager"], "briefing_doc": ["sdr_manager"],
        "ae_acceptance": ["ae_manager", "vp_sales"], "ae_first_touch": ["ae_manager", "vp_sales"],
        "discovery_meeting": ["ae_manager"], "opportunity_creation": ["ae_manager"]}.items()],
    ("§11.1 ae_first_touch VP Sales 24 h later", span(w("ae_first_touch").escalation[1].after), "24h"),
    ("§11.1 critical failure reassigns", w("sdr_response.tier1").escalation[1].reassign, True),
    # §6 cadences
    *[(f"§6.1 {cid}", (P.cadences[cid].attempts, span(P.cadences[cid].span), span(P.cadences[cid].recycle_at)), exp)
      for cid, exp in {"tier1": (8, "7bd", "eod7"), "tier2": (6, "10bd", "eod10"), "tier3": (5, "14bd", "eod14")}.items()],
    ("§6.2 tier1 days", [t.day for t in P.cadences["tier1"].touches], [1, 1, 2, 3, 4, 5, 6, 7]),
    ("§6.2 tier2 days", [t.day for t in P.cadences["tier2"].touches], [1, 1, 2, 3, 7, 9]),
    ("§6.2 tier3 days", [t.day for t in P.cadences["tier3"].touches], [1, 1, 3, 5, 10]),
    ("§6.2 tier1 channels", [t.channel for t in P.cadences["tier1"].touches],
     ["phone", "email", "linkedin", "phone", "email", "phone", "email", "email"]),
    ("§6.1 exhausted suppression", {span(c.on_exhausted.suppression) for c in P.cadences.values()}, {"90d"}),
    ("§6.4 floor", (P.cadences["tier1"].floor.min_attempts, P.cadences["tier1"].floor.min_channels), (3, 2)),
    # §7 codes
    *[(f"§7.1 {code}", CODES[code].path, path) for code, path in {
        "REJ-01": "data_hold", "REJ-02": "disqualified", "REJ-03": "disqualified", "REJ-04": "routed_out",
        "REJ-05": "recycled", "REJ-06": "disqualified", "REJ-07": "territory_hold"}.items()],
    ("§7.1 REJ-06 permanent", CODES["REJ-06"].permanent, True),
    ("Q35 REJ-02/03 suppression", (span(CODES["REJ-02"].suppression), span(CODES["REJ-03"].suppression)), ("90d", "90d")),
    ("§7.2 R codes", [c.code for c in P.reason_codes.mql_rejection_alt], [f"R{i}" for i in range(1, 9)]),
    *[(f"§7.3 {code}", CODES[code].path, path) for code, path in {
        "AE-REJ-01": "sal", "AE-REJ-02": "recycled", "AE-REJ-03": "sal", "AE-REJ-04": "sal", "AE-REJ-05": "reassign"}.items()],
    ("§7.3 AE-REJ-02 month-6 check-in", (span(CODES["AE-REJ-02"].suppression), span(CODES["AE-REJ-02"].check_in)), ("6mo", "6mo")),
    # §8 gate
    ("§8 required MEDDPIC", sorted(k for k, v in P.sql_gate.meddpic.items() if v == "required"),
     ["decision_process", "implicate_pain", "metrics"]),
    ("§8 hard requirements", set(P.sql_gate.hard_requirements),
     {"meeting_booked", "pain_statement", "timeline", "meeting_link", "briefing_doc_complete"}),
    ("Q36 timeline months", P.sql_gate.max_timeline_months, 12),
    # §9 opportunity
    ("§9 max ages", [span(STAGES[s].max_age) for s in ("os1", "os2", "os3", "os4", "os5")], ["21d", "30d", "30d", "21d", "21d"]),
    ("§9 close rules", [span(STAGES[s].close_within) for s in ("os1", "os4", "os5")], ["90d", "30d", "14d"]),
    ("§9 next actions", [span(STAGES[s].next_action_within) for s in ("os1", "os2", "os3", "os4")], ["24h", "10d", "5d", "24h"]),
    ("§9 alert deadlines", {a: span(ALERTS[a].deadline) for a in ALERTS}, {
        "opp_no_next_step": "24h", "opp_zero_activity": "48h", "opp_stage_age_exceeded": "48h",
        "opp_close_date_pushed_twice": "72h", "opp_acv_change": "24h"}),
    ("§9 no next step", span(P.opportunity.no_next_step_after), "7d"),
    ("§9 zero activity", span(P.opportunity.zero_activity_after), "10bd"),
    ("§9 ACV change", P.opportunity.acv_change_threshold_pct, 30),
    ("§9 pushed twice", P.opportunity.close_date_push_limit, 2),
    # §10 recycling
    ("§10 minimum", span(P.recycling.minimum_suppression), "90d"),
    ("§10 cadence exhausted", span(SCENARIOS["cadence_exhausted"].suppression), "90d"),
    ("§10 timeline", (span(SCENARIOS["timeline_12_months"].suppression), span(SCENARIOS["timeline_12_months"].check_in)), ("6mo", "6mo")),
    ("§10 competitor", SCENARIOS["competitor_employee"].permanent, True),
    ("§10 invalid data", SCENARIOS["invalid_contact_data"].until_enriched, True),
    ("Q14 hand-raise override", P.recycling.tier1_handraise_overrides, True),
    # §11.2 pattern ladder
    ("§11.2 weeks", [lv.weeks for lv in P.pattern_escalation], [2, 4, 6]),
    ("§11.2 tier 2 CEO", P.pattern_escalation[1].notify, ["ceo"]),
    # §12.1 metrics
    *[(f"§12.1 {mid}", (METRICS[mid].green, METRICS[mid].red, METRICS[mid].cadence), exp) for mid, exp in {
        "mql_response_tier1": (80, 60, "daily"), "mql_response_tier2": (90, 75, "daily"),
        "mql_live_contact_rate": (35, 20, "weekly"), "mql_to_sal_rate": (75, 55, "weekly"),
        "sal_to_sql_rate": (25, 15, "weekly"), "sql_acceptance_rate": (90, 75, "daily"),
        "sql_to_opp_rate": (80, 65, "weekly"), "mql_quality_rate": (95, 85, "monthly"),
        "sla_breach_rate": (5, 15, "weekly")}.items()],
    # §14 defaults
    ("Q10 default ACV tier", P.defaults.default_acv_tier, "30k_75k"),
    ("Q35 default DQ suppression", span(P.defaults.default_disqualification_suppression), "90d"),
    ("Q1 timezone precedence", P.calendars.timezone_precedence, ["prospect", "territory", "owner"]),
    ("§0 business hours", (str(P.calendars.named["default"].open), str(P.calendars.named["default"].close),
                           P.calendars.named["default"].weekdays),
     ("08:00:00", "18:00:00", ["mon", "tue", "wed", "thu", "fri"])),
]


@pytest.mark.parametrize("what,actual,expected", ROWS, ids=[r[0] for r in ROWS])
def test_default_policy_holds_domain_value(what, actual, expected):
    assert actual == expected


def test_metric_edges_are_amber():
    quality = METRICS["mql_quality_rate"]
    assert quality.status(95) == "amber"  # Q30: exactly 95% is amber though it meets the commitment
    assert quality.status(95.1) == "green"
    assert quality.status(84.9) == "red"
    breach = METRICS["sla_breach_rate"]
    assert (breach.status(4), breach.status(5), breach.status(15), breach.status(16)) == ("green", "amber", "amber", "red")


def test_every_window_of_the_master_table_exists():
    assert len(P.window_ids()) == 27
