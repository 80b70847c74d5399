"""docs/domain.md's numbers held against the bundled default policy: a typo in the YAML fails here.

Each row is (document path, expected value), read from the policy as the YAML states it
(`model_dump(mode="json")`: spans as "5m"/"1bd"/"eod14", times as "10:00"). A list of
records is addressed by its key: `scoring.signals[id=demo_request].points`. Rows are
grouped by docs/domain.md section.
"""

from __future__ import annotations

import re

import pytest

from sla_policies.loader import default_policy

P = default_policy()
DOC = P.model_dump(mode="json")
_SELECTOR = re.compile(r"^(?P<name>[^\[]+)(?:\[(?P<key>\w+)=(?P<value>[^\]]+)\])?$")


def value_at(path: str):
    node = DOC
    for part in path.split("."):
        match = _SELECTOR.match(part)
        node = node[match["name"]]
        if match["key"]:
            found = [item for item in node if str(item[match["key"]]) == match["value"]]
            assert len(found) == 1, f"{path}: {len(found)} items with {match['key']}={match['value']}"
            node = found[0]
    return node


def rows(prefix: str, expected: dict[str, object]) -> list[tuple[str, object]]:
    return [(f"{prefix}.{suffix}" if prefix else suffix, value) for suffix, value in expected.items()]


def signal(sid: str, points: int, tier: str, trigger: bool = False) -> list[tuple[str, object]]:
    return rows(f"scoring.signals[id={sid}]", {"points": points, "action_tier": tier, "tier1_trigger": trigger})


def window(wid: str, target, breach, clock: str, ladder: list[str], *, after_hours=None, warning=None,
           afters: list | None = None, reassign: list | None = None, proposed: bool = False, owner: str | None = None):
    base = "windows." + wid
    found = rows(base, {"target": target, "breach": breach, "clock": clock, "warning": warning,
                        "after_hours": after_hours, "proposed": proposed})
    found.append((f"{base}.escalation[*].role", ladder))
    if afters is not None:
        found.append((f"{base}.escalation[*].after", afters))
    if reassign is not None:
        found.append((f"{base}.escalation[*].reassign", reassign))
    if owner is not None:
        found.append((f"{base}.owner", owner))
    return found


def lead_type(lt: str, routing, first_outreach, multiplier, default_tier, **flags):
    return rows(f"lead_types.{lt}", {"routing": routing, "first_outreach": first_outreach,
                                     "multiplier": multiplier, "default_tier": default_tier, **flags})


def acv(tid, low, high, threshold, rng, expected, route, first_contact, contacts, intent=False, handover=False):
    return rows(f"acv_tiers[id={tid}]", {
        "min_acv": low, "max_acv": high, "mql_threshold": threshold, "threshold_range": rng,
        "expected_mql_to_sql": expected, "route_to": route, "first_contact": first_contact,
        "committee_min_contacts": contacts, "committee_requires_intent": intent, "handover_document": handover,
    }) + [(f"qualification.committee_engaged.min_contacts.{tid}", contacts)]


def code(group: str, c: str, path: str, suppression=None, **more):
    return rows(f"reason_codes.{group}[code={c}]", {"path": path, "suppression": suppression, **more})


def metric(mid: str, green, red, cadence: str, direction: str = "higher_is_better"):
    return rows(f"metrics[id={mid}]", {"green": green, "red": red, "cadence": cadence, "direction": direction})


def touches(cid: str, plan: list[tuple[int, str]]):
    return [(f"cadences.{cid}.touches[*].day", [d for d, _ in plan]),
            (f"cadences.{cid}.touches[*].channel", [c for _, c in plan])]


