"""The what-if of a recalibration proposal (docs/domain.md §12.5): the same leads under the
current policy and under the proposal, measured the same way, side by side.

Pure: it takes the lead records of both replays (the simulator produces them, see
`handoff/simulate/whatif.py`) and returns data. The figures per ACV tier are the one the
proposal's evidence is about (MQL→SQL over the leads that became MQL in the quarter's 12
weeks) and the SLA metrics a threshold moves (SDR acceptance, first-response attainment
per lead tier, the breach rate), each from `sla_policies.scorecard` so that they mean
what they mean on the scorecard.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from sla_policies.facts import Period
from sla_policies.model import Policy
from sla_policies.recalibration import Funnel, funnel
from sla_policies.records import LeadRecord
from sla_policies.scorecard import scorecard

# The scorecard metrics shown beside MQL→SQL: what a threshold, a code or a speed window moves.
METRICS = ("mql_to_sal_rate", "mql_response_tier1", "mql_response_tier2", "sla_breach_rate")
Direction = Literal["up", "down", "flat"]


class Figure(BaseModel):
    """One metric of one tier in one run: the value and what it counts."""

    id: str
    value: float | None  # percent
    numerator: int
    denominator: int
    direction: str | None = None  # higher_is_better / lower_is_better (None: the evidence says)


class TierRun(BaseModel):
    acv_tier: str
    funnel: Funnel  # leads that became MQL in the 12 weeks, and how far they got
    mql_to_sql_rate: float | None
    figures: list[Figure]


class Side(BaseModel):
    """One policy's replay of the quarter's leads."""

    policy_version: str
    tiers: list[TierRun]
    refused: int  # recorded actions the policy made impossible (e.g. accepting a lead that is no MQL)
    unworked: int  # leads that became MQL here with no recorded disposition (nobody acted on them)

    def tier(self, acv_tier: str) -> TierRun:
        return next(t for t in self.tiers if t.acv_tier == acv_tier)


class WhatIf(BaseModel):
    """Current against proposed on one quarter's own leads."""

    acv_tier: str  # the tier the proposal is for
    leads: int  # leads replayed
    skipped: int  # leads of the quarter that could not be replayed (no stored state)
    approximations: list[str]  # what the replay could not reproduce exactly, with counts
    current: Side
    proposed: Side
    expected: Direction  # where the evidence says the tier's MQL→SQL rate should go
    moved: Direction  # where it went
    as_evidence_says: bool
    computed_at: datetime
    seconds: float  # both replays


def direction(before: float | None, after: float | None) -> Direction:
    if before is None or after is None or after == before:
        return "flat"
    return "up" if after > before else "down"


def side(policy: Policy, records: Iterable[LeadRecord], period: Period, *, as_of: datetime, refused: int,
         unworked: int) -> Side:
    records = list(records)
    tiers = []
    for tier in policy.acv_tiers:
        mine = [r for r in records if (r.acv_tier or policy.defaults.default_acv_tier) == tier.id]
        counted = funnel(mine, period)
        card = scorecard(policy, mine, period, as_of=as_of)
        by_id = {m.id: m for m in card.metrics}
        figures = [Figure(id=m, value=by_id[m].value, numerator=by_id[m].numerator,
                          denominator=by_id[m].denominator, direction=by_id[m].direction)
                   for m in METRICS if m in by_id]
        tiers.append(TierRun(acv_tier=tier.id, funnel=counted, mql_to_sql_rate=counted.rate("mql", "sql"),
                             figures=figures))
    return Side(policy_version=policy.version, tiers=tiers, refused=refused, unworked=unworked)


def what_if(acv_tier: str, expected: Direction, current: Side, proposed: Side, *, leads: int, skipped: int,
            approximations: list[str], computed_at: datetime, seconds: float) -> WhatIf:
    moved = direction(current.tier(acv_tier).mql_to_sql_rate, proposed.tier(acv_tier).mql_to_sql_rate)
    return WhatIf(acv_tier=acv_tier, leads=leads, skipped=skipped, approximations=approximations, current=current,
                  proposed=proposed, expected=expected, moved=moved, as_evidence_says=moved == expected != "flat",
                  computed_at=computed_at, seconds=round(seconds, 2))
