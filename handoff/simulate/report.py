"""What a simulation says: the scorecard, rejection report, funnel and compliance of each
policy's run (`sla_policies.scorecard`), and where two policies differ. Written as
`report.json` and `report.html` (Jinja2) and printed as a summary table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from pydantic import BaseModel

from handoff.simulate.driver import Refused, RunResult
from sla_policies.model import Policy
from sla_policies.scorecard import (
    ComplianceRow,
    FunnelRow,
    Period,
    RejectionReport,
    Scorecard,
    compliance,
    funnel,
    iso_week,
    rejection_report,
    scorecard,
)


class WeekOfRejections(BaseModel):
    week_start: datetime
    total: int
    by_code: dict[str, int]


class PolicyRun(BaseModel):
    policy_version: str
    leads: int
    actions: int
    refused: list[Refused]
    seconds: float
    leads_per_second: float
    scorecard: Scorecard
    rejections: RejectionReport  # over the whole run
    rejections_by_week: list[WeekOfRejections]  # the weekly report's trend (ISO weeks, company timezone)
    funnel_by_source: list[FunnelRow]
    funnel_by_acv_tier: list[FunnelRow]
    compliance: list[ComplianceRow]


class MetricDifference(BaseModel):
    id: str
    base: float | None
    other: float | None
    delta: float | None  # other - base, percentage points
    base_status: str | None
    other_status: str | None
    better: bool | None  # the other policy does better on this metric (by its direction)


class Comparison(BaseModel):
    base: str
    other: str
    metrics: list[MetricDifference]
    rejections_by_code: dict[str, tuple[int, int]]  # code -> (base, other), only where they differ
    compliance: list[tuple[str, int | None, float | None, float | None]]  # item, tier, base %, other %


class SimulationReport(BaseModel):
    period: Period
    seed: int | None
    runs: list[PolicyRun]
    comparison: Comparison | None = None


def report_period(result: RunResult) -> Period:
    """From the first arrival's UTC midnight to the end of the run."""
    start = result.start.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return Period(start=start, end=max(result.end, start + timedelta(seconds=1)))


def policy_run(policy: Policy, result: RunResult, period: Period) -> PolicyRun:
    records = result.records
    return PolicyRun(
        policy_version=policy.version, leads=result.leads, actions=result.actions, refused=result.refused,
        seconds=round(result.seconds, 2),
        leads_per_second=round(result.leads / result.seconds, 2) if result.seconds else 0.0,
        scorecard=scorecard(policy, records, period, as_of=result.end),
        rejections=rejection_report(policy, records, period),
        rejections_by_week=_weekly(policy, records, period),
        funnel_by_source=funnel(policy, records, period, by="source"),
        funnel_by_acv_tier=funnel(policy, records, period, by="acv_tier"),
        compliance=compliance(records, period, as_of=result.end),
    )


def _weekly(policy: Policy, records: list, period: Period) -> list[WeekOfRejections]:
    weeks = []
    week = iso_week(period.start.astimezone(ZoneInfo(policy.calendars.company_timezone)).date(),
                    policy.calendars.company_timezone)
    while week.start < period.end:
        found = rejection_report(policy, records, week, top=0)
        weeks.append(WeekOfRejections(week_start=week.start, total=found.total, by_code=found.by_code))
        week = Period(start=week.end, end=week.end + timedelta(days=7))
    return weeks


def compare(base: PolicyRun, other: PolicyRun) -> Comparison:
    metrics = []
    others = {m.id: m for m in other.scorecard.metrics}
    for m in base.scorecard.metrics:
        o = others.get(m.id)
        ov = o.value if o else None
        delta = round(ov - m.value, 2) if ov is not None and m.value is not None else None
        better = None
        if delta:
            better = delta > 0 if m.direction == "higher_is_better" else delta < 0
        metrics.append(MetricDifference(id=m.id, base=m.value, other=ov, delta=delta, base_status=m.status,
                                        other_status=o.status if o else None, better=better))
    codes = sorted(set(base.rejections.by_code) | set(other.rejections.by_code))
    rejections = {c: (base.rejections.by_code.get(c, 0), other.rejections.by_code.get(c, 0)) for c in codes
                  if base.rejections.by_code.get(c, 0) != other.rejections.by_code.get(c, 0)}
    theirs = {(r.item, r.tier): r.compliance for r in other.compliance}
    rows = []
    for r in base.compliance:
        o = theirs.get((r.item, r.tier))
        if o != r.compliance:
            rows.append((r.item, r.tier, r.compliance, o))
    return Comparison(base=base.policy_version, other=other.policy_version, metrics=metrics,
                      rejections_by_code=rejections, compliance=rows)


def build_report(runs: list[tuple[Policy, RunResult]], seed: int | None) -> SimulationReport:
    period = report_period(runs[0][1])
    made = [policy_run(policy, result, period) for policy, result in runs]
    return SimulationReport(period=period, seed=seed, runs=made,
                            comparison=compare(made[0], made[1]) if len(made) == 2 else None)


_env = Environment(loader=PackageLoader("handoff.simulate", "templates"), autoescape=select_autoescape(["html", "j2"]),
                   undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}%"


_env.filters["pct"] = _pct


def write_report(out: Path, report: SimulationReport) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(report.model_dump_json(indent=2, by_alias=True) + "\n")
    (out / "report.html").write_text(_env.get_template("report.html.j2").render(report=report))


def summary_table(report: SimulationReport) -> str:
    """The printed summary: one row per metric, one column per policy (and the delta)."""
    runs = report.runs
    head = ["metric"] + [f"{r.policy_version}" for r in runs] + (["delta"] if report.comparison else [])
    rows = [head]
    for i, metric in enumerate(runs[0].scorecard.metrics):
        cells = [metric.id]
        for run in runs:
            m = run.scorecard.metrics[i] if i < len(run.scorecard.metrics) else None
            cells.append(f"{_pct(m.value)} {m.status or 'n/a'}" if m else "–")
        if report.comparison:
            delta = report.comparison.metrics[i].delta
            cells.append("" if delta is None else f"{delta:+.1f} pp")
        rows.append(cells)
    rows.append(["rejections"] + [str(r.rejections.total) for r in runs] + ([""] if report.comparison else []))
    rows.append(["leads (actions, refused)"] + [f"{r.leads} ({r.actions}, {len(r.refused)})" for r in runs]
                + ([""] if report.comparison else []))
    rows.append(["run seconds (leads/s)"] + [f"{r.seconds:.1f} ({r.leads_per_second:.1f})" for r in runs]
                + ([""] if report.comparison else []))
    widths = [max(len(row[c]) for row in rows) for c in range(len(head))]
    lines = ["  ".join(cell.ljust(widths[c]) for c, cell in enumerate(row)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    period = f"{report.period.start:%Y-%m-%d} to {report.period.end:%Y-%m-%d}"
    top = [f"top rejection patterns ({r.policy_version}): " + "; ".join(
        f"{p.code} from {p.source} x{p.count}" for p in r.rejections.top_patterns) for r in runs
        if r.rejections.top_patterns]
    return "\n".join([f"SLA scorecard, {period}", *lines, *top])