ROWS: list[tuple[str, object]] = [
    # §0 business hours, §14 Q1/Q2/Q29
    *rows("calendars", {"default": "default", "timezone_precedence": ["prospect", "territory", "owner"],
                        "company_timezone": "America/New_York"}),
    *rows("calendars.named.default", {"open": "08:00", "close": "18:00",
                                      "weekdays": ["mon", "tue", "wed", "thu", "fri"], "holiday_country": None}),
    # §3.1 scoring table (default: detailed-table points, action-tier-table membership)
    *signal("industry_icp", 20, "fit"),
    *signal("company_size_target", 15, "fit"),
    *signal("persona_economic_buyer", 20, "fit"),
    *signal("persona_influencer", 10, "fit"),
    ("scoring.signals[id=persona_economic_buyer].persona_group", "persona"),
    ("scoring.signals[id=persona_influencer].persona_group", "persona"),
    *signal("demo_request", 40, "high", True),
    *signal("contact_sales", 40, "high", True),
    *signal("pricing_form", 35, "high", True),
    *signal("free_trial", 40, "high", True),
    *signal("roi_calculator", 30, "medium"),
    *signal("competitor_comparison", 25, "high"),
    *signal("webinar_attended", 15, "medium"),
    *signal("case_study_download", 15, "medium"),
    *signal("email_clicks_3_in_7d", 15, "medium"),
    *signal("product_pages", 10, "medium"),
    *signal("awareness", 5, "low"),
    *signal("email_unsubscribe", -50, "negative"),
    ("scoring.decay", [{"id": "no_activity_30d", "after": "30d", "total_points": -10},
                       {"id": "no_activity_60d", "after": "60d", "total_points": -20}]),
    *rows("scoring", {"repeat_window": "7d", "floor": 0, "mql_threshold": 60,
                      "manager_review": {"min": 40, "max": 59}, "threshold_mode": "global",
                      "latency_synchronous_for_handraises": True, "tier_cutoffs_alt": {"1": 80, "2": 65}}),
    # §3.2 ACV tiers [000], §3.6 committee minimums, Q37 first contact
    *acv("lt_10k", 0, 10000, 35, [35, 50], [12, 22], "plg", None, 2),
    *acv("10k_30k", 10000, 30000, 50, [50, 65], [18, 28], "sdr", "5m", 2),
    *acv("30k_75k", 30000, 75000, 60, [60, 75], [22, 35], "sdr_with_ae", "5m", 3),
    *acv("75k_200k", 75000, 200000, 70, [70, 85], [28, 45], "ae_direct", "15m", 4, intent=True),
    *acv("200k_plus", 200000, None, 80, [80, 95], [35, 55], "named_ae", "30m", 5, intent=True, handover=True),
    # §3.3 criteria, §3.4 disqualifiers, §3.6 Committee-Engaged, Q11
    ("qualification.criteria[*].id", ["icp_fit", "persona", "seniority", "behavioral_intent", "recency",
                                      "data_completeness", "email_validity", "business_email", "territory",
                                      "enrichment", "not_suppressed"]),
    ("qualification.criteria[id=seniority].required", False),
    *rows("qualification", {"icp_fit_min": 60, "recency": "30d", "min_employees": 10,
                            "required_fields": ["first_name", "last_name", "company", "email", "phone"],
                            "phone_waivable_for": ["plg", "lt_10k"], "enrichment_required_before_routing": True,
                            "enrichment_completeness_target_pct": 95}),
    *rows("qualification.disqualifiers[id=competitor_domain]", {"outcome": "disqualified", "permanent": True,
                                                                "suppression": None}),
    *[(f"qualification.disqualifiers[id={d}].suppression", "90d") for d in (
        "student_or_edu", "free_email_small_company", "below_size", "unsupported_region", "excluded_industry",
        "irrelevant_title")],
    *rows("qualification.committee_engaged", {"window": "30d", "director_plus_required": True, "mode": "signal"}),
    # §4.1 lead tiers
    *rows("lead_tiers.1", {"response_window": "sdr_response.tier1", "cadence": "tier1"}),
    *rows("lead_tiers.2", {"response_window": "sdr_response.tier2", "cadence": "tier2", "min_medium_high_actions": 3}),
    *rows("lead_tiers.3", {"response_window": "sdr_response.tier3", "cadence": "tier3"}),
    # §4.2 lead types [000] (Q15 nurture-only, Q16 webinar days)
    *lead_type("demo_request", "5m", "5m", 21, 1, handraise=True, high_intent_routing=True, to_sdr=True),
    *lead_type("pricing_form", "5m", "30m", 10, 1, handraise=True, high_intent_routing=True),
    *lead_type("free_trial", "5m", "30m", 8, 1, handraise=True, routes_to_plg=True),
    *lead_type("contact_sales", "5m", "30m", 15, 1, handraise=True),
    *lead_type("gated_content", "30m", "4h", 4, None, handraise=False, high_intent_routing=False),
    *lead_type("webinar", "4h", "eod1", 3, None, first_outreach_if_no_show="eod2"),
    *lead_type("newsletter", "24h", None, 1, None, to_sdr=False),
    # Routing, Q21/Q26
    *rows("routing", {"strategy": "round_robin", "capacity_capped": True, "skip_unavailable": True,
                      "direct_to_ae_tiers": ["75k_200k", "200k_plus"], "reassignment_resets_clocks": False}),
    # §5.1 master table + §11.1 ladders
    *window("scoring_latency", "4h", "8h", "business", ["marketing_director"], owner="marketing_ops"),
    *window("enrichment_before_routing", None, None, "gate", ["revops"]),
    *window("routing.high_intent", "5m", "60m", "calendar", ["revops"]),
    *window("routing.standard", "15m", "60m", "calendar", ["revops"]),
    *window("sdr_notification", "1m", "1m", "calendar", ["revops"], proposed=True),
    *window("sdr_response.tier1", "5m", "2h", "business", ["sdr_manager", "vp_sales"], owner="sdr",
            after_hours={"from_next_open": "30m", "by_next_business_day_at": None},
            afters=[None, "2bd"], reassign=[False, True]),
    *window("sdr_response.tier2", "2h", "4h", "business", ["sdr_manager", "vp_sales"],
            after_hours={"from_next_open": None, "by_next_business_day_at": "10:00"},
            afters=[None, "2bd"], reassign=[False, True]),
    *window("sdr_response.tier3", "1bd", "2bd", "business", ["sdr_manager", "vp_sales"],
            after_hours={"from_next_open": "1bd", "by_next_business_day_at": None},
            afters=[None, "2bd"], reassign=[False, True]),
    *window("sal_accept_after_first_attempt", "15m", None, "business", ["sdr_manager"]),
    *window("sal_reject", "4h", "1bd", "business", ["sdr_manager"]),
    *window("sal_decision", "4h", "1bd", "business", ["sdr_manager"]),
    *window("activity_logging", "30m", "30m", "calendar", ["sdr_manager"], proposed=True),
    *window("sequence_enrollment", "eod1", "eod1", "business", ["sdr_manager"], proposed=True),
    *window("sal_resolution", "eod14", "eod14", "business", ["sdr_manager"], warning="eod12"),
    ("windows.sal_resolution.escalation[*].forces", ["SAL-NO-DISPOSITION"]),
    *window("post_call_follow_up", "2bd", "eod3", "business", ["sdr_manager"]),
    *window("sql_completeness", None, None, "gate", []),
    *window("briefing_doc", None, None, "gate", ["sdr_manager"]),
    *window("ae_notification", None, None, "event", [], owner="system"),
    *window("three_way_intro", "2h", "2h", "calendar", ["sdr_manager"], proposed=True),
    *window("ae_acceptance", "4h", "8h", "business", ["ae_manager", "vp_sales"], afters=[None, "1bd"], owner="ae"),
    *window("opportunity_creation", None, "1bd", "event", ["ae_manager"]),
    *window("ae_first_touch", "1bd", "2bd", "business", ["ae_manager", "vp_sales"], afters=[None, "24h"]),
    *window("internal_debrief", "24h", None, "calendar", ["ae_manager"], proposed=True),
    *window("discovery_meeting", "5bd", "5bd", "business", ["ae_manager"]),
    *window("opp_next_step", "24h", "7d", "calendar", ["ae_manager"]),
    *window("opp_activity", "10bd", "10bd", "business", ["ae_manager"]),
    *window("opp_stage_age", None, "21d", "calendar", ["ae_manager"]),
    *rows("windows", {"lead_feedback": None, "disposition": None, "ae_acknowledgment": None}),
    # §6 cadences: counts/spans of §6.1, reconciled schedule of §6.2, §6.4 floor
    *rows("cadences.tier1", {"attempts": 8, "span": "7bd", "recycle_at": "eod7"}),
    *rows("cadences.tier2", {"attempts": 6, "span": "10bd", "recycle_at": "eod10"}),
    *rows("cadences.tier3", {"attempts": 5, "span": "14bd", "recycle_at": "eod14"}),
    *touches("tier1", [(1, "phone"), (1, "email"), (2, "linkedin"), (3, "phone"), (4, "email"), (5, "phone"),
                       (6, "email"), (7, "email")]),
    *touches("tier2", [(1, "phone"), (1, "email"), (2, "linkedin"), (3, "phone"), (7, "phone"), (9, "email")]),
    *touches("tier3", [(1, "phone"), (1, "email"), (3, "phone"), (5, "email"), (10, "phone")]),
    *[(f"cadences.{c}.on_exhausted", {"path": "recycled", "suppression": "90d"}) for c in ("tier1", "tier2", "tier3")],
    *[(f"cadences.{c}.floor", {"min_attempts": 3, "min_channels": 2}) for c in ("tier1", "tier2", "tier3")],
    # §7.1 REJ (default set), Q35
    ("reason_codes.active_mql_set", "REJ"),
    *code("mql_rejection", "REJ-01", "data_hold", until_enriched=True, scope="contact"),
    *code("mql_rejection", "REJ-02", "disqualified", "90d", scope="company"),
    *code("mql_rejection", "REJ-03", "disqualified", "90d", scope="contact"),
    *code("mql_rejection", "REJ-04", "routed_out"),
    *code("mql_rejection", "REJ-05", "recycled", "90d"),
    *code("mql_rejection", "REJ-06", "disqualified", permanent=True, scope="domain"),
    *code("mql_rejection", "REJ-07", "territory_hold"),
    *[(f"reason_codes.mql_rejection[code=REJ-0{i}].voids_response_clock", True) for i in range(1, 8)],
    # §7.2 R1-R8 and the mapping
    *code("mql_rejection_alt", "R1", "disqualified", "90d", maps_to=["REJ-02", "REJ-07"]),
    *code("mql_rejection_alt", "R2", "disqualified", "90d", maps_to=["REJ-03"]),
    *code("mql_rejection_alt", "R3", "recycled", "90d", maps_to=[]),
    *code("mql_rejection_alt", "R4", "recycled", "90d", maps_to=[]),
    *code("mql_rejection_alt", "R5", "disqualified", permanent=True, maps_to=["REJ-06"]),
    *code("mql_rejection_alt", "R6", "disqualified", "90d", maps_to=["REJ-02", "REJ-03"]),
    *code("mql_rejection_alt", "R7", "routed_out", maps_to=["REJ-04"]),
    *code("mql_rejection_alt", "R8", "recycled", "90d", maps_to=[]),
    # §7.3 AE-REJ
    *code("sql_rejection", "AE-REJ-01", "sal", reviewer=["sdr_manager"]),
    *code("sql_rejection", "AE-REJ-02", "recycled", "6mo", check_in="6mo", reviewer=["revops"]),
    *code("sql_rejection", "AE-REJ-03", "sal", reviewer=["sdr_manager"]),
    *code("sql_rejection", "AE-REJ-04", "sal", reviewer=["sdr"]),
    *code("sql_rejection", "AE-REJ-05", "reassign", reviewer=["revops", "sales_ops"]),
    # T15/T16/T27 SAL dispositions (R3/R4/R8 meanings), T17/T26 manual disqualification
    *code("sal_disposition", "SAL-CADENCE-EXHAUSTED", "recycled", "90d", maps_to=["R8"]),
    *code("sal_disposition", "SAL-TIMELINE-12M", "recycled", "6mo", check_in="6mo", maps_to=["R3"]),
    *code("sal_disposition", "SAL-MEDDPIC-FAILED", "recycled", "90d", maps_to=["R4"]),
    *code("sal_disposition", "SAL-UNSUBSCRIBED", "recycled", "90d", permanent=False),
    *code("sal_disposition", "SAL-NO-DISPOSITION", "recycled", "90d", permanent=False),
    *code("disqualification", "DQ-COMPETITOR", "disqualified", permanent=True, scope="domain"),
    *code("disqualification", "DQ-NOT-A-FIT", "disqualified", "90d"),
    *code("disqualification", "DQ-INVALID", "data_hold", until_enriched=True),
    # §8 SQL gate, Q36
    ("sql_gate.meddpic", {"metrics": "required", "economic_buyer": "preferred", "decision_criteria": "preferred",
                          "decision_process": "required", "paper_process": "optional", "implicate_pain": "required",
                          "champion": "optional"}),
    *rows("sql_gate", {"hard_requirements": ["meeting_booked", "pain_statement", "timeline", "meeting_link",
                                             "briefing_doc_complete"],
                       "briefing_doc_fields": ["confirmed_pain", "timeline", "stakeholders", "meeting_context"],
                       "ae_requires_briefing_read": True, "max_timeline_months": 12}),
    # §9 opportunity hygiene
    ("opportunity.stages[*].id", ["os1", "os2", "os3", "os4", "os5"]),
    ("opportunity.stages[*].name", ["Discovery", "Qualification", "Evaluation", "Proposal", "Commit"]),
    ("opportunity.stages[*].max_age", ["21d", "30d", "30d", "21d", "21d"]),
    ("opportunity.stages[*].next_action_within", ["24h", "10d", "5d", "24h", "1d"]),
    ("opportunity.stages[*].close_within", ["90d", None, None, "30d", "14d"]),
    *rows("opportunity", {"no_next_step_after": "7d", "zero_activity_after": "10bd", "acv_change_threshold_pct": 30,
                          "close_date_push_limit": 2}),
    ("opportunity.alerts[*].id", ["opp_no_next_step", "opp_zero_activity", "opp_stage_age_exceeded",
                                  "opp_close_date_pushed_twice", "opp_acv_change"]),
    ("opportunity.alerts[*].deadline", ["24h", "48h", "48h", "72h", "24h"]),
    ("opportunity.alerts[*].alert_to", [["ae"], ["ae", "ae_manager"], ["ae_manager"], ["ae", "vp_sales"],
                                        ["vp_sales", "revops"]]),
    # §10 recycling, Q14
    *rows("recycling", {"minimum_suppression": "90d", "tier1_handraise_overrides": True,
                        "reactivated_counted_apart": True}),
    *rows("recycling.scenarios[id=cadence_exhausted]", {"suppression": "90d", "owner": "marketing_ops"}),
    *rows("recycling.scenarios[id=timeline_12_months]", {"suppression": "6mo", "check_in": "6mo"}),
    *rows("recycling.scenarios[id=wrong_buyer]", {"suppression": None, "owner": "sdr"}),
    *rows("recycling.scenarios[id=invalid_contact_data]", {"until_enriched": True, "owner": "marketing_ops"}),
    *rows("recycling.scenarios[id=competitor_employee]", {"permanent": True, "re_mql_trigger": "never"}),
    *rows("recycling.scenarios[id=existing_customer]", {"suppression": None, "owner": "revops"}),
    # §11.2 pattern ladder
    ("pattern_escalation[*].weeks", [2, 4, 6]),
    ("pattern_escalation[*].notify", [["vp_marketing", "vp_sales"], ["ceo"],
                                      ["ceo", "vp_marketing", "vp_sales", "revops"]]),
    # §12.1 metrics, Q30
    *metric("mql_response_tier1", 80, 60, "daily"),
    *metric("mql_response_tier2", 90, 75, "daily"),
    *metric("mql_live_contact_rate", 35, 20, "weekly"),
    *metric("mql_to_sal_rate", 75, 55, "weekly"),
    *metric("sal_to_sql_rate", 25, 15, "weekly"),
    *metric("sql_acceptance_rate", 90, 75, "daily"),
    *metric("sql_to_opp_rate", 80, 65, "weekly"),
    *metric("mql_quality_rate", 95, 85, "monthly"),
    ("metrics[id=mql_quality_rate].commitment", 95),
    *metric("sla_breach_rate", 5, 15, "weekly", "lower_is_better"),
    # §11.2 / Q29: the side that owns each metric (a joint one breaches neither)
    ("metrics[*].side", ["sales", "sales", "sales", "marketing", "sales", "sales", "sales", "marketing", "joint",
                         "marketing", "marketing", "marketing", "marketing", "marketing", "marketing", "marketing",
                         "sales", "sales"]),
    # §12.3 commitments: marketing (template 400/month = 100/week; tier 1 100 at >=70%, tier 2 300 at >=60%)
    ("commitments.mql_volume", {"all": {"per_month": 400, "per_week": 100, "acceptance": None},
                                "tier1": {"per_month": 100, "per_week": 25, "acceptance": 70.0},
                                "tier2": {"per_month": 300, "per_week": 75, "acceptance": 60.0}}),
    ("commitments.regions", {}),
    *rows("metrics[id=tier1_acceptance_rate]", {"green": 70, "commitment": 70, "side": "marketing"}),
    *rows("metrics[id=tier2_acceptance_rate]", {"green": 60, "commitment": 60, "side": "marketing"}),
    ("commitments.enrichment_fields", ["employees", "industry", "annual_revenue"]),
    *rows("metrics[id=enrichment_rate]", {"green": 95, "commitment": 95}),
    ("commitments.routing_within", "5m"),
    *rows("metrics[id=routing_speed_rate]", {"commitment": 100, "side": "marketing"}),
    *rows("metrics[id=mql_volume]", {"green": 100, "unit": "% of target", "side": "marketing"}),
    # §12.3 commitments: sales (100% dispositioned within 48 h; a code and notes on every rejection)
    ("commitments.disposition_within", "48h"),
    *rows("metrics[id=mql_disposition_rate]", {"commitment": 100, "side": "sales"}),
    *rows("metrics[id=rejection_feedback_rate]", {"commitment": 100, "side": "sales"}),
    # §12.1 "also tracked": >=6 touches in 21 d; per-SDR SQL->opp 4-6 weeks after SQL; named owners
    *rows("commitments", {"touch_floor": 6, "touch_floor_within": "21d", "sql_to_opp_after": "28d",
                          "sql_to_opp_until": "42d"}),
    ("tracked[id=close_rate_by_source].owner", "vp_marketing"),
    ("tracked[id=opp_won_rate_by_channel].owner", "vp_sales"),
    ("tracked[id=demo_show_rate].owner", "sdr_manager"),
    ("tracked[*].side", ["marketing", "sales", "sales", "sales", "sales", "sales", "joint", "joint", "joint", "joint",
                         "joint"]),
    # §12.4 reviews
    ("reviews[*].id", ["sla_flash", "rejection_report", "friday_pipeline_review", "revenue_sync", "pipeline_review",
                       "business_review", "sla_performance_review", "revops_audit", "calibration"]),
    ("reviews[*].cadence", ["daily", "weekly, Friday morning", "weekly", "weekly", "bi-weekly", "monthly", "monthly",
                            "monthly", "quarterly"]),
    ("reviews[id=friday_pipeline_review].duration_min", 60),
    ("reviews[id=business_review].duration_min", 60),
    ("reviews[id=sla_performance_review].duration_min", 60),
    # §13 sign-off
    ("signoff", {"mql_definition": ["vp_marketing", "vp_sales"], "sql_definition": ["vp_sales", "vp_marketing"],
                 "arbiter": "ceo"}),
    # §14 defaults
    *rows("defaults", {"default_acv_tier": "30k_75k", "default_disqualification_suppression": "90d",
                       "first_attempt_channels": ["phone", "email", "linkedin"]}),
]


