"""Where an inquiry goes (docs/domain.md §2 T02-T10, §3.3-3.4, §4.1): the pure decision.

Order matters and follows the sources: routing-out and automatic disqualifiers override
any score (§3.4); PLG and nurture-only lead types never reach an SDR; incomplete data
holds the lead instead of routing garbage (§3.3); only then does the score decide.
"""

from __future__ import annotations

from dataclasses import dataclass

from sla_policies.lead import LeadIntake
from sla_policies.model import Policy
from sla_policies.scoring import ScoreResult, icp_fit, persona_of


@dataclass(frozen=True)
class InquiryDecision:
    to_stage: str
    event: str  # transition id + name, as recorded in the lead's history
    acv_tier: str
    tier: int | None = None
    reason_code: str | None = None
    reasons: tuple[str, ...] = ()
    permanent: bool = False


def acv_tier_of(policy: Policy, intake: LeadIntake) -> str:
    """Q10: `acv_estimate` if given, else the policy's default tier."""
    if intake.acv_estimate is not None:
        for tier in policy.acv_tiers:
            if tier.min_acv <= intake.acv_estimate and (tier.max_acv is None or intake.acv_estimate < tier.max_acv):
                return tier.id
    return policy.defaults.default_acv_tier


def mql_threshold(policy: Policy, acv_tier: str) -> int:
    if policy.scoring.threshold_mode == "acv_tier":
        return next(t.mql_threshold for t in policy.acv_tiers if t.id == acv_tier)
    return policy.scoring.mql_threshold


def lead_tier(score: ScoreResult) -> int:
    """§4.1 default: hand-raise → 1; ≥3 medium/high actions in 30 d → 2; else 3."""
    if score.handraise:
        return 1
    if score.intent_actions_30d >= 3:
        return 2
    return 3


def disqualifier(policy: Policy, intake: LeadIntake) -> tuple[str, bool] | None:
    """(disqualifier id, permanent) of the first automatic disqualifier that applies."""
    q = policy.qualification
    domain = intake.email_domain() or ""
    by_id = {d.id: d for d in q.disqualifiers}

    def hit(dq_id: str) -> tuple[str, bool] | None:
        d = by_id.get(dq_id)
        return (d.id, d.permanent) if d is not None else None

    if domain and domain in {c.lower() for c in q.competitor_domains}:
        return hit("competitor_domain")
    title = (intake.contact.title or "").lower()
    if domain.endswith(".edu") or "student" in title:
        return hit("student_or_edu")
    employees = intake.account.employees
    free_email = domain in {d.lower() for d in q.free_email_domains}
    if free_email and employees is not None and employees < q.min_employees:
        return hit("free_email_small_company")
    if employees is not None and employees < q.min_employees:
        return hit("below_size")
    country = intake.account.country or intake.contact.country
    if country and q.supported_countries and country not in q.supported_countries:
        return hit("unsupported_region")
    industry = (intake.account.industry or "").lower()
    if industry and industry in {i.lower() for i in q.excluded_industries}:
        return hit("excluded_industry")
    if title and any(k in title for k in q.irrelevant_titles):
        return hit("irrelevant_title")
    return None


def data_problems(policy: Policy, intake: LeadIntake, acv_tier: str) -> list[str]:
    """§3.3 data completeness, email validity and business email (Q11, Q12)."""
    q = policy.qualification
    problems: list[str] = []
    values = {**intake.contact.model_dump(), "company": intake.account.company}
    for name in q.required_fields:
        if name == "phone" and acv_tier in q.phone_waivable_for:
            continue
        if not values.get(name):
            problems.append(f"missing {name}")
    email = intake.contact.email
    if email:
        local, _, domain = email.partition("@")
        if local in q.role_based_localparts:
            problems.append("role-based email")
        if domain in {d.lower() for d in q.free_email_domains}:
            problems.append("personal email domain")  # Q12: not permanent, fix and re-evaluate
    return problems


def decide_inquiry(policy: Policy, intake: LeadIntake, score: ScoreResult, *,
                   committee_engaged: bool | None = None) -> InquiryDecision:
    """`committee_engaged` is the account signal (§3.6); it gates MQL only when the policy
    selects the [001] alternative (`qualification.committee_engaged.mode: required`)."""
    acv_tier = acv_tier_of(policy, intake)
    account = intake.account
    if account.existing_customer or account.open_opportunity:
        return InquiryDecision("routed_out", "T09 existing_customer", acv_tier,
                               reasons=("existing customer or open opportunity",))

    dq = disqualifier(policy, intake)
    if dq is not None:
        dq_id, permanent = dq
        return InquiryDecision("disqualified", f"T06 auto_disqualified:{dq_id}", acv_tier,
                               reasons=(dq_id,), permanent=permanent)

    lead_type = policy.lead_types.get(intake.lead_type)
    acv = next(t for t in policy.acv_tiers if t.id == acv_tier)
    # T10: sub-$10K goes product-led; a free trial above it is sales-routed (tier 1, §4.2).
    if acv.route_to == "plg":
        return InquiryDecision("plg", "T10 product_led", acv_tier, reasons=(f"acv tier {acv_tier}",))

    problems = data_problems(policy, intake, acv_tier)
    if problems:
        return InquiryDecision("data_hold", "T07 data_incomplete", acv_tier, reasons=tuple(problems))

    if lead_type is not None and not lead_type.to_sdr:
        return InquiryDecision("inquiry", "T02 nurture", acv_tier, reasons=(f"{intake.lead_type} is nurture only",))

    threshold = mql_threshold(policy, acv_tier)
    review = policy.scoring.manager_review
    intent_met = score.high_actions_30d >= 1 or score.medium_actions_30d >= 3
    persona_met = persona_of(policy, intake.contact.title) is not None
    committee_ok = policy.qualification.committee_engaged.mode != "required" or bool(committee_engaged)
    # §3.3 icp_fit: a lead outside the ideal customer profile is no MQL whatever its points.
    icp_met = icp_fit(policy, intake).meets(policy)
    if score.points >= threshold and intent_met and persona_met and committee_ok and icp_met:
        return InquiryDecision("mql", "T05 mql_threshold_reached", acv_tier, tier=lead_tier(score),
                               reasons=(f"score {score.points} >= {threshold}",))
    missing = tuple(f"missing {name}" for name, ok in (("ICP fit", icp_met), ("behavioral intent", intent_met),
                                                       ("persona", persona_met),
                                                       ("committee-engaged account", committee_ok)) if not ok)
    if review.min <= score.points <= review.max and not missing:
        # T03: the 40-59 band goes to a manager when the other criteria are met (T04: the
        # manager may promote; the mandatory criteria still apply).
        return InquiryDecision("manager_review", "T03 manager_review", acv_tier,
                               reasons=(f"score {score.points}", *missing))
    if missing:
        # A mandatory criterion fails: not an MQL whatever the points; stays in nurture and
        # is rescored on each event (§3.3: every criterion is required).
        return InquiryDecision("inquiry", "T02 nurture", acv_tier, reasons=(f"score {score.points}", *missing))
    return InquiryDecision("inquiry", "T02 nurture", acv_tier, reasons=(f"score {score.points} < {review.min}",))
