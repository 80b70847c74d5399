"""The policy: the whole SLA of docs/domain.md as one strict, versioned document."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import Field, model_validator

from sla_policies.model.base import Problems, Strict
from sla_policies.model.cadences import Cadence
from sla_policies.model.calendars import Calendars
from sla_policies.model.codes import ReasonCodes
from sla_policies.model.commitments import Commitments
from sla_policies.model.governance import Defaults, Diagnostic, Metric, PatternLevel, Review, Signoff, TrackedMetric
from sla_policies.model.leads import LeadTierSpec, LeadTypeSpec, Routing
from sla_policies.model.pipeline import Opportunity, SqlGate
from sla_policies.model.qualification import AcvTier, Qualification
from sla_policies.model.recycling import Recycling
from sla_policies.model.references import cross_reference_problems
from sla_policies.model.scoring import Scoring
from sla_policies.model.transitions import TransitionRule, table_problems
from sla_policies.model.windows import Window, Windows


class CrossReferenceErrors(Problems):
    """Problems only the whole document shows; their paths are full document paths."""


class Policy(Strict):
    # Each change is a new dated version with a change list (§13); a lead pins the
    # version active at its ingest (Q25).
    version: Annotated[str, Field(pattern=r"^[0-9A-Za-z][0-9A-Za-z._-]{0,63}$")]  # e.g. 2026.11.0
    effective_date: date
    title: str
    changes: list[str] = []
    signoff: Signoff
    roles: list[str]  # every actor and escalation target the document may name
    calendars: Calendars
    scoring: Scoring
    acv_tiers: list[AcvTier]
    qualification: Qualification
    lead_types: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")], LeadTypeSpec]
    lead_tiers: dict[Annotated[int, Field(ge=1, le=3)], LeadTierSpec]
    routing: Routing
    windows: Windows
    cadences: dict[str, Cadence]
    reason_codes: ReasonCodes
    sql_gate: SqlGate
    opportunity: Opportunity
    recycling: Recycling
    pattern_escalation: list[PatternLevel]
    metrics: list[Metric]
    # §12.3; absent in documents older than the bilateral scorecard (their volume,
    # enrichment and speed commitments have no target and are reported as such).
    commitments: Commitments | None = None
    tracked: list[TrackedMetric] = []
    reviews: list[Review] = []
    diagnostic: Diagnostic = Diagnostic()  # off unless a version turns it on (§13)
    defaults: Defaults
    transitions: list[TransitionRule]  # §2: every stage change is one of these rules

    @model_validator(mode="after")
    def _cross_references(self) -> Policy:
        problems = cross_reference_problems(self.model_dump(mode="json"))
        problems += table_problems(self.transitions, self.roles)
        sal = {c.code for c in self.reason_codes.sal_disposition}
        for name in ("cadence_exhausted_code", "unsubscribe_code"):
            code = getattr(self.recycling, name)
            if code not in sal:
                problems.append((f"recycling.{name}", f"{code!r} is not a sal_disposition code"))
        if problems:
            raise CrossReferenceErrors(problems)
        return self

    # ------------------------------------------------------------------ lookups

    def window(self, window_id: str) -> Window:
        """A window by its docs/domain.md id, dotted for nested ones: "sdr_response.tier1"."""
        found = self.windows.get(window_id)
        if found is None:
            raise KeyError(f"unknown window {window_id!r}")
        return found

    def window_ids(self) -> list[str]:
        return [name for name, _ in self.windows.items()]

    def acv_tier(self, tier_id: str) -> AcvTier:
        for tier in self.acv_tiers:
            if tier.id == tier_id:
                return tier
        raise KeyError(f"unknown ACV tier {tier_id!r}")

    def acv_tier_for(self, acv: float) -> AcvTier:
        """The tier whose half-open band [min, max) holds an ACV amount."""
        return next(t for t in self.acv_tiers if t.contains(acv))

    def metric(self, metric_id: str) -> Metric:
        for metric in self.metrics:
            if metric.id == metric_id:
                return metric
        raise KeyError(f"unknown metric {metric_id!r}")