def read(path: str):
    """value_at, plus `list[*].field` to read one field of every item of a list."""
    if "[*]." in path:
        head, field = path.split("[*].", 1)
        return [item[field] for item in value_at(head)]
    return value_at(path)


@pytest.mark.parametrize("path,expected", ROWS, ids=[r[0] for r in ROWS])
def test_default_policy_holds_domain_value(path, expected):
    assert read(path) == expected


def test_every_window_of_the_master_table_exists():
    assert P.window_ids() == [
        "scoring_latency", "enrichment_before_routing", "routing.high_intent", "routing.standard", "sdr_notification",
        "sdr_response.tier1", "sdr_response.tier2", "sdr_response.tier3", "sal_accept_after_first_attempt",
        "sal_reject", "sal_decision", "activity_logging", "sequence_enrollment", "sal_resolution",
        "post_call_follow_up", "sql_completeness", "briefing_doc", "ae_notification", "three_way_intro",
        "ae_acceptance", "opportunity_creation", "ae_first_touch", "internal_debrief", "discovery_meeting",
        "opp_next_step", "opp_activity", "opp_stage_age",
    ]


def test_max_fit_needs_intent_to_reach_the_threshold():
    """§3.1: max fit = 55 (one persona row only), so intent points are always needed for 60."""
    fit = [s for s in P.scoring.signals if s.action_tier == "fit"]
    persona = max(s.points for s in fit if s.persona_group == "persona")
    assert sum(s.points for s in fit if s.persona_group is None) + persona == 55 < P.scoring.mql_threshold


