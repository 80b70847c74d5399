"""ReportWorkflow: one run of a scheduled report (the daily SLA flash, the Friday weekly
report). Started by the Temporal Schedules of `handoff.schedules`; the work and its
exactly-once delivery are the `send_report` activity's. The workflow only stamps the
run with its own clock, so a replay asks for the same day's report."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from sla_policies.patterns import PatternEscalation

ReportKind = Literal["daily_flash", "weekly_report"]


class ReportRun(BaseModel):
    kind: ReportKind
    at: datetime  # when the run started; the report's local day follows from it


class ReportOutcome(BaseModel):
    key: str
    fresh: bool  # False: already recorded (a retry, or a second trigger the same day)
    escalations: list[PatternEscalation] = []


@workflow.defn(name="ReportWorkflow")
class ReportWorkflow:
    @workflow.run
    async def run(self, kind: ReportKind) -> ReportOutcome:
        return await workflow.execute_activity(
            "send_report", ReportRun(kind=kind, at=workflow.now()), result_type=ReportOutcome,
            start_to_close_timeout=timedelta(minutes=5),
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=5)))
