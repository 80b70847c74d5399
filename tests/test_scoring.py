"""Scoring (§3.1, Q8) and the inquiry decision (§2 T02-T10, §3.3-3.4, §4.1)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sla_policies.lead import Account, Contact, EngagementEvent, LeadIntake
from sla_policies.loader import default_policy
from sla_policies.qualification import decide_inquiry
from sla_policies.scoring import score_lead

P = default_policy()
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def lead(lead_type="demo_request", *, events=(), received=NOW, contact=None, account=None, acv=None):
    return LeadIntake(
        lead_id="x", lead_type=lead_type, received_at=received, acv_estimate=acv,
        contact=contact or Contact(first_name="Ada", last_name="L", email="ada@acme.io", phone="+1 555 0100",
                                   title="VP Engineering", country="US"),
        account=account or Account(company="Acme", industry="software", employees=300, country="US"),
        events=[EngagementEvent(type=t, occurred_at=at) for t, at in events],
    )


def decide(intake, now=NOW):
    return decide_inquiry(P, intake, score_lead(P, intake, now))


def test_demo_request_with_full_fit_scores_95_and_is_a_tier1_mql():
    score = score_lead(P, lead(), NOW)
    assert score.points == 20 + 15 + 20 + 40
    assert {line.signal for line in score.lines} == {"industry_icp", "company_size_target", "persona_economic_buyer",
                                                     "demo_request"}
    d = decide_inquiry(P, lead(), score)
    assert (d.to_stage, d.tier, d.event) == ("mql", 1, "T05 mql_threshold_reached")


def test_one_persona_row_only():
    s = score_lead(P, lead(contact=Contact(title="Senior Director of Ops", email="a@acme.io")), NOW)
    assert [line.signal for line in s.lines if line.signal.startswith("persona")] == ["persona_economic_buyer"]


def test_same_action_scores_once_per_seven_days():
    day = timedelta(days=1)
    # -9 d counts; -3 d is 6 days after it (skipped); -1 d is 8 days after the counted one.
    events = [("webinar_attended", NOW - 9 * day), ("webinar_attended", NOW - 3 * day),
              ("webinar_attended", NOW - 1 * day)]
    s = score_lead(P, lead("gated_content", events=events), NOW)
    assert [line.signal for line in s.lines].count("webinar_attended") == 2


@pytest.mark.parametrize("idle_days,decay", [(29, 0), (30, -10), (59, -10), (60, -20), (400, -20)])
def test_decay_is_not_cumulative(idle_days, decay):
    intake = lead("gated_content", received=NOW - timedelta(days=idle_days))
    s = score_lead(P, intake, NOW)
    assert sum(line.points for line in s.lines if line.signal.startswith("decay")) == decay


def test_score_floor_is_zero():
    intake = lead("newsletter", events=[("email_unsubscribe", NOW)],
                  contact=Contact(title="Clerk", email="a@acme.io"), account=Account(company="Acme"))
    assert score_lead(P, intake, NOW).points == 0


def test_tier2_needs_three_medium_or_high_actions_in_30_days():
    events = [("webinar_attended", NOW - timedelta(days=20)), ("case_study_download", NOW - timedelta(days=10)),
              ("roi_calculator", NOW - timedelta(days=2))]
    d = decide(lead("gated_content", events=events))
    assert (d.to_stage, d.tier) == ("mql", 2)


def test_tier3_is_icp_and_intent_without_a_hand_raise():
    events = [("competitor_comparison", NOW - timedelta(days=1))]
    d = decide(lead("gated_content", events=events))
    assert (d.to_stage, d.tier) == ("mql", 3)


MANAGER = Contact(first_name="Bo", last_name="K", email="bo@acme.io", phone="+1 555 0102", title="Engineering Manager")
OFF_ICP = Account(company="Acme", industry="retail", employees=20, country="US")


def test_score_40_to_59_with_criteria_met_goes_to_manager_review_never_routed():
    # influencer 10 + case study 15 + competitor comparison 25 (a high action) = 50
    intake = lead("gated_content", contact=MANAGER, account=OFF_ICP, events=[("competitor_comparison", NOW)])
    s = score_lead(P, intake, NOW)
    assert s.points == 50
    assert decide_inquiry(P, intake, s).to_stage == "manager_review"


def test_score_40_to_59_without_intent_stays_in_nurture():
    intake = lead("gated_content", account=Account(company="Acme", industry="retail", employees=300, country="US"))
    d = decide(intake)
    assert (d.to_stage, d.reasons) == ("inquiry", ("score 50", "missing behavioral intent"))


def test_low_score_stays_in_nurture():
    intake = lead("newsletter", contact=Contact(first_name="A", last_name="B", email="a@acme.io", phone="1",
                                                title="Analyst"))
    assert decide(intake).to_stage == "inquiry"


def test_competitor_domain_is_permanently_disqualified():
    intake = lead(contact=Contact(first_name="E", last_name="V", email="eve@rivalcorp.com", phone="1",
                                  title="VP Sales"))
    d = decide(intake)
    assert (d.to_stage, d.permanent, d.reasons) == ("disqualified", True, ("competitor_domain",))


def test_free_email_small_company_is_disqualified_but_larger_goes_to_data_hold():
    gmail = Contact(first_name="A", last_name="B", email="a@gmail.com", phone="1", title="VP Sales")
    small = decide(lead(contact=gmail, account=Account(company="Tiny", employees=4, country="US")))
    assert small.to_stage == "disqualified"
    larger = decide(lead(contact=gmail, account=Account(company="Big", employees=400, country="US")))
    assert (larger.to_stage, larger.reasons) == ("data_hold", ("personal email domain",))  # Q12


def test_missing_phone_holds_the_lead_instead_of_routing_garbage():
    d = decide(lead(contact=Contact(first_name="A", last_name="B", email="a@acme.io", title="VP Sales")))
    assert (d.to_stage, d.reasons) == ("data_hold", ("missing phone",))


def test_role_based_email_is_held():
    d = decide(lead(contact=Contact(first_name="A", last_name="B", email="info@acme.io", phone="1", title="VP")))
    assert "role-based email" in d.reasons


def test_existing_customer_is_routed_out():
    d = decide(lead(account=Account(company="Acme", employees=300, existing_customer=True)))
    assert d.to_stage == "routed_out"


def test_sub_10k_acv_goes_product_led():
    d = decide(lead("free_trial", acv=5_000))
    assert (d.to_stage, d.acv_tier) == ("plg", "lt_10k")


@pytest.mark.parametrize("acv,tier", [(None, "30k_75k"), (9_999, "lt_10k"), (10_000, "10k_30k"),
                                      (74_999.99, "30k_75k"), (75_000, "75k_200k"), (2_000_000, "200k_plus")])
def test_acv_tier_bands_are_half_open(acv, tier):
    assert decide(lead(acv=acv)).acv_tier == tier


def test_enough_points_but_stale_intent_is_not_an_mql_and_not_a_review():
    # 95 points once, but the demo request is 45 days old: no intent in the trailing 30 d.
    intake = lead(received=NOW - timedelta(days=45))
    d = decide(intake)
    assert (d.to_stage, d.event) == ("inquiry", "T02 nurture")
    assert "missing behavioral intent" in d.reasons
