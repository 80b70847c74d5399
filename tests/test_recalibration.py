"""The quarterly recalibration assistant on hand-built records: quarter boundaries, the
25% relative shift flag (Q30), the proposed threshold with its evidence, and the draft."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sla_policies.loader import default_policy
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
