"""Lead types, lead tiers and routing (docs/domain.md §4, §2 T11, Q21, Q26)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from sla_policies.model.base import AcvTierId, Collector, Positive, Strict
from sla_policies.span import Span


class LeadTypeSpec(Strict):
    """One row of §4.2: how fast a lead of this type is routed and first worked.

    The enforced first-attempt clock is the lead tier's `sdr_response` window ([003] gives
    every tier-1 hand-raise 5 min); `first_outreach` records [000]'s per-type value.
    """

    routing: Span  # for types that never reach an SDR: nurture placement time (Q15)
    first_outreach: Span | None = None
    # Q16 webinar: same day if attended (first_outreach), next day if a no-show.
    first_outreach_if_no_show: Span | None = None
    multiplier: Positive  # conversion multiple when the speed is met ([000]); informative
    default_tier: Literal[1, 2, 3] | None = None  # None: by score (§4.1)
    to_sdr: bool = True
    handraise: bool = False  # a tier-1 trigger that also overrides time-boxed suppression (Q14)
    routes_to_plg: bool = False  # free trial: PLG flow, SDR only on a product-qualified signal
    scoring_signal: str | None = None  # the scoring row this ingest counts as
    high_intent_routing: bool = False  # routing.high_intent (5 min) instead of routing.standard

    @model_validator(mode="after")
    def _check(self) -> LeadTypeSpec:
        problems = Collector()
        if not self.to_sdr:
            for name in ("first_outreach", "first_outreach_if_no_show", "default_tier"):
                if getattr(self, name) is not None:
                    problems.add(name, "a lead type that never reaches an SDR has none")
        if self.handraise and self.default_tier != 1:
            problems.add("default_tier", "a hand-raise is lead tier 1 (§4.1)")
        problems.raise_if_any()
        return self


class LeadTierSpec(Strict):
    """Urgency class of an MQL (§4.1): selects the response window and the cadence."""

    trigger: str
    alt_trigger: str | None = None  # [002] alternative
    min_medium_high_actions: Positive | None = None  # Q34: tier 2 is >=3 in 30 d
    response_window: str  # a window id, e.g. sdr_response.tier1
    cadence: str  # a cadence id


class Routing(Strict):
    strategy: Literal["round_robin"] = "round_robin"
    capacity_capped: bool = True
    skip_unavailable: bool = True  # Q26
    segment_keys: list[str]  # ICP segment, territory, availability, workload [000][004]
    # Q21: in these ACV tiers an AE takes the SDR's role and windows for L2-L4.
    direct_to_ae_tiers: list[AcvTierId]
    reassignment_resets_clocks: bool = False  # Q26: never
    # A lead in capacity_hold asks the roster again this often, in case no release woke it
    # (an absence that ended by itself, a lost wake-up): docs/domain.md T11.
    capacity_retry: Span = Field(default_factory=lambda: Span.parse("5m"))
