"""Who may become an MQL (docs/domain.md §3.2 ACV tiers, §3.3 criteria, §3.4 disqualifiers,
§3.6 Committee-Engaged, Q10-Q13)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from sla_policies.model.base import (
    AcvTierId,
    Band,
    Collector,
    CountryCode,
    Percent,
    Positive,
    Problems,
    SnakeId,
    Strict,
    duplicates,
)
from sla_policies.span import Span


class AcvTier(Strict):
    """One expected-contract-value band, half-open [min_acv, max_acv) (§3.2)."""

    id: AcvTierId
    min_acv: Annotated[float, Field(ge=0)]
    max_acv: float | None  # None: open-ended (200k_plus)
    mql_threshold: int  # the suggested value: the range's lower bound
    threshold_range: tuple[int, int]
    expected_mql_to_sql: tuple[Percent, Percent]  # percent, low-high
    route_to: Literal["plg", "sdr", "sdr_with_ae", "ae_direct", "named_ae"]
    # Q37: the per-tier 5/5/15/30-min "SLA" of [000] is the first contact; routing stays 5 min.
    first_contact: Span | None = None
    handover_document: bool = False
    # §3.6 suggested Committee-Engaged minimum for this tier, and whether an active
    # intent-platform signal is also needed (strategic tiers).
    committee_min_contacts: Positive
    committee_requires_intent: bool = False

    @model_validator(mode="after")
    def _check(self) -> AcvTier:
        problems = Collector()
        if self.max_acv is not None and self.max_acv <= self.min_acv:
            problems.add("max_acv", f"must be above min_acv ({self.min_acv:g})")
        low, high = self.threshold_range
        if low > high:
            problems.add("threshold_range", "low end must not exceed high end")
        elif not low <= self.mql_threshold <= high:
            problems.add("mql_threshold", f"must lie within threshold_range [{low}, {high}]")
        if self.expected_mql_to_sql[0] > self.expected_mql_to_sql[1]:
            problems.add("expected_mql_to_sql", "low end must not exceed high end")
        problems.raise_if_any()
        return self

    def contains(self, acv: float) -> bool:
        return self.min_acv <= acv and (self.max_acv is None or acv < self.max_acv)


class Criterion(Strict):
    """A mandatory MQL entry criterion (§3.3); `required: false` marks an alternative."""

    id: SnakeId
    rule: str
    required: bool = True
    source: str


class Disqualifier(Strict):
    """An automatic disqualifier (§3.4): overrides any score."""

    id: SnakeId
    outcome: Literal["disqualified", "data_hold", "territory_hold"]
    permanent: bool = False
    suppression: Span | None = None  # None with permanent: never eligible again
    reason_code: str | None = None  # the code recorded on the lead, when one fits
    source: str

    @model_validator(mode="after")
    def _check(self) -> Disqualifier:
        if self.permanent and self.suppression is not None:
            raise Problems([("suppression", "a permanent outcome has no suppression window")])
        return self


class CommitteeEngaged(Strict):
    """Account-level buying-committee signal (§3.6, Q13)."""

    window: Span  # rolling
    min_contacts: dict[AcvTierId, Positive]
    director_plus_required: bool = True
    # signal: computed and stored on the account (default [003]); required: an MQL gate ([001]).
    mode: Literal["signal", "required"] = "signal"


IcpFact = Literal["industry", "company_size", "region"]


class Qualification(Strict):
    criteria: list[Criterion]
    icp_fit_min: Annotated[int, Field(ge=0, le=100)] = 60
    # How the 0-100 ICP fit score is made (company-specific, not in the sources): the points
    # each met firmographic fact adds. The default asks a supported region and the target
    # industry or the target size (docs/domain.md §3.3).
    icp_fit_points: dict[IcpFact, Annotated[int, Field(ge=0, le=100)]] = {
        "industry": 40, "company_size": 40, "region": 20}
    # The ICP itself is company-specific (not in the sources): industries and size band.
    icp_industries: list[str]
    target_employees: Band
    recency: Span  # >=1 tracked engagement within it
    required_fields: list[Literal["first_name", "last_name", "company", "email", "phone"]]
    phone_waivable_for: list[Literal["plg", "lt_10k"]] = []  # Q11
    economic_buyer_titles: list[str]  # title keywords -> persona_economic_buyer
    influencer_titles: list[str]  # title keywords -> persona_influencer
    irrelevant_titles: list[str]  # title keywords -> irrelevant_title disqualifier
    disqualifiers: list[Disqualifier]
    competitor_domains: list[str] = []
    free_email_domains: list[str]
    role_based_localparts: list[str]  # info@, sales@ ... fail email validity
    excluded_industries: list[str] = []
    supported_countries: list[CountryCode]
    min_employees: Positive = 10  # free email AND fewer employees -> disqualified (§3.4)
    enrichment_required_before_routing: bool = True  # per lead: the enrichment gate
    enrichment_completeness_target_pct: Percent = 95  # aggregate data commitment [002]
    committee_engaged: CommitteeEngaged

    @model_validator(mode="after")
    def _check(self) -> Qualification:
        problems = Collector()
        for name in ("criteria", "disqualifiers"):
            items = getattr(self, name)
            for i in duplicates([x.id for x in items]):
                problems.add(f"{name}[{i}].id", f"duplicate id {items[i].id!r}")
        total = sum(self.icp_fit_points.values())
        if total > 100:
            problems.add("icp_fit_points", f"the points add up to {total}, above 100")
        elif total < self.icp_fit_min:
            problems.add("icp_fit_points", f"the points add up to {total}: no lead could reach icp_fit_min "
                                           f"({self.icp_fit_min})")
        for i in duplicates(self.required_fields):
            problems.add(f"required_fields[{i}]", f"{self.required_fields[i]} is listed twice")
        for name in ("competitor_domains", "free_email_domains"):
            for i, domain in enumerate(getattr(self, name)):
                if domain != domain.lower() or "@" in domain or "." not in domain:
                    problems.add(f"{name}[{i}]", f"{domain!r} is not a lower-case domain name")
        problems.raise_if_any()
        return self
