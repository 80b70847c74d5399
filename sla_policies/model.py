"""The policy: the whole SLA of DOMAIN.md as one strict, versioned pydantic document.

Every model forbids unknown keys and is frozen. Names are DOMAIN.md's canonical ids, so
a window is `windows.sdr_response.tier1` here, in the YAML, in the API and in the
database alike. Cross-references (an escalation role, a signal a lead type scores as,
a reason code's path) are checked at the `Policy` level so that every error names its
path in the document.
"""

from __future__ import annotations

from datetime import date, time
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from sla_policies.span import Span

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
AcvTierId = Literal["lt_10k", "10k_30k", "30k_75k", "75k_200k", "200k_plus"]
Clock = Literal["business", "calendar", "gate", "event"]
ActionTier = Literal["fit", "high", "medium", "low", "decay", "negative"]
Stage = Literal[
    "inquiry", "mql", "sal", "sql", "opportunity",
    "recycled", "disqualified", "manager_review", "data_hold", "territory_hold", "routed_out", "plg",
]
PathTarget = Literal[
    "inquiry", "mql", "sal", "sql", "opportunity", "recycled", "disqualified", "manager_review",
    "data_hold", "territory_hold", "routed_out", "plg", "reroute", "reassign",
]
Positive = Annotated[int, Field(gt=0)]
Percent = Annotated[float, Field(ge=0, le=100)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _error(message: str) -> PydanticCustomError:
    return PydanticCustomError("policy", message)


# ------------------------------------------------------------------ calendars (§0, Q1, Q2, Q29)

class BusinessCalendarSpec(Strict):
    open: time = time(8, 0)
    close: time = time(18, 0)
    weekdays: list[Weekday] = ["mon", "tue", "wed", "thu", "fri"]
    holiday_country: str | None = None  # None: the prospect's country (Q2)
    holiday_subdivision: str | None = None
    extra_closed_dates: list[date] = []

    @model_validator(mode="after")
    def _check(self) -> "BusinessCalendarSpec":
        if not self.open < self.close:
            raise _error("open must be before close")
        if not self.weekdays:
            raise _error("weekdays must not be empty")
        if len(set(self.weekdays)) != len(self.weekdays):
            raise _error("weekdays must not repeat")
        return self


def _timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise _error(f"unknown IANA timezone {name!r}") from None
    return name


class Calendars(Strict):
    default: str = "default"
    named: dict[str, BusinessCalendarSpec]
    timezone_precedence: list[Literal["prospect", "territory", "owner"]] = ["prospect", "territory", "owner"]
    company_timezone: str = "America/New_York"
    fallback_timezone: str = "America/New_York"

    @field_validator("company_timezone", "fallback_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        return _timezone(value)

    @model_validator(mode="after")
    def _default_exists(self) -> "Calendars":
        if self.default not in self.named:
            raise _error(f"default calendar {self.default!r} is not in named")
        return self


# ------------------------------------------------------------------ scoring (§3.1, §3.5, Q8, Q9)

class Signal(Strict):
    id: str
    points: int
    action_tier: ActionTier
    tier1_trigger: bool = False
    persona_group: str | None = None  # one persona row only
    note: str | None = None


class DecayStep(Strict):
    after: Span
    total_points: int  # not cumulative: the deepest step reached replaces the others (Q8)


class Band(Strict):
    min: int
    max: int

    @model_validator(mode="after")
    def _ordered(self) -> "Band":
        if self.min > self.max:
            raise _error("min must not exceed max")
        return self


class Scoring(Strict):
    signals: list[Signal]
    repeat_window: Span
    decay: list[DecayStep]
    floor: int = 0
    mql_threshold: Annotated[int, Field(ge=0, le=200)] = 60
    manager_review: Band
    threshold_mode: Literal["global", "acv_tier"] = "global"
    latency_synchronous_for_handraises: bool = True
    tier_cutoffs_alt: dict[int, int] = {}  # [002] alternative: tier 1 >= 80, tier 2 >= 65

    @model_validator(mode="after")
    def _review_below_threshold(self) -> "Scoring":
        if self.manager_review.max >= self.mql_threshold:
            raise _error("manager_review.max must be below mql_threshold")
        return self


# ------------------------------------------------------------------ ACV tiers (§3.2, Q37)

class AcvTier(Strict):
    id: AcvTierId
    min_acv: Annotated[float, Field(ge=0)]
    max_acv: float | None  # half-open [min, max); None = open-ended
    mql_threshold: int
    threshold_range: tuple[int, int]
    expected_mql_to_sql: tuple[Percent, Percent]
    route_to: Literal["plg", "sdr", "sdr_with_ae", "ae_direct", "named_ae"]
    first_contact: Span | None = None  # Q37: first AE/SDR contact for demo requests
    handover_document: bool = False
    committee_min_contacts: Positive
    committee_requires_intent: bool = False


# ------------------------------------------------------------------ qualification (§3.3, §3.4, §3.6)

class Criterion(Strict):
    id: str
    rule: str
    required: bool = True
    source: str


class Disqualifier(Strict):
    id: str
    outcome: Literal["disqualified", "data_hold", "territory_hold"]
    permanent: bool = False
    suppression: Span | None = None
    reason_code: str | None = None
    source: str


class CommitteeEngaged(Strict):
    window: Span
    min_contacts: dict[AcvTierId, Positive]
    director_plus_required: bool = True
    mode: Literal["signal", "required"] = "signal"


class Qualification(Strict):
    criteria: list[Criterion]
    icp_fit_min: int = 60
    icp_industries: list[str]
    target_employees: Band
    recency: Span
    required_fields: list[Literal["first_name", "last_name", "company", "email", "phone"]]
    phone_waivable_for: list[str] = []
    economic_buyer_titles: list[str]
    influencer_titles: list[str]
    irrelevant_titles: list[str]
    disqualifiers: list[Disqualifier]
    competitor_domains: list[str] = []
    free_email_domains: list[str]
    role_based_localparts: list[str]
    excluded_industries: list[str] = []
    supported_countries: list[str]
    min_employees: int = 10
    enrichment_required_before_routing: bool = True
    enrichment_completeness_target_pct: Percent = 95
    committee_engaged: CommitteeEngaged


# ------------------------------------------------------------------ lead types and tiers (§4)

class LeadTypeSpec(Strict):
    routing: Span
    first_outreach: Span | None = None
    multiplier: Positive
    default_tier: Literal[1, 2, 3] | None = None  # None: by score
    to_sdr: bool = True
    handraise: bool = False
    routes_to_plg: bool = False
    scoring_signal: str | None = None
    high_intent_routing: bool = False


class LeadTierSpec(Strict):
    trigger: str
    alt_trigger: str | None = None
    min_medium_high_actions: int | None = None
    response_window: str
    cadence: str


class Routing(Strict):
    strategy: Literal["round_robin"] = "round_robin"
    capacity_capped: bool = True
    skip_unavailable: bool = True
    segment_keys: list[str]
    direct_to_ae_tiers: list[AcvTierId]
    reassignment_resets_clocks: bool = False  # Q26


# ------------------------------------------------------------------ windows (§5)

class AfterHoursRule(Strict):
    from_next_open: Span | None = None
    by_next_business_day_at: time | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> "AfterHoursRule":
        if (self.from_next_open is None) == (self.by_next_business_day_at is None):
            raise _error("give exactly one of from_next_open and by_next_business_day_at")
        return self


class EscalationStep(Strict):
    role: str
    after: Span | None = None  # delay after the breach (None: at the breach)
    reassign: bool = False
    proposed: bool = False


class Window(Strict):
    stage: str
    owner: str
    target: Span | None = None
    warning: Span | None = None
    breach: Span | None = None
    clock: Clock
    after_hours: AfterHoursRule | None = None
    escalation: list[EscalationStep] = []
    proposed: bool = False
    source: str = "[003]"
    note: str | None = None

    @model_validator(mode="after")
    def _check(self) -> "Window":
        if self.clock in ("business", "calendar"):
            if self.target is None and self.breach is None:
                raise _error(f"a {self.clock} window needs a target or a breach")
            if self.clock == "business":
                for span in (self.target, self.warning, self.breach):
                    if span is not None and span.unit.value in ("d", "mo"):
                        raise _error(f"{span}: calendar-day spans need clock: calendar")
        if self.target is not None and self.breach is not None and \
                self.breach.sort_key() < self.target.sort_key() and \
                self.breach.sort_key()[0] == self.target.sort_key()[0]:
            raise _error(f"breach ({self.breach}) must not be before target ({self.target})")
        if self.warning is not None and self.breach is not None and \
                self.warning.sort_key()[0] == self.breach.sort_key()[0] and \
                self.warning.sort_key() > self.breach.sort_key():
            raise _error(f"warning ({self.warning}) must not be after breach ({self.breach})")
        return self


class RoutingWindows(Strict):
    high_intent: Window
    standard: Window


class SdrResponseWindows(Strict):
    tier1: Window
    tier2: Window
    tier3: Window


class Windows(Strict):
    scoring_latency: Window
    enrichment_before_routing: Window
    routing: RoutingWindows
    sdr_notification: Window
    sdr_response: SdrResponseWindows
    sal_accept_after_first_attempt: Window
    sal_reject: Window
    sal_decision: Window
    activity_logging: Window
    sequence_enrollment: Window
    sal_resolution: Window
    post_call_follow_up: Window
    sql_completeness: Window
    briefing_doc: Window
    ae_notification: Window
    three_way_intro: Window
    ae_acceptance: Window
    opportunity_creation: Window
    ae_first_touch: Window
    internal_debrief: Window
    discovery_meeting: Window
    opp_next_step: Window
    opp_activity: Window
    opp_stage_age: Window
    # Alternative-policy windows ([002], [001]); absent in the default.
    lead_feedback: Window | None = None
    disposition: Window | None = None
    ae_acknowledgment: Window | None = None

    def items(self) -> list[tuple[str, Window]]:
        found: list[tuple[str, Window]] = []
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, Window):
                found.append((name, value))
            elif isinstance(value, BaseModel):
                found.extend((f"{name}.{sub}", getattr(value, sub)) for sub in type(value).model_fields)
        return found


# ------------------------------------------------------------------ cadences (§6)

class Touch(Strict):
    number: Positive
    day: Positive  # business day, day 1 = routing day (Q23)
    channel: Literal["phone", "email", "linkedin"]
    purpose: str


class CadenceFloor(Strict):
    min_attempts: Positive = 3
    min_channels: Positive = 2


class OnExhausted(Strict):
    path: Literal["recycled"] = "recycled"
    suppression: Span


class Cadence(Strict):
    attempts: Positive
    span: Span
    touches: list[Touch]
    recycle_at: Span
    on_exhausted: OnExhausted
    floor: CadenceFloor = CadenceFloor()

    @model_validator(mode="after")
    def _check(self) -> "Cadence":
        if len(self.touches) != self.attempts:
            raise _error(f"{len(self.touches)} touches listed for {self.attempts} attempts")
        days = [t.day for t in self.touches]
        if days != sorted(days):
            raise _error("touch days must not decrease")
        if self.span.unit.value == "bd" and days and days[-1] > self.span.amount:
            raise _error(f"touch on day {days[-1]} falls outside the {self.span} span")
        return self


# ------------------------------------------------------------------ reason codes (§7)

class ReasonCode(Strict):
    code: str
    reason: str
    path: PathTarget
    marketing_action: str | None = None
    required_action: str | None = None
    reviewer: str | None = None
    scope: Literal["contact", "company", "domain"] | None = None
    suppression: Span | None = None
    permanent: bool = False
    until_enriched: bool = False
    check_in: Span | None = None
    maps_to: list[str] = []
    voids_response_clock: bool = False


class ReasonCodes(Strict):
    active_mql_set: Literal["REJ", "R"] = "REJ"
    mql_rejection: list[ReasonCode]
    mql_rejection_alt: list[ReasonCode]
    sql_rejection: list[ReasonCode]
    sal_disposition: list[ReasonCode]
    disqualification: list[ReasonCode]

    def mql_codes(self) -> list[ReasonCode]:
        return self.mql_rejection if self.active_mql_set == "REJ" else self.mql_rejection_alt

    def by_code(self, code: str) -> ReasonCode | None:
        for group in (self.mql_rejection, self.mql_rejection_alt, self.sql_rejection,
                      self.sal_disposition, self.disqualification):
            for item in group:
                if item.code == code:
                    return item
        return None


# ------------------------------------------------------------------ SQL gate (§8)

class SqlGate(Strict):
    meddpic: dict[Literal["metrics", "economic_buyer", "decision_criteria", "decision_process",
                          "paper_process", "implicate_pain", "champion"],
                  Literal["required", "preferred", "optional"]]
    hard_requirements: list[Literal["meeting_booked", "pain_statement", "timeline", "meeting_link",
                                    "briefing_doc_complete"]]
    briefing_doc_fields: list[str]
    ae_requires_briefing_read: bool = True
    max_timeline_months: Positive = 12  # Q36: >= 12 months is not ready


# ------------------------------------------------------------------ opportunity (§9)

class OppStage(Strict):
    id: Literal["os1", "os2", "os3", "os4", "os5"]
    name: str
    definition: str
    max_age: Span
    next_action: str
    next_action_within: Span | None = None
    close_within: Span | None = None


class OppAlert(Strict):
    id: str
    condition: str
    alert_to: list[str]
    required_action: str
    deadline: Span


class Opportunity(Strict):
    stages: list[OppStage]
    alerts: list[OppAlert]
    no_next_step_after: Span
    zero_activity_after: Span
    acv_change_threshold_pct: Percent = 30
    close_date_push_limit: Positive = 2


# ------------------------------------------------------------------ recycling (§10)

class RecycleScenario(Strict):
    id: str
    outcome: str
    suppression: Span | None = None
    permanent: bool = False
    until_enriched: bool = False
    re_mql_trigger: str
    owner: str
    check_in: Span | None = None
    applies_minimum: bool = True  # counted against "never shorten the 90-d minimum"


class Recycling(Strict):
    minimum_suppression: Span
    tier1_handraise_overrides: bool = True  # Q14
    reactivated_counted_apart: bool = True
    scenarios: list[RecycleScenario]


# ------------------------------------------------------------------ escalation, metrics, reviews (§11-13)

class PatternLevel(Strict):
    weeks: Positive
    level: str
    notify: list[str]
    action: str


class Metric(Strict):
    id: str
    definition: str
    direction: Literal["higher_is_better", "lower_is_better"]
    green: float  # strictly better than this is green
    red: float  # strictly worse than this is red; the edges themselves are amber (Q30)
    cadence: Literal["daily", "weekly", "monthly"]
    commitment: float | None = None

    @model_validator(mode="after")
    def _ordered(self) -> "Metric":
        if self.direction == "higher_is_better" and self.red > self.green:
            raise _error("red must not be above green for a higher-is-better metric")
        if self.direction == "lower_is_better" and self.red < self.green:
            raise _error("red must not be below green for a lower-is-better metric")
        return self

    def status(self, value: float) -> Literal["green", "amber", "red"]:
        better = (lambda a, b: a > b) if self.direction == "higher_is_better" else (lambda a, b: a < b)
        if better(value, self.green):
            return "green"
        if better(self.red, value):
            return "red"
        return "amber"


class Review(Strict):
    id: str
    cadence: str
    who: list[str]
    content: str
    duration_min: Positive | None = None


class Signoff(Strict):
    mql_definition: list[str]
    sql_definition: list[str]
    arbiter: str = "ceo"


class Defaults(Strict):
    default_acv_tier: AcvTierId = "30k_75k"  # Q10
    default_disqualification_suppression: Span  # Q35
    first_attempt_channels: list[Literal["phone", "email", "linkedin"]] = ["phone", "email", "linkedin"]


# ------------------------------------------------------------------ the policy

class Policy(Strict):
    version: Annotated[str, Field(pattern=r"^[0-9A-Za-z][0-9A-Za-z._-]{0,63}$")]
    effective_date: date
    title: str
    changes: list[str] = []
    signoff: Signoff
    roles: list[str]
    calendars: Calendars
    scoring: Scoring
    acv_tiers: list[AcvTier]
    qualification: Qualification
    lead_types: dict[str, LeadTypeSpec]
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
    reviews: list[Review] = []
    defaults: Defaults

    def window(self, window_id: str) -> Window:
        found = dict(self.windows.items()).get(window_id)
        if found is None:
            raise KeyError(f"unknown window {window_id!r}")
        return found

    def window_ids(self) -> list[str]:
        return [name for name, _ in self.windows.items()]

    def acv_tier(self, tier_id: str) -> AcvTier:
        return next(t for t in self.acv_tiers if t.id == tier_id)

    @model_validator(mode="after")
    def _cross_references(self) -> "Policy":
        problems = cross_reference_problems(self.model_dump(mode="json"))
        if problems:
            raise CrossReferenceErrors(problems)
        return self


def _span_key(value: object) -> tuple[int, float] | None:
    try:
        return Span.parse(value).sort_key() if isinstance(value, str) else None
    except ValueError:
        return None


def _items(value: object) -> list[tuple[int, dict]]:
    return [(i, v) for i, v in enumerate(value) if isinstance(v, dict)] if isinstance(value, list) else []


def _mapping(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def cross_reference_problems(data: dict) -> list[tuple[str, str]]:
    """Every reference inside a policy document resolves (roles, signals, windows,
    cadences, unique codes, minimum suppression, contiguous ACV tiers).

    Works on the raw document, defensively, so the loader can report these problems
    together with field errors instead of one round of fixes at a time."""
    problems: list[tuple[str, str]] = []
    roles = set(data.get("roles") or []) if isinstance(data.get("roles"), list) else set()
    windows = _mapping(data.get("windows"))
    flat: dict[str, dict] = {}
    for name, value in windows.items():
        value = _mapping(value)
        if "clock" in value:
            flat[name] = value
        else:
            flat.update({f"{name}.{sub}": _mapping(v) for sub, v in value.items()})
    for name, window in flat.items():
        owner = window.get("owner")
        if isinstance(owner, str) and owner not in roles:
            problems.append((f"windows.{name}.owner", f"unknown role {owner!r}"))
        for i, step in _items(window.get("escalation")):
            role = step.get("role")
            if isinstance(role, str) and role not in roles:
                problems.append((f"windows.{name}.escalation[{i}].role", f"unknown role {role!r}"))
    scoring = _mapping(data.get("scoring"))
    signals: set[str] = set()
    for i, signal in _items(scoring.get("signals")):
        sid = signal.get("id")
        if sid in signals:
            problems.append((f"scoring.signals[{i}].id", f"duplicate signal {sid!r}"))
        signals.add(sid)
    for lt_id, lt in _mapping(data.get("lead_types")).items():
        ref = _mapping(lt).get("scoring_signal")
        if isinstance(ref, str) and ref not in signals:
            problems.append((f"lead_types.{lt_id}.scoring_signal", f"unknown signal {ref!r}"))
    cadences = _mapping(data.get("cadences"))
    for tier, spec in _mapping(data.get("lead_tiers")).items():
        spec = _mapping(spec)
        if isinstance(spec.get("response_window"), str) and spec["response_window"] not in flat:
            problems.append((f"lead_tiers.{tier}.response_window", f"unknown window {spec['response_window']!r}"))
        if isinstance(spec.get("cadence"), str) and spec["cadence"] not in cadences:
            problems.append((f"lead_tiers.{tier}.cadence", f"unknown cadence {spec['cadence']!r}"))
    codes = _mapping(data.get("reason_codes"))
    seen: dict[str, str] = {}
    for group in ("mql_rejection", "mql_rejection_alt", "sql_rejection", "sal_disposition", "disqualification"):
        for i, item in _items(codes.get(group)):
            code, path = item.get("code"), f"reason_codes.{group}[{i}].code"
            if code in seen:
                problems.append((path, f"duplicate code {code} (also at {seen[code]})"))
            elif isinstance(code, str):
                seen[code] = path
            reviewer = item.get("reviewer")
            if isinstance(reviewer, str) and reviewer not in roles:
                problems.append((f"reason_codes.{group}[{i}].reviewer", f"unknown role {reviewer!r}"))
    for i, alert in _items(_mapping(data.get("opportunity")).get("alerts")):
        for j, role in enumerate(alert.get("alert_to") or []):
            if role not in roles:
                problems.append((f"opportunity.alerts[{i}].alert_to[{j}]", f"unknown role {role!r}"))
    for i, level in _items(data.get("pattern_escalation")):
        for j, role in enumerate(level.get("notify") or []):
            if role not in roles:
                problems.append((f"pattern_escalation[{i}].notify[{j}]", f"unknown role {role!r}"))
    recycling = _mapping(data.get("recycling"))
    minimum = _span_key(recycling.get("minimum_suppression"))
    if minimum is not None:
        def too_short(value: object) -> bool:
            key = _span_key(value)
            return key is not None and key[0] == minimum[0] and key < minimum

        for i, scenario in _items(recycling.get("scenarios")):
            if scenario.get("applies_minimum", True) and too_short(scenario.get("suppression")):
                problems.append((f"recycling.scenarios[{i}].suppression",
                                 f"{scenario['suppression']} is shorter than the minimum {recycling['minimum_suppression']}"))
        for cadence_id, cadence in cadences.items():
            suppression = _mapping(_mapping(cadence).get("on_exhausted")).get("suppression")
            if too_short(suppression):
                problems.append((f"cadences.{cadence_id}.on_exhausted.suppression",
                                 f"{suppression} is shorter than the minimum {recycling['minimum_suppression']}"))
    tiers = sorted((t for _, t in _items(data.get("acv_tiers")) if isinstance(t.get("min_acv"), (int, float))),
                   key=lambda t: t["min_acv"])
    for prev, nxt in zip(tiers, tiers[1:]):
        if prev.get("max_acv") != nxt["min_acv"]:
            problems.append(("acv_tiers", f"{prev.get('id')} ends at {prev.get('max_acv')} but {nxt.get('id')} starts at {nxt['min_acv']}"))
    return problems


class CrossReferenceErrors(ValueError):
    """Several path-precise problems found after the fields themselves validated."""

    def __init__(self, problems: list[tuple[str, str]]):
        super().__init__("; ".join(f"{p}: {m}" for p, m in problems))
        self.problems = problems
