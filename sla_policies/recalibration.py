"""The quarterly recalibration assistant (docs/domain.md §12.5, §13, Q30): per ACV tier,
the last 12 weeks of MQL → SQL → opportunity → won against the 12 weeks before; a tier
whose MQL→SQL rate shifted by 25% or more (relative: new/old − 1) is flagged, and a
policy draft is proposed for it with the evidence behind it.

Pure: it reads lead records (the read model's, or a simulation's) and the policy, and
returns data. Running the proposal through the simulator on the quarter's own leads is
`handoff/simulate/whatif.py` (its figures: `recalibration_whatif.py`).

Why the proposal is a threshold: the MQL→SQL rate of a tier moves when the leads handed
over are better or worse than the bar assumes. A falling rate says the bar lets through
leads sales cannot use (raise the tier's MQL threshold, within its policy range); a
rising rate says the bar keeps out leads sales would take (lower it, within range). The
top rejection codes of the tier are the evidence a reviewer reads beside the numbers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from sla_policies.diff import FieldChange, diff_policies
from sla_policies.model import Policy
from sla_policies.qualification import mql_threshold
from sla_policies.records import LeadRecord
from sla_policies.scorecard import Period, entered

STAGES = ("mql", "sql", "opportunity", "closed_won")
SHIFT_FLAG = 0.25  # Q30: a relative shift of 25% or more
THRESHOLD_STEP = 5  # points per proposal, never outside the tier's threshold_range
WEEKS = 12


class Quarter(BaseModel):
    label: str  # "2026Q4"
    current: Period  # the 12 weeks that end with the quarter
    prior: Period  # the 12 weeks before them


def quarter(label: str, timezone: str) -> Quarter:
    """"2026Q4" -> its last 12 full weeks (ending the Monday after the quarter's last
    day, company timezone) and the 12 weeks before. ValueError naming the form otherwise."""
    try:
        year_text, q_text = label.upper().split("Q")
        year, q = int(year_text), int(q_text)
        if not (1970 <= year <= 9998 and 1 <= q <= 4):
            raise ValueError
    except ValueError:
        raise ValueError(f"quarter {label!r}: use YYYYQn, e.g. 2026Q4") from None
    last_day = (date(year + (q == 4), 1 if q == 4 else 3 * q + 1, 1) - timedelta(days=1))
    end_day = last_day + timedelta(days=7 - last_day.weekday())  # the Monday after the last week
    zone = ZoneInfo(timezone)
    end = datetime.combine(end_day, time(0), tzinfo=zone)
    middle = datetime.combine(end_day - timedelta(weeks=WEEKS), time(0), tzinfo=zone)
    start = datetime.combine(end_day - timedelta(weeks=2 * WEEKS), time(0), tzinfo=zone)
    return Quarter(label=f"{year}Q{q}", current=Period(start=middle, end=end), prior=Period(start=start, end=middle))


class Funnel(BaseModel):
    """Leads that became MQL in the period, and how many of them reached each later stage."""

    reached: dict[str, int]

    def rate(self, a: str, b: str) -> float | None:
        return round(100.0 * self.reached[b] / self.reached[a], 2) if self.reached[a] else None


class TierReview(BaseModel):
    acv_tier: str
    current: Funnel
    prior: Funnel
    mql_to_sql_shift: float | None  # relative, new/old - 1; None without a prior rate
    flagged: bool
    top_rejections: dict[str, int]  # code -> count, the tier's 12-week pattern
    won_by_lead_type: dict[str, int]  # criteria against closed-won: which hand-raises won


class Proposal(BaseModel):
    acv_tier: str
    change: FieldChange
    why: str  # the evidence, in words
    expected: Literal["up", "down"]  # where the evidence says the tier's MQL→SQL rate should go with it


class Recalibration(BaseModel):
    quarter: Quarter
    policy_version: str
    tiers: list[TierReview]
    proposals: list[Proposal]
    draft: Policy | None  # the policy with every proposal applied, as a new draft version


def funnel(records: list[LeadRecord], period: Period) -> Funnel:
    cohort = [r for r in records if entered(r, "mql") in period]
    return Funnel(reached={s: sum(s == "mql" or entered(r, s) is not None for r in cohort) for s in STAGES})


def _acv(record: LeadRecord, policy: Policy) -> str:
    return record.acv_tier or policy.defaults.default_acv_tier


def review(policy: Policy, records: Iterable[LeadRecord], q: Quarter) -> list[TierReview]:
    records = list(records)
    reviews = []
    for tier in policy.acv_tiers:
        mine = [r for r in records if _acv(r, policy) == tier.id]
        now, before = funnel(mine, q.current), funnel(mine, q.prior)
        new, old = now.rate("mql", "sql"), before.rate("mql", "sql")
        shift = round(new / old - 1, 4) if new is not None and old else None
        rejections = Counter(t.reason_code for r in mine for t in r.transitions
                             if t.reason_code and t.at in q.current and t.from_stage in ("mql", "sql"))
        won = Counter(r.lead_type for r in mine if (at := entered(r, "closed_won")) is not None and at in q.current)
        reviews.append(TierReview(acv_tier=tier.id, current=now, prior=before, mql_to_sql_shift=shift,
                                  flagged=shift is not None and abs(shift) >= SHIFT_FLAG,
                                  top_rejections=dict(rejections.most_common(3)),
                                  won_by_lead_type=dict(sorted(won.items()))))
    return reviews


def propose(policy: Policy, reviews: list[TierReview]) -> list[Proposal]:
    proposals = []
    for r in reviews:
        if not r.flagged or r.mql_to_sql_shift is None:
            continue
        tier = policy.acv_tier(r.acv_tier)
        low, high = tier.threshold_range
        step = THRESHOLD_STEP if r.mql_to_sql_shift < 0 else -THRESHOLD_STEP
        # The bar the tier's leads meet today: the global one unless per-tier thresholds apply.
        current = mql_threshold(policy, r.acv_tier)
        target = min(high, max(low, current + step))
        old_rate, new_rate = r.prior.rate("mql", "sql"), r.current.rate("mql", "sql")
        now, before = r.current.reached, r.prior.reached
        evidence = (f"MQL→SQL {'fell' if step > 0 else 'rose'} from {old_rate}% ({before['sql']} of "
                    f"{before['mql']}) to {new_rate}% ({now['sql']} of {now['mql']}),"
                    f" {r.mql_to_sql_shift:+.0%} relative")
        if r.top_rejections:
            evidence += "; top rejections " + ", ".join(f"{c} ({n})" for c, n in r.top_rejections.items())
        if (target - current) * step <= 0:
            continue  # already at (or past) the end of its range: the criteria need a person, not a number
        proposals.append(Proposal(
            acv_tier=r.acv_tier, why=evidence, expected="up" if step > 0 else "down",
            change=FieldChange(path=f"acv_tiers[id={r.acv_tier}].mql_threshold", old=current, new=target)))
    return proposals


def draft(policy: Policy, proposals: list[Proposal], version: str) -> Policy | None:
    """`policy` with the proposals applied under `version` (per-tier thresholds then apply:
    threshold_mode acv_tier), and its change list saying why. Switching from one global
    threshold, every other tier keeps the global bar where its range allows (the nearest
    end of its range otherwise, listed as a change): a draft for one tier must not quietly
    move the others to thresholds nobody proposed."""
    if not proposals:
        return None
    document = policy.model_dump(mode="json")
    thresholds = {p.acv_tier: p.change.new for p in proposals}
    for tier in document["acv_tiers"]:
        if tier["id"] in thresholds:
            tier["mql_threshold"] = thresholds[tier["id"]]
    changes = [f"{p.acv_tier}: MQL threshold {p.change.old} -> {p.change.new} because {p.why}" for p in proposals]
    if document["scoring"]["threshold_mode"] != "acv_tier":
        # A tier's own bar only applies per tier: every ACV tier's threshold now counts.
        document["scoring"]["threshold_mode"] = "acv_tier"
        changes.append("scoring.threshold_mode global -> acv_tier: each ACV tier's own MQL threshold applies")
        bar = policy.scoring.mql_threshold
        for tier in document["acv_tiers"]:
            if tier["id"] in thresholds:
                continue
            low, high = tier["threshold_range"]
            tier["mql_threshold"] = min(high, max(low, bar))
            if tier["mql_threshold"] != bar:
                changes.append(f"{tier['id']}: MQL threshold {bar} (global) -> {tier['mql_threshold']}, the nearest"
                               f" end of its range {low}-{high}")
    document["version"] = version
    document["changes"] = changes
    return Policy.model_validate(document)


def recalibrate(policy: Policy, records: Iterable[LeadRecord], q: Quarter, draft_version: str) -> Recalibration:
    reviews = review(policy, records, q)
    proposals = propose(policy, reviews)
    return Recalibration(quarter=q, policy_version=policy.version, tiers=reviews, proposals=proposals,
                         draft=draft(policy, proposals, draft_version))


__all__ = ["Quarter", "Recalibration", "TierReview", "Proposal", "Funnel", "quarter", "recalibrate", "review",
           "propose", "draft", "funnel", "diff_policies"]
