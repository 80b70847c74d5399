"""The Temporal Schedules that start the reports (docs/domain.md §12.4): the SLA flash every day at
07:00 and the weekly report on Friday at 08:00, both in the company timezone. Created at
start-up, or brought up to date when they exist, so every worker start converges on
these definitions."""

from __future__ import annotations

import logging

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from activities.reports import ReportKind
from workflows.report import ReportWorkflow

log = logging.getLogger("handoff.schedules")

CRONS: dict[ReportKind, str] = {"daily_flash": "0 7 * * *", "weekly_report": "0 8 * * 5"}


def schedule_id(kind: ReportKind) -> str:
    return f"report-{kind}"


def report_schedule(kind: ReportKind, task_queue: str, timezone: str) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(ReportWorkflow.run, kind, id=f"report-{kind}", task_queue=task_queue),
        spec=ScheduleSpec(cron_expressions=[CRONS[kind]], time_zone_name=timezone))


async def ensure_report_schedules(client: Client, task_queue: str, timezone: str) -> None:
    for kind in CRONS:
        schedule = report_schedule(kind, task_queue, timezone)
        try:
            await client.create_schedule(schedule_id(kind), schedule)
            log.info("created schedule %s (%s %s)", schedule_id(kind), CRONS[kind], timezone)
        except ScheduleAlreadyRunningError:
            async def replace(_: ScheduleUpdateInput, schedule=schedule) -> ScheduleUpdate:
                return ScheduleUpdate(schedule=schedule)

            await client.get_schedule_handle(schedule_id(kind)).update(replace)
