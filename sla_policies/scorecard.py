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
from collections.abc import Iterable
from datetime import datetime
from itertools import pairwise

from pydantic import BaseModel

from sla_policies.commitment_rules import COMMITMENT_RULES
from sla_policies.facts import Period, entered, iso_week
from sla_policies.measure import Ctx, Measure, Rule
from sla_policies.model import Policy
from sla_policies.model.governance import Metric, Side, Status, TrackedMetric
from sla_policies.records import ClockRecord, LeadRecord
from sla_policies.rules import LIVE_OUTCOMES, SLA_RULES
from sla_policies.rules import on_target as _on_target
from sla_policies.rules import target_decided as _target_decided
from sla_policies.tracked_rules import TRACKED_RULES

__all__ = [
    "ComplianceRow", "FunnelRow", "LIVE_OUTCOMES", "MetricResult", "Period", "RejectionCell", "RejectionPattern",
    "RejectionReport", "Scorecard", "SideVerdict", "compliance", "entered", "funnel", "iso_week", "rejection_report",
    "scorecard", "METRICS", "SIDES",
]

FUNNEL_STAGES = ("inquiry", "mql", "sal", "sql", "opportunity", "closed_won")  # won: the recalibration needs it
SEGMENTS = ("source", "acv_tier", "tier", "lead_type")
SIDES: tuple[Side, ...] = ("marketing", "sales")


# ---------------------------------------------------------------- facts per lead
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


# ---------------------------------------------------------------- the scorecard
class MetricResult(BaseModel):
    """One metric over the period: `value` = numerator / denominator (x100 for a rate),
    `period` the population's window. `value` and `status` are None when there is
    nothing to measure (zero denominator); `status` also while the figure cannot be judged
    yet (`note` says why) and always for a tracked figure (no band). `pending` counts the
    leads whose window is still open and that no one decided yet: not in the denominator."""

    id: str
    definition: str
    side: Side = "joint"
    owner: str | None = None
    tracked: bool = False
    direction: str | None
    unit: str
    cadence: str | None
    value: float | None
    numerator: int
    denominator: int
    pending: int = 0
    period: Period | None = None
    target: float | None  # the green edge: strictly better is green
    red: float | None  # strictly worse is red; between (edges included) is amber
    commitment: float | None = None
    status: Status | None
    breakdown: dict[str, tuple[int, int]] = {}  # e.g. by lead source: (numerator, denominator)
    note: str | None = None


class SideVerdict(BaseModel):
    """Q29: a side's week is in breach when any of that side's metrics is red."""

    side: Side
    in_breach: bool
    red: list[str]  # the side's red metric ids
    judged: int  # the side's metrics with a status


class Scorecard(BaseModel):
    policy_version: str
    period: Period
    as_of: datetime
    leads: int
    metrics: list[MetricResult]  # the rated metrics of the policy (of one side, when asked)
    tracked: list[MetricResult] = []  # the tracked figures (no band)
    sides: list[SideVerdict] = []
    # The period overlaps the version's diagnostic first days (§13): read it as a diagnosis,
    # not as performance management.
    diagnostic: bool = False

    def metric(self, metric_id: str) -> MetricResult:
        return next(m for m in [*self.metrics, *self.tracked] if m.id == metric_id)


Ratio = tuple[int, int]
RULES: dict[str, Rule] = {**SLA_RULES, **COMMITMENT_RULES}
METRICS = RULES
"""How each rated metric id (§12.1, §12.3) is computed; a policy metric not listed here is
reported without a value (and says so) rather than left out."""


def _value(measure: Measure) -> float | None:
    if not measure.denominator:
        return None
    return round(measure.scale * measure.numerator / measure.denominator, 2)


def _note(measure: Measure) -> str | None:
    if measure.note:
        return measure.note
    if not measure.denominator:
        return "nothing to measure in this period" + (f" ({measure.pending} pending)" if measure.pending else "")
    return measure.unjudged


