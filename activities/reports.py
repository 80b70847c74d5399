"""The scheduled reports (docs/domain.md §12.4): the daily SLA flash and the Friday weekly report,
computed from the read model, rendered, and recorded and delivered once per report and
day through the notification path (`NotificationActivities.publish`). The dedup key is
the report and its local day (`report:daily_flash:2026-11-23`), so a retried activity,
a second trigger or a schedule catching up on the same day never posts twice."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from jinja2 import Environment
from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel
from temporalio import activity

from activities.digests import render_daily_flash, render_weekly_report
from activities.notify import NotificationActivities, render, template_environment
from activities.sinks import Sink
from readmodel import policies
from readmodel.records import load_daily_flash, load_lead_records
from sla_policies.digests import MetricLine, RejectionPattern, RepeatBreach, WeeklyReport
from sla_policies.loader import default_policy
from sla_policies.model import Policy
from sla_policies.patterns import PatternEscalation, pattern_escalations, weekly_scorecards
from sla_policies.scorecard import MetricResult, Period, iso_week, rejection_report, scorecard

ReportKind = Literal["daily_flash", "weekly_report"]


class ReportRun(BaseModel):
    """The input of `send_report`, stamped by `ReportWorkflow` with its own clock."""

    kind: ReportKind
    at: datetime  # when the run started; the report's local day follows from it


class ReportOutcome(BaseModel):
    key: str
    fresh: bool  # False: already recorded (a retry, or a second trigger the same day)
    escalations: list[PatternEscalation] = []


PATTERN_WEEKS = 8  # history read for the ladder: deeper than its last level (6 weeks)
AUDIENCE = {"daily_flash": "sla_flash", "weekly_report": "friday_pipeline_review"}  # policy review ids
FALLBACK_AUDIENCE = {"daily_flash": ["sdr_manager", "ae_manager", "revops"],
                     "weekly_report": ["vp_marketing", "vp_sales"]}


async def active_policy(pool: AsyncConnectionPool) -> Policy:
    """The active version in PostgreSQL, or the bundled default before any API stored one."""
    version = await policies.active_version(pool)
    stored = await policies.get_stored(pool, version) if version else None
    return stored.policy if stored else default_policy()


def metric_lines(results: list[MetricResult]) -> list[MetricLine]:
    return [MetricLine(metric=m.id, value="n/a" if m.value is None else f"{m.value:g}{m.unit}",
                       target=f"{'>' if m.direction == 'higher_is_better' else '<'}{m.target:g}{m.unit}",
                       status=m.status) for m in results]


def audience(policy: Policy, kind: ReportKind) -> list[str]:
    review = next((r for r in policy.reviews if r.id == AUDIENCE[kind]), None)
    return list(review.who) if review else FALLBACK_AUDIENCE[kind]


class ReportActivities:
    def __init__(self, pool: AsyncConnectionPool, templates: Environment | None = None,
                 sinks: list[Sink] | None = None):
        self._pool = pool
        self._templates = templates or template_environment()
        # The notify activity's record-once, deliver-once path, shared rather than copied.
        self._delivery = NotificationActivities(pool, self._templates, sinks)

    @activity.defn(name="send_report")
    async def send_report(self, run: ReportRun) -> ReportOutcome:
        policy = await active_policy(self._pool)
        tz = ZoneInfo(policy.calendars.company_timezone)
        today = run.at.astimezone(tz).date()
        if run.kind == "daily_flash":
            return await self._daily_flash(policy, today - timedelta(days=1), tz, run.at)
        return await self._weekly_report(policy, today, run.at)

    async def _daily_flash(self, policy: Policy, day: date, tz: ZoneInfo, at: datetime) -> ReportOutcome:
        """The prior day: its breaches by owner, open priority leads, and the daily metrics."""
        flash = await load_daily_flash(self._pool, day, tz)
        start = datetime.combine(day, time(), tz)
        period = Period(start=start, end=datetime.combine(day + timedelta(days=1), time(), tz))
        records = await load_lead_records(self._pool, since=period.start, until=period.end)
        card = scorecard(policy, records, period)
        flash.compliance = metric_lines([m for m in card.metrics if m.cadence == "daily"])
        subject, body = render_daily_flash(flash, self._templates)
        key = f"report:daily_flash:{day.isoformat()}"
        fresh = await self._delivery.publish(key, lead_id="", kind="daily_flash",
                                             roles=audience(policy, "daily_flash"), subject=subject, body=body, at=at)
        return ReportOutcome(key=key, fresh=fresh)

    async def _weekly_report(self, policy: Policy, today: date, at: datetime) -> ReportOutcome:
        """The ISO week to date: scorecard, top rejection patterns with marketing's actions,
        and metrics red for consecutive weeks (each escalation also goes to its roles)."""
        week = iso_week(today, policy.calendars.company_timezone)
        history_start = week.start - timedelta(weeks=PATTERN_WEEKS - 1)
        records = await load_lead_records(self._pool, since=history_start, until=week.end)
        cards = weekly_scorecards(policy, records, today, PATTERN_WEEKS)
        current = scorecard(policy, records, week, min(at, week.end))
        cards[-1] = current
        escalations = pattern_escalations(policy, cards)
        rejections = rejection_report(policy, records, week)
        report = WeeklyReport(
            week_start=week.start.date(), week_end=(week.end - timedelta(days=1)).date(),
            policy_version=policy.version, scorecard=metric_lines(current.metrics),
            top_rejections=[RejectionPattern(reason_code=p.code, source=p.source, count=p.count,
                                             acv_tier=", ".join(p.acv_tiers), action=p.action or "none listed")
                            for p in rejections.top_patterns],
            repeat_breaches=[RepeatBreach(item=f"{e.side} ({', '.join(e.metrics)})", weeks=e.weeks,
                                          notify=f"{e.level}: {' + '.join(e.notify)} - {e.action}")
                             for e in escalations])
        subject, body = render_weekly_report(report, self._templates)
        key = f"report:weekly_report:{week.start.date().isoformat()}"
        fresh = await self._delivery.publish(key, lead_id="", kind="weekly_report",
                                             roles=audience(policy, "weekly_report"), subject=subject, body=body,
                                             at=at)
        for e in escalations:
            subject, body = render(self._templates, "pattern_escalation.txt.j2", e=e, week=report)
            await self._delivery.publish(f"report:pattern_escalation:{week.start.date().isoformat()}:{e.side}",
                                         lead_id="", kind="pattern_escalation", roles=e.notify, subject=subject,
                                         body=body, at=at)
        return ReportOutcome(key=key, fresh=fresh, escalations=escalations)
