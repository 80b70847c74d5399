"""ReportWorkflow: one run of a scheduled report (the daily SLA flash, the Friday weekly
report). Started by the Temporal Schedules of `handoff.schedules`; the work and its
exactly-once delivery are the `send_report` activity's. The workflow only stamps the
run with its own clock, so a replay asks for the same day's report."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    # The activity owns its input and output types; the workflow only imports them.
    from activities.reports import ReportActivities, ReportKind, ReportOutcome, ReportRun


@workflow.defn(name="ReportWorkflow")
class ReportWorkflow:
    @workflow.run
    async def run(self, kind: ReportKind) -> ReportOutcome:
        return await workflow.execute_activity_method(
            ReportActivities.send_report, ReportRun(kind=kind, at=workflow.now()),
            start_to_close_timeout=timedelta(minutes=5),
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=5)))