def test_acv_tier_bands_are_half_open():
    assert [P.acv_tier_for(x).id for x in (0, 9_999.99, 10_000, 74_999, 75_000, 200_000, 5e6)] == [
        "lt_10k", "lt_10k", "10k_30k", "30k_75k", "75k_200k", "200k_plus", "200k_plus"]


@pytest.mark.parametrize("metric_id,value,status", [
    ("mql_quality_rate", 95, "amber"),  # Q30: exactly 95% is amber though it meets the >=95% commitment
    ("mql_quality_rate", 95.1, "green"),
    ("mql_quality_rate", 85, "amber"),
    ("mql_quality_rate", 84.9, "red"),
    ("mql_response_tier1", 80.5, "green"),
    ("mql_response_tier1", 80, "amber"),
    ("mql_response_tier1", 60, "amber"),
    ("mql_response_tier1", 59, "red"),
    ("sla_breach_rate", 4, "green"),
    ("sla_breach_rate", 5, "amber"),
    ("sla_breach_rate", 15, "amber"),
    ("sla_breach_rate", 16, "red"),
])
def test_metric_status_edges_are_amber(metric_id, value, status):
    assert P.metric(metric_id).status(value) == status


def test_lead_tiers_pick_their_windows_and_cadences():
    for tier, spec in P.lead_tiers.items():
        assert P.window(spec.response_window) is getattr(P.windows.sdr_response, f"tier{tier}")
        assert P.cadences[spec.cadence].attempts == {1: 8, 2: 6, 3: 5}[tier]
