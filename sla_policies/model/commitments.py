"""What each side of the SLA commits to (docs/domain.md §12.3). The rated metrics that
judge these commitments (bands, side) live in `metrics`; this part holds the targets and
spans those metrics need: MQL volume per segment and region, the enrichment fields, the
routing and disposition spans, the touch floor and the lag of the per-SDR SQL->opportunity
figure (§12.1 "also tracked")."""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import Field

from sla_policies.model.base import Percent, Positive, Strict
from sla_policies.span import Span

EnrichmentField = Literal["employees", "industry", "annual_revenue"]  # size, industry, revenue
VolumeSegment = Annotated[str, Field(pattern=r"^(all|tier[123])$")]


class VolumeTarget(Strict):
    """MQLs a month (and a week) for one segment, and the share the SDRs should accept."""

    per_month: Positive
    # The template's own arithmetic: 400 a month is 100 a week (docs/domain.md §12.3).
    per_week: Positive | None = None
    acceptance: Percent | None = None  # >= this % accepted by the SDRs

    def weekly(self) -> float:
        return self.per_week if self.per_week is not None else self.per_month / 4

    def for_period(self, days: float, whole_months: int | None) -> int:
        """The target of a period: whole calendar months at the monthly figure, anything
        else at the weekly figure per 7 days (rounded up: a target is never rounded away)."""
        if whole_months:
            return self.per_month * whole_months
        return max(1, math.ceil(self.weekly() * days / 7 - 1e-9))


class Commitments(Strict):
    mql_volume: dict[VolumeSegment, VolumeTarget]  # "all", "tier1", "tier2"
    regions: dict[Annotated[str, Field(min_length=1, max_length=64)], VolumeTarget] = {}  # account.region
    enrichment_fields: list[EnrichmentField] = ["employees", "industry", "annual_revenue"]
    routing_within: Span = Span.parse("5m")  # of MQL status, system timestamps
    disposition_within: Span = Span.parse("48h")  # sales: every MQL accepted or rejected
    touch_floor: Positive = 6  # touches ...
    touch_floor_within: Span = Span.parse("21d")  # ... within this span of routing
    sql_to_opp_after: Span = Span.parse("28d")  # per-SDR SQL->opportunity, measured 4-6 weeks
    sql_to_opp_until: Span = Span.parse("42d")  # after SQL creation
