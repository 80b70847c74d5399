"""Reports from lead records (docs/domain.md §12): the SLA scorecard, the weekly rejection report,
the funnel by segment and per-window compliance. Pure: the same functions serve the read
model (`/v1/reports/*`), the simulator and tests.

Every report takes a `Period` (half-open, [start, end)) and an `as_of` instant: what had
happened by `as_of` is what counts, so a report over a running quarter does not count a
target as missed while it can still be met. Population rules:

- An MQL "of the period" is a lead whose first entry into `mql` falls in the period; the
  same for SAL, SQL and opportunity entries.
- A clock belongs to the period it started in.
- Rates are percentages; a rate with a zero denominator has no value and no status
  (nothing to judge), which is not the same as 0%.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from pydantic import BaseModel, model_validator

from sla_policies.model import Policy
from sla_policies.model.governance import Metric, Status
from sla_policies.records import ClockRecord, LeadRecord

__all__ = [
    "ComplianceRow", "FunnelRow", "MetricResult", "Period", "RejectionCell", "RejectionPattern", "RejectionReport",
    "Scorecard", "compliance", "funnel", "iso_week", "rejection_report", "scorecard", "METRICS",
]

FUNNEL_STAGES = ("inquiry", "mql", "sal", "sql", "opportunity", "closed_won")  # won: recalibration needs it
LIVE_OUTCOMES = frozenset({"connected", "replied", "meeting_booked"})  # "a real conversation"
SEGMENTS = ("source", "acv_tier", "tier", "lead_type")


class Period(BaseModel):
    start: datetime
    end: datetime

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        if self.end <= self.start:
            raise ValueError("a period ends after it starts")
        return self

    def __contains__(self, at: datetime | None) -> bool:
        return at is not None and self.start <= at < self.end


def iso_week(day: date, timezone: str) -> Period:
    """The ISO week (Monday 00:00, company timezone; Q29) that contains `day`."""
    monday = day - timedelta(days=day.weekday())
    zone = ZoneInfo(timezone)
    start = datetime.combine(monday, time(0), tzinfo=zone)
    return Period(start=start, end=datetime.combine(monday + timedelta(days=7), time(0), tzinfo=zone))


# ---------------------------------------------------------------- facts per lead
def entered(record: LeadRecord, stage: str) -> datetime | None:
    """When the lead first entered `stage` (None if never)."""
    return next((t.at for t in record.transitions if t.to_stage == stage and t.from_stage != stage), None)


def _source(record: LeadRecord) -> str:
    return record.source or record.lead_type


def _acv(record: LeadRecord, policy: Policy) -> str:
    return record.acv_tier or policy.defaults.default_acv_tier


def _segment(record: LeadRecord, by: str, policy: Policy) -> str:
    if by == "source":
        return _source(record)
    if by == "acv_tier":
        return _acv(record, policy)
    if by == "tier":
        return f"tier{record.tier}" if record.tier is not None else "untiered"
    if by == "lead_type":
        return record.lead_type
    raise ValueError(f"unknown segment {by!r}: use one of {', '.join(SEGMENTS)}")


def _on_target(clock: ClockRecord) -> bool:
    return clock.met_at is not None and (clock.due_at is None or clock.met_at <= clock.due_at)


def _target_decided(clock: ClockRecord, as_of: datetime) -> bool:
    """A clock's target has a verdict: met, or its due instant has passed unmet. Voided
    clocks have none (a coded rejection is marketing's miss, §5.3)."""
    if clock.met_at is not None and clock.met_at <= as_of:
        return True
    if clock.voided_at is not None and clock.voided_at <= as_of:
        return False
    return clock.due_at is not None and clock.due_at <= as_of


# ---------------------------------------------------------------- the scorecard
class MetricResult(BaseModel):
    """One metric of the policy over the period; `value` and `status` are None when there
    is nothing to measure (zero denominator) or the scorecard has no rule for the id."""

    id: str
    definition: str
    direction: str
    unit: str
    cadence: str
    value: float | None
    numerator: int
    denominator: int
    target: float  # the green edge: strictly better is green
    red: float  # strictly worse is red; between (edges included) is amber
    commitment: float | None = None
    status: Status | None
    note: str | None = None


class Scorecard(BaseModel):
    policy_version: str
    period: Period
    as_of: datetime
    leads: int
    metrics: list[MetricResult]

    def metric(self, metric_id: str) -> MetricResult:
        return next(m for m in self.metrics if m.id == metric_id)


Ratio = tuple[int, int]
Rule = Callable[[Policy, list[LeadRecord], Period, datetime], Ratio]


def _mqls(records: list[LeadRecord], period: Period, as_of: datetime) -> list[LeadRecord]:
    return [r for r in records if (at := entered(r, "mql")) is not None and at in period and at <= as_of]


def _response(tier: int) -> Rule:
    """% tier-N MQLs whose first attempt met the response target (Q5: targets, not breach)."""
    def rule(policy: Policy, records: list[LeadRecord], period: Period, as_of: datetime) -> Ratio:
        window = policy.lead_tiers[tier].response_window
        clocks = [c for r in records for c in r.clocks
                  if c.item == window and c.started_at in period and _target_decided(c, as_of)]
        return sum(_on_target(c) for c in clocks), len(clocks)
    return rule


def _live_contact(policy: Policy, records: list[LeadRecord], period: Period, as_of: datetime) -> Ratio:
    mqls = _mqls(records, period, as_of)
    live = sum(any(t.outcome in LIVE_OUTCOMES and t.at <= as_of for t in r.touches) for r in mqls)
    return live, len(mqls)


def _accepted_of(stage_from: str, stage_to: str) -> Rule:
    def rule(policy: Policy, records: list[LeadRecord], period: Period, as_of: datetime) -> Ratio:
        base = [r for r in records if (at := entered(r, stage_from)) is not None and at in period and at <= as_of]
        done = sum((at := entered(r, stage_to)) is not None and at <= as_of for r in base)
        return done, len(base)
    return rule


def _sql_acceptance(policy: Policy, records: list[LeadRecord], period: Period, as_of: datetime) -> Ratio:
    """% SQLs accepted by the AE within the `ae_acceptance` target (4 bh)."""
    sqls = [r for r in records if (at := entered(r, "sql")) is not None and at in period and at <= as_of]
    decided = on_time = 0
    for record in sqls:
        clock = next((c for c in record.clocks if c.item == "ae_acceptance"), None)
        if clock is None or not _target_decided(clock, as_of):
            continue
        decided += 1
        accepted = entered(record, "opportunity")
        on_time += accepted is not None and accepted <= as_of and (clock.due_at is None or accepted <= clock.due_at)
    return on_time, decided


def _mql_quality(policy: Policy, records: list[LeadRecord], period: Period, as_of: datetime) -> Ratio:
    """% of dispositioned MQLs the SDR did not reject with an MQL code (the inverse of the
    rejection rate; an MQL nobody decided on says nothing about marketing's quality)."""
    codes = {c.code for c in policy.reason_codes.mql_codes()}
    accepted = rejected = 0
    for record in _mqls(records, period, as_of):
        for t in record.transitions:
            if t.at > as_of or t.from_stage != "mql":
                continue
            if t.to_stage == "sal":
                accepted += 1
                break
            if t.reason_code in codes:
                rejected += 1
                break
    return accepted, accepted + rejected


def _breach_rate(policy: Policy, records: list[LeadRecord], period: Period, as_of: datetime) -> Ratio:
    """% leads with an SLA clock in the period that had >=1 breach (Q5: breach thresholds)."""
    clocked = [r for r in records if any(c.started_at in period and c.started_at <= as_of for c in r.clocks)]
    breached = sum(any(c.breached_at is not None and c.breached_at <= as_of for c in r.clocks) for r in clocked)
    return breached, len(clocked)


METRICS: dict[str, Rule] = {
    "mql_response_tier1": _response(1),
    "mql_response_tier2": _response(2),
    "mql_live_contact_rate": _live_contact,
    "mql_to_sal_rate": _accepted_of("mql", "sal"),
    "sal_to_sql_rate": _accepted_of("sal", "sql"),
    "sql_acceptance_rate": _sql_acceptance,
    "sql_to_opp_rate": _accepted_of("sql", "opportunity"),
    "mql_quality_rate": _mql_quality,
    "sla_breach_rate": _breach_rate,
}
"""How each metric id of docs/domain.md §12.1 is computed; a policy metric not listed here is
reported without a value (and says so) rather than left out."""


def _result(metric: Metric, ratio: Ratio | None) -> MetricResult:
    numerator, denominator = ratio or (0, 0)
    value = round(100.0 * numerator / denominator, 2) if denominator else None
    note = None
    if ratio is None:
        note = "no rule for this metric id in sla_policies.scorecard.METRICS"
    elif not denominator:
        note = "nothing to measure in this period"
    return MetricResult(id=metric.id, definition=metric.definition, direction=metric.direction, unit=metric.unit,
                        cadence=metric.cadence, value=value, numerator=numerator, denominator=denominator,
                        target=metric.green, red=metric.red, commitment=metric.commitment,
                        status=metric.status(value) if value is not None else None, note=note)


def scorecard(policy: Policy, records: Iterable[LeadRecord], period: Period,
              as_of: datetime | None = None) -> Scorecard:
    """Every metric of `policy.metrics`, in the policy's order, over `period`."""
    records = list(records)
    as_of = as_of or period.end
    metrics = []
    for metric in policy.metrics:
        rule = METRICS.get(metric.id)
        metrics.append(_result(metric, rule(policy, records, period, as_of) if rule else None))
    leads = sum(r.created_at in period for r in records)
    return Scorecard(policy_version=policy.version, period=period, as_of=as_of, leads=leads, metrics=metrics)


# ---------------------------------------------------------------- the rejection report
class RejectionCell(BaseModel):
    code: str
    handoff: str  # "mql" (SDR rejects, REJ/R codes) or "sql" (AE rejects, AE-REJ codes)
    source: str
    acv_tier: str
    count: int


class RejectionPattern(BaseModel):
    """A code from one lead source, with what the policy tells marketing to do about it."""

    code: str
    reason: str
    source: str
    count: int
    share: float  # % of all rejections of the period
    acv_tiers: dict[str, int]
    action: str | None  # the code's marketing_action (MQL codes) or required_action (SQL codes)


class RejectionReport(BaseModel):
    policy_version: str
    period: Period
    total: int
    by_code: dict[str, int]
    cells: list[RejectionCell]  # codes x lead source x ACV tier (§12.4)
    top_patterns: list[RejectionPattern]  # the three largest, for the Friday review


def rejection_report(policy: Policy, records: Iterable[LeadRecord], period: Period, top: int = 3) -> RejectionReport:
    """Rejections whose transition falls in `period` (usually `iso_week(...)`)."""
    mql_codes = {c.code for c in policy.reason_codes.mql_codes()}
    sql_codes = {c.code for c in policy.reason_codes.sql_rejection}
    cells: Counter[tuple[str, str, str, str]] = Counter()
    for record in records:
        for t in record.transitions:
            if t.at not in period or t.reason_code is None:
                continue
            if t.from_stage == "mql" and t.reason_code in mql_codes:
                handoff = "mql"
            elif t.from_stage == "sql" and t.reason_code in sql_codes:
                handoff = "sql"
            else:
                continue
            cells[(t.reason_code, handoff, _source(record), _acv(record, policy))] += 1
    total = sum(cells.values())
    by_code: Counter[str] = Counter()
    patterns: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for (code, _, source, acv), n in cells.items():
        by_code[code] += n
        patterns[(code, source)][acv] += n
    ranked = sorted(patterns.items(), key=lambda item: (-sum(item[1].values()), item[0]))[:top]
    top_patterns = []
    for (code, source), tiers in ranked:
        spec = policy.reason_codes.by_code(code)
        count = sum(tiers.values())
        top_patterns.append(RejectionPattern(
            code=code, reason=spec.reason if spec else code, source=source, count=count,
            share=round(100.0 * count / total, 2), acv_tiers=dict(sorted(tiers.items())),
            action=(spec.marketing_action or spec.required_action) if spec else None))
    return RejectionReport(
        policy_version=policy.version, period=period, total=total, by_code=dict(sorted(by_code.items())),
        cells=[RejectionCell(code=c, handoff=h, source=s, acv_tier=a, count=n)
               for (c, h, s, a), n in sorted(cells.items())],
        top_patterns=top_patterns)


# ---------------------------------------------------------------- the funnel
class FunnelRow(BaseModel):
    """One segment: how many of its leads (created in the period) reached each stage, how
    many sit in each stage now, and the stage-to-stage conversion rates (%)."""

    segment: str
    leads: int
    reached: dict[str, int]
    current: dict[str, int]
    conversion: dict[str, float | None]  # "mql_to_sal", ... None when nothing to convert


def funnel(policy: Policy, records: Iterable[LeadRecord], period: Period, by: str = "source") -> list[FunnelRow]:
    """Rows per segment value (`by`: source, acv_tier, tier or lead_type), then "all"."""
    created = [r for r in records if r.created_at in period]
    groups: dict[str, list[LeadRecord]] = defaultdict(list)
    for record in created:
        groups[_segment(record, by, policy)].append(record)
    rows = [_funnel_row(name, groups[name]) for name in sorted(groups)]
    rows.append(_funnel_row("all", created))
    return rows


def _funnel_row(segment: str, records: list[LeadRecord]) -> FunnelRow:
    reached = {stage: sum(stage == "inquiry" or entered(r, stage) is not None for r in records)
               for stage in FUNNEL_STAGES}
    conversion = {
        f"{a}_to_{b}": (round(100.0 * reached[b] / reached[a], 2) if reached[a] else None)
        for a, b in pairwise(FUNNEL_STAGES)
    }
    return FunnelRow(segment=segment, leads=len(records), reached=reached,
                     current=dict(sorted(Counter(r.stage for r in records).items())), conversion=conversion)


# ---------------------------------------------------------------- per-window compliance
class ComplianceRow(BaseModel):
    """The clocks of one window (and lead tier) started in the period."""

    item: str
    tier: int | None
    started: int
    met_on_target: int
    met_late: int
    missed_open: int  # target passed, still running at as_of
    breached: int
    escalated: int
    voided: int
    running: int  # target not yet due at as_of
    compliance: float | None  # % of decided targets met on time


def compliance(records: Iterable[LeadRecord], period: Period, as_of: datetime | None = None) -> list[ComplianceRow]:
    as_of = as_of or period.end
    groups: dict[tuple[str, int | None], list[ClockRecord]] = defaultdict(list)
    for record in records:
        for clock in record.clocks:
            if clock.started_at in period:
                groups[(clock.item, clock.tier)].append(clock)
    rows = []
    for (item, tier), clocks in sorted(groups.items(), key=lambda g: (g[0][0], g[0][1] or 0)):
        met = [c for c in clocks if c.met_at is not None and c.met_at <= as_of]
        on_target = sum(_on_target(c) for c in met)
        met_ids = {id(c) for c in met}
        decided = [c for c in clocks if _target_decided(c, as_of)]
        voided = sum(c.voided_at is not None and c.voided_at <= as_of and c.met_at is None for c in clocks)
        missed_open = sum(id(c) not in met_ids and c.voided_at is None and c.due_at is not None and c.due_at <= as_of
                          for c in clocks)
        rows.append(ComplianceRow(
            item=item, tier=tier, started=len(clocks), met_on_target=on_target, met_late=len(met) - on_target,
            missed_open=missed_open,
            breached=sum(c.breached_at is not None and c.breached_at <= as_of for c in clocks),
            escalated=sum(any(e.at <= as_of for e in c.escalated_to) for c in clocks),
            voided=voided, running=len(clocks) - len(decided) - voided,
            compliance=round(100.0 * on_target / len(decided), 2) if decided else None))
    return rows
