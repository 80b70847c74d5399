"""Scoring (§3.1, Q8) and the inquiry decision (§2 T02-T10, §3.3-3.4, §4.1)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sla_policies.lead import Account, Contact, EngagementEvent, LeadIntake
from sla_policies.loader import default_policy
from sla_policies.qualification import decide_inquiry
from sla_policies.scoring import icp_fit, score_lead

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


# On the ICP by size and region (fit 40 + 20 = 60/100), not by industry.
SIZE_ONLY = Account(company="Acme", industry="retail", employees=300, country="US")


def test_score_40_to_59_with_criteria_met_goes_to_manager_review_never_routed():
    # an import scores by its events: size 15 + influencer 10 + competitor comparison 25 (a high action) = 50
    intake = lead("import", contact=MANAGER, account=SIZE_ONLY, events=[("competitor_comparison", NOW)])
    s = score_lead(P, intake, NOW)
    assert s.points == 50
    assert decide_inquiry(P, intake, s).to_stage == "manager_review"


def test_icp_fit_score_adds_the_points_of_each_met_fact():
    assert (icp_fit(P, lead()).points, icp_fit(P, lead()).met) == (100, ("industry", "company_size", "region"))
    assert icp_fit(P, lead(account=SIZE_ONLY)).points == 60
    assert icp_fit(P, lead(account=OFF_ICP)).points == 20
    # Unknown firmographics are not known to fit.
    assert icp_fit(P, lead(account=Account(company="Acme", country="US"))).points == 20


def test_a_lead_outside_the_icp_is_no_mql_whatever_its_points():
    # Retail with 20 people: ICP fit 20/100 < 60. A VP's demo request still scores 60 (20 + 40),
    # but the icp_fit criterion (docs/domain.md §3.3) fails: nurture, and no manager review either.
    intake = lead(account=OFF_ICP, events=[("pricing_form", NOW - timedelta(days=8))])
    d = decide(intake)
    assert score_lead(P, intake, NOW).points == 20 + 40 + 35
    assert (d.to_stage, d.reasons) == ("inquiry", ("score 95", "missing ICP fit"))
    review_band = lead("import", contact=MANAGER, account=OFF_ICP, events=[("competitor_comparison", NOW),
                                                                         ("product_pages", NOW)])
    assert score_lead(P, review_band, NOW).points == 45
    assert decide(review_band).to_stage == "inquiry"


def test_the_target_industry_alone_meets_the_icp_with_a_supported_region():
    tiny_software = Account(company="Acme", industry="software", employees=20, country="US")
    assert decide(lead(account=tiny_software)).to_stage == "mql"  # 20 + 20 + 40 = 80, fit 40 + 20


def test_an_unsubscribe_takes_50_points_and_is_not_activity():
    later = NOW + timedelta(days=10)
    intake = lead(events=[("email_unsubscribe", later)])
    s = score_lead(P, intake, later)
    assert s.points == 95 - 50
    assert ("email_unsubscribe", -50) in [(line.signal, line.points) for line in s.lines]
    # Decay counts from the last interest shown (the demo request), not from the unsubscribe.
    assert s.last_activity_at == NOW
    assert s.changes_at == NOW + timedelta(days=30)


def test_the_next_decay_step_is_when_the_score_next_changes_by_itself():
    intake = lead("gated_content", events=[("webinar_attended", NOW + timedelta(hours=2))])
    last = NOW + timedelta(hours=2)
    assert score_lead(P, intake, NOW + timedelta(hours=3)).changes_at == last + timedelta(days=30)
    just_before = last + timedelta(days=30) - timedelta(milliseconds=1)
    assert score_lead(P, intake, just_before).changes_at == last + timedelta(days=30)
    at_30 = score_lead(P, intake, last + timedelta(days=30))
    assert (at_30.points, at_30.changes_at) == (95 - 40 + 15 + 15 - 10, last + timedelta(days=60))
    at_60 = score_lead(P, intake, last + timedelta(days=60))
    assert (at_60.points, at_60.changes_at) == (95 - 40 + 15 + 15 - 20, None)


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