def rated(metric: Metric, measure: Measure | None, period: Period) -> MetricResult:
    measure = measure or Measure(0, 0, note="no rule for this metric id in sla_policies.scorecard.METRICS")
    value = _value(measure)
    status = metric.status(value) if value is not None and measure.unjudged is None else None
    return MetricResult(id=metric.id, definition=metric.definition, side=metric.side, owner=metric.owner,
                        direction=metric.direction, unit=metric.unit, cadence=metric.cadence, value=value,
                        numerator=measure.numerator, denominator=measure.denominator, pending=measure.pending,
                        period=measure.period or period, target=metric.green, red=metric.red,
                        commitment=metric.commitment, status=status, breakdown=measure.breakdown,
                        note=_note(measure))


def tracked(figure: TrackedMetric, measure: Measure | None, period: Period) -> MetricResult:
    measure = measure or Measure(0, 0, note="no rule for this figure id in sla_policies.tracked_rules")
    return MetricResult(id=figure.id, definition=figure.definition, side=figure.side, owner=figure.owner,
                        tracked=True, direction=None, unit=figure.unit, cadence=None, value=_value(measure),
                        numerator=measure.numerator, denominator=measure.denominator, pending=measure.pending,
                        period=measure.period or period, target=None, red=None, status=None,
                        breakdown=measure.breakdown, note=_note(measure))


def verdicts(metrics: list[MetricResult]) -> list[SideVerdict]:
    """Each side's week: in breach when any of its rated metrics is red (joint ones count for neither)."""
    found = []
    for side in SIDES:
        own = [m for m in metrics if m.side == side and not m.tracked]
        red = [m.id for m in own if m.status == "red"]
        found.append(SideVerdict(side=side, in_breach=bool(red), red=red,
                                 judged=sum(m.status is not None for m in own)))
    return found


def _shown(side: Side | None, roles: frozenset[str] | None):
    """Which metrics a card shows: a side's own and the joint ones; a rep's by role."""
    def keep(metric_side: Side, rule: Rule | None) -> bool:
        if side is not None and metric_side not in (side, "joint"):
            return False
        return roles is None or (rule is not None and bool(rule.roles & roles))
    return keep


def measure_all(policy: Policy, records: list[LeadRecord], period: Period, as_of: datetime, *,
                side: Side | None = None, segment: str = "all",
                roles: frozenset[str] | None = None) -> tuple[list[MetricResult], list[MetricResult]]:
    """The rated metrics and the tracked figures for one population (the whole company, a
    segment, a rep or a team: `roles` keeps the metrics about that kind of rep)."""
    ctx = Ctx(policy=policy, records=records, period=period, as_of=as_of, segment=segment)
    keep = _shown(side, roles)
    metrics = [rated(m, RULES[m.id].measure(ctx) if m.id in RULES else None, period)
               for m in policy.metrics if keep(m.side, RULES.get(m.id) if roles is not None else None)]
    figures = [tracked(f, TRACKED_RULES[f.id].measure(ctx) if f.id in TRACKED_RULES else None, period)
               for f in policy.tracked if keep(f.side, TRACKED_RULES.get(f.id) if roles is not None else None)]
    return metrics, figures


def scorecard(policy: Policy, records: Iterable[LeadRecord], period: Period,
              as_of: datetime | None = None, side: Side | None = None) -> Scorecard:
    """Every metric of `policy.metrics` (of one side, if given), in the policy's order, over
    `period`, with the tracked figures and each side's verdict for the period."""
    records = list(records)
    as_of = as_of or period.end
    metrics, figures = measure_all(policy, records, period, as_of, side=side)
    leads = sum(r.created_at in period for r in records)
    window = policy.diagnostic.window(policy.effective_date, policy.calendars.company_timezone)
    diagnostic = window is not None and period.start < window[1] and window[0] < period.end
    return Scorecard(policy_version=policy.version, period=period, as_of=as_of, leads=leads, metrics=metrics,
                     tracked=figures, sides=[v for v in verdicts(metrics) if side in (None, v.side)],
                     diagnostic=diagnostic)


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
