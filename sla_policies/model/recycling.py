"""Recycling and suppression (docs/domain.md §10, Q14, Q35)."""

from __future__ import annotations

from pydantic import model_validator

from sla_policies.model.base import Collector, SnakeId, Strict
from sla_policies.span import Span


class RecycleScenario(Strict):
    id: SnakeId
    outcome: str
    suppression: Span | None = None
    permanent: bool = False
    until_enriched: bool = False
    re_mql_trigger: str
    owner: str  # role
    check_in: Span | None = None
    # False for scenarios that are not a wait at all (wrong buyer, data cleanup, existing
    # customer); every other suppression is held to Recycling.minimum_suppression.
    applies_minimum: bool = True

    @model_validator(mode="after")
    def _check(self) -> RecycleScenario:
        problems = Collector()
        given = [name for name in ("suppression", "permanent", "until_enriched") if getattr(self, name)]
        if len(given) > 1:
            problems.add(given[1], f"give only one of suppression, permanent and until_enriched (also {given[0]})")
        problems.raise_if_any()
        return self


class Recycling(Strict):
    minimum_suppression: Span  # "never shorten the 90-d minimum" [003]
    tier1_handraise_overrides: bool = True  # Q14: a hand-raise ends 90-d / 6-month waits, never permanent ones
    reactivated_counted_apart: bool = True  # [004]: reactivated leads are not net-new MQLs
    scenarios: list[RecycleScenario]
    # The SAL disposition codes the engine applies by itself (sal_disposition set):
    cadence_exhausted_code: str = "SAL-CADENCE-EXHAUSTED"  # T15 (§6.4)
    unsubscribe_code: str = "SAL-UNSUBSCRIBED"  # T27 (Q17)
    # Touch outcomes that count as the prospect answering: T15 needs none of them (§6.4).
    reply_outcomes: list[str] = ["connected", "replied", "meeting_booked"]
