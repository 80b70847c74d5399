"""The quarterly recalibration assistant on hand-built records: quarter boundaries, the
25% relative shift flag (Q30), the proposed threshold with its evidence, and the draft."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sla_policies.loader import default_policy
from sla_policies.model import Policy
from sla_policies.recalibration import quarter, recalibrate
from sla_policies.records import LeadRecord, TransitionRecord

Q4 = quarter("2026Q4", "America/New_York")


def lead(lead_id: str, acv_tier: str, mql_at: datetime, path: list[str], code: str | None = None) -> LeadRecord:
    transitions = [TransitionRecord(lead_id=lead_id, at=mql_at, from_stage="inquiry", to_stage="mql",
                                    event="T05", actor="system")]
    at, stage = mql_at, "mql"
    for to in path:
        at += timedelta(days=3)
        transitions.append(TransitionRecord(lead_id=lead_id, at=at, from_stage=stage, to_stage=to, event="x",
                                            actor="rep", reason_code=code if to == "recycled" else None))
        stage = to
    return LeadRecord(lead_id=lead_id, lead_type="demo_request", policy_version="2026.11.0", stage=stage,
                      acv_tier=acv_tier, created_at=mql_at, updated_at=at, transitions=transitions)


def cohort(prefix: str, acv_tier: str, start: datetime, total: int, to_sql: int, won: int = 0) -> list[LeadRecord]:
    leads = []
    for i in range(total):
        at = start + timedelta(days=i % 50, hours=3)
        if i < won:
            path = ["sal", "sql", "opportunity", "closed_won"]
        elif i < to_sql:
            path = ["sal", "sql"]
        else:
            path = ["recycled"]
        leads.append(lead(f"{prefix}-{i}", acv_tier, at, path, code="REJ-01"))
    return leads


def test_a_quarter_is_its_last_twelve_weeks_and_the_twelve_before():
    assert (Q4.current.start.date().isoformat(), Q4.current.end.date().isoformat()) == ("2026-10-12", "2027-01-04")
    assert (Q4.prior.start.date().isoformat(), Q4.prior.end.date().isoformat()) == ("2026-07-20", "2026-10-12")
    with pytest.raises(ValueError, match="use YYYYQn"):
        quarter("2026Q5", "UTC")


def test_the_tier_whose_mql_to_sql_fell_by_a_quarter_or_more_is_flagged_with_a_higher_threshold():
    before, now = datetime(2026, 7, 21, tzinfo=UTC), datetime(2026, 10, 13, tzinfo=UTC)
    records = (cohort("a-old", "30k_75k", before, 50, 20) + cohort("a-new", "30k_75k", now, 50, 10, won=4)
               + cohort("b-old", "10k_30k", before, 40, 10) + cohort("b-new", "10k_30k", now, 40, 9))
    result = recalibrate(default_policy(), records, Q4, draft_version="2027.1.0")
    tiers = {t.acv_tier: t for t in result.tiers}
    mid = tiers["30k_75k"]
    assert (mid.prior.reached["sql"], mid.current.reached["sql"], mid.current.reached["closed_won"]) == (20, 10, 4)
    assert (mid.mql_to_sql_shift, mid.flagged) == (-0.5, True)
    assert (tiers["10k_30k"].mql_to_sql_shift, tiers["10k_30k"].flagged) == (-0.1, False)
    assert tiers["lt_10k"].mql_to_sql_shift is None and not tiers["lt_10k"].flagged  # nothing to compare
    assert mid.top_rejections == {"REJ-01": 40} and mid.won_by_lead_type == {"demo_request": 4}

    (proposal,) = result.proposals
    assert (proposal.change.path, proposal.change.old, proposal.change.new) == \
        ("acv_tiers[id=30k_75k].mql_threshold", 60, 65)
    assert proposal.why == "MQL→SQL fell from 40.0% (20 of 50) to 20.0% (10 of 50), -50% relative; " \
                           "top rejections REJ-01 (40)"
    draft = result.draft
    assert draft is not None and draft.version == "2027.1.0"
    assert draft.acv_tier("30k_75k").mql_threshold == 65 and draft.scoring.threshold_mode == "acv_tier"
    assert draft.changes[0].startswith("30k_75k: MQL threshold 60 -> 65 because MQL→SQL fell")
    assert draft.changes[1].startswith("scoring.threshold_mode global -> acv_tier")


def test_a_rising_rate_proposes_a_lower_threshold_but_never_below_its_range():
    before, now = datetime(2026, 7, 21, tzinfo=UTC), datetime(2026, 10, 13, tzinfo=UTC)
    records = cohort("c-old", "75k_200k", before, 40, 8) + cohort("c-new", "75k_200k", now, 40, 16)
    result = recalibrate(default_policy(), records, Q4, draft_version="2027.1.1")
    (tier,) = [t for t in result.tiers if t.flagged]
    assert (tier.acv_tier, tier.mql_to_sql_shift) == ("75k_200k", 1.0)
    assert result.proposals == [] and result.draft is None  # 70 is the low end of [70, 85]


def test_nothing_flagged_means_no_draft():
    result = recalibrate(default_policy(), [], Q4, draft_version="2027.1.2")
    assert not any(t.flagged for t in result.tiers) and result.draft is None


def test_a_proposal_starts_from_the_bar_the_tiers_leads_meet_today_and_the_draft_moves_no_other_tier_needlessly():
    """Under one global threshold (60) a tier's own `mql_threshold` is not in force: the
    proposal starts from 60, and the per-tier draft keeps the other tiers at 60 where their
    range allows (the nearest end of it otherwise, in the change list)."""
    before, now = datetime(2026, 7, 21, tzinfo=UTC), datetime(2026, 10, 13, tzinfo=UTC)
    records = cohort("d-old", "10k_30k", before, 40, 20) + cohort("d-new", "10k_30k", now, 40, 10)
    policy = default_policy()
    assert policy.scoring.threshold_mode == "global" and policy.acv_tier("10k_30k").mql_threshold == 50
    result = recalibrate(policy, records, Q4, draft_version="2027.1.3")
    (proposal,) = result.proposals
    assert (proposal.change.old, proposal.change.new, proposal.expected) == (60, 65, "up")
    draft = result.draft
    assert draft is not None
    thresholds = {t.id: t.mql_threshold for t in draft.acv_tiers}
    assert thresholds == {"lt_10k": 50, "10k_30k": 65, "30k_75k": 60, "75k_200k": 70, "200k_plus": 80}
    assert [c.split(":")[0] for c in draft.changes[2:]] == ["lt_10k", "75k_200k", "200k_plus"]
    assert "nearest end of its range 35-50" in draft.changes[2]


def test_a_rising_rate_expects_the_rate_to_fall_with_a_lower_threshold():
    before, now = datetime(2026, 7, 21, tzinfo=UTC), datetime(2026, 10, 13, tzinfo=UTC)
    records = cohort("e-old", "30k_75k", before, 40, 8) + cohort("e-new", "30k_75k", now, 40, 16)
    document = default_policy().model_dump(mode="json")
    document["scoring"]["threshold_mode"] = "acv_tier"
    document["acv_tiers"][2]["mql_threshold"] = 70  # 30k_75k
    per_tier = Policy.model_validate(document)
    (proposal,) = recalibrate(per_tier, records, Q4, draft_version="2027.1.4").proposals
    assert (proposal.acv_tier, proposal.change.old, proposal.change.new, proposal.expected) == \
        ("30k_75k", 70, 65, "down")
