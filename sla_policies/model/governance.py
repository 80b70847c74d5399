"""Pattern escalation, metrics, reviews, sign-off and defaults (docs/domain.md §11.2-§14)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import Field, model_validator

from sla_policies.model.base import AcvTierId, Collector, Positive, SnakeId, Strict
from sla_policies.model.cadences import Channel
from sla_policies.span import Span

Status = Literal["green", "amber", "red"]
Side = Literal["marketing", "sales", "joint"]

# The side that owns each §12.1 metric when a document does not say (documents written
# before sides existed, e.g. the policy a running lead pinned). A joint metric is shown to
# both sides and puts neither in breach (docs/domain.md §11.2, Q29: "that side's metrics").
DEFAULT_SIDES: dict[str, Side] = {
    "mql_response_tier1": "sales", "mql_response_tier2": "sales", "mql_live_contact_rate": "sales",
    "mql_to_sal_rate": "marketing", "sal_to_sql_rate": "sales", "sql_acceptance_rate": "sales",
    "sql_to_opp_rate": "sales", "mql_quality_rate": "marketing", "sla_breach_rate": "joint",
}


class PatternLevel(Strict):
    """§11.2: consecutive weeks in breach (Q29: any of a side's metrics red) -> level."""

    weeks: Positive
    level: str
    notify: list[str]  # roles
    action: str


class Metric(Strict):
    """An SLA metric (§12.1). `green` and `red` are the band edges; the edges themselves
    and everything between them are amber (Q30: exactly 95% quality is amber)."""

    id: SnakeId
    definition: str
    direction: Literal["higher_is_better", "lower_is_better"]
    green: float  # strictly better than this is green
    red: float  # strictly worse than this is red
    unit: str = "%"
    cadence: Literal["daily", "weekly", "monthly"]
    commitment: float | None = None  # a stated commitment, e.g. >=95% MQL quality
    side: Side = "joint"  # who owns it: a red week for this metric is that side's week in breach
    owner: str | None = None  # a named owner (role), e.g. an outcome metric's

    @model_validator(mode="before")
    @classmethod
    def _default_side(cls, data):
        if isinstance(data, dict) and "side" not in data and data.get("id") in DEFAULT_SIDES:
            data = {**data, "side": DEFAULT_SIDES[data["id"]]}
        return data

    @model_validator(mode="after")
    def _ordered(self) -> Metric:
        problems = Collector()
        if self.direction == "higher_is_better" and self.red > self.green:
            problems.add("red", f"must not be above green ({self.green:g}) when higher is better")
        if self.direction == "lower_is_better" and self.red < self.green:
            problems.add("red", f"must not be below green ({self.green:g}) when lower is better")
        problems.raise_if_any()
        return self

    def _better(self, a: float, b: float) -> bool:
        return a > b if self.direction == "higher_is_better" else a < b

    def status(self, value: float) -> Status:
        if self._better(value, self.green):
            return "green"
        if self._better(self.red, value):
            return "red"
        return "amber"


class TrackedMetric(Strict):
    """A figure tracked without a band (§12.1 "also tracked"): shown per rep, team and
    side with its numerator, denominator and period, never red, never on the ladder."""

    id: SnakeId
    definition: str
    side: Side
    unit: str = "%"
    owner: str | None = None  # the named owner (role) of an outcome metric


class Review(Strict):
    """A meeting or report of §12.4."""

    id: SnakeId
    cadence: str
    who: list[str]  # roles
    content: str
    duration_min: Positive | None = None


class Diagnostic(Strict):
    """§13 "first 30 d diagnostic, not performance management": for the first `days` days
    of a version (from its effective date, company timezone) breaches are recorded and
    shown, but the escalation ladder stops at its first step (the owner's manager)."""

    enabled: bool = False
    days: Annotated[int, Field(ge=1, le=366)] = 30

    def window(self, effective: date, timezone: str) -> tuple[datetime, datetime] | None:
        """[start, end) of the diagnostic period, or None when the option is off."""
        if not self.enabled:
            return None
        start = datetime.combine(effective, time(0), tzinfo=ZoneInfo(timezone))
        return start, start + timedelta(days=self.days)


class Signoff(Strict):
    """§13: who owns and who signs each definition; the arbiter settles disputes."""

    mql_definition: list[str]  # owner first, then signers
    sql_definition: list[str]
    arbiter: str = "ceo"


class Defaults(Strict):
    """§14 open-question defaults the engine needs as settings."""

    default_acv_tier: AcvTierId = "30k_75k"  # Q10: no estimate, no firmographic estimate
    default_disqualification_suppression: Span  # Q35: non-permanent disqualifications
    manager_promoted_tier: int = 3  # §4.1: a lead a manager promotes (T04) is tier 3
    first_attempt_channels: list[Channel] = ["phone", "email", "linkedin"]  # Q6
