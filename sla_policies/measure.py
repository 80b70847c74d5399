"""What a metric rule gets and gives. A rule sees the policy, the records, the period,
the `as_of` instant and the segment it is computed for, and answers a `Measure`: a
numerator over a denominator, plus the leads still pending (docs/domain.md §12: a rate
counts a lead only once its window has closed or the lead was decided)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sla_policies.facts import Period
from sla_policies.model import Policy
from sla_policies.records import LeadRecord

SDR, AE = "sdr", "ae"


@dataclass(frozen=True)
class Ctx:
    policy: Policy
    records: list[LeadRecord]
    period: Period
    as_of: datetime
    segment: str = "all"  # "all", "tier1".."tier3", "region:<r>", or "rep"/"team" for people's cards

    @property
    def running(self) -> bool:
        return self.as_of < self.period.end


@dataclass(frozen=True)
class Measure:
    numerator: int
    denominator: int
    pending: int = 0
    scale: float = 100.0  # value = scale * numerator / denominator (1 for a mean)
    breakdown: dict[str, tuple[int, int]] = field(default_factory=dict)
    period: Period | None = None  # the population's window when it is not the report's
    unjudged: str | None = None  # a reason the value has no status yet (e.g. the period still runs)
    note: str | None = None


@dataclass(frozen=True)
class Rule:
    measure: Callable[[Ctx], Measure]
    roles: frozenset[str] = frozenset()  # the reps it is shown per (empty: side and segment only)


def ratio(hits: int, decided: int, pending: int = 0, **extra) -> Measure:
    return Measure(hits, decided, pending, **extra)
