"""The Temporal Schedules that start the reports (docs/domain.md §12.4): the SLA flash every day at
07:00 and the weekly report on Friday at 08:00, both in the company timezone. Created at
start-up, or brought up to date when they exist, so every worker start converges on
these definitions."""

from __future__ import annotations

import logging
from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from activities.reports import ReportKind
from workflows.connectors import ConnectorSweepWorkflow, CrmSyncWorkflow
from workflows.report import ReportWorkflow

log = logging.getLogger("handoff.schedules")

CRONS: dict[ReportKind, str] = {"daily_flash": "0 7 * * *", "weekly_report": "0 8 * * 5"}


def schedule_id(kind: ReportKind) -> str:
    return f"report-{kind}"


def report_schedule(kind: ReportKind, task_queue: str, timezone: str) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(ReportWorkflow.run, kind, id=f"report-{kind}", task_queue=task_queue),
        spec=ScheduleSpec(cron_expressions=[CRONS[kind]], time_zone_name=timezone))


async def _ensure(client: Client, schedule_id: str, schedule: Schedule) -> None:
    try:
        await client.create_schedule(schedule_id, schedule)
        log.info("created schedule %s", schedule_id)
    except ScheduleAlreadyRunningError:
        async def replace(_: ScheduleUpdateInput, schedule=schedule) -> ScheduleUpdate:
            return ScheduleUpdate(schedule=schedule)

        await client.get_schedule_handle(schedule_id).update(replace)


async def ensure_report_schedules(client: Client, task_queue: str, timezone: str) -> None:
    for kind in CRONS:
        await _ensure(client, schedule_id(kind), report_schedule(kind, task_queue, timezone))


CONNECTOR_SWEEP = "connectors-sweep"
CRM_SYNC = "connectors-crm-sync"


async def ensure_connector_schedules(client: Client, task_queue: str, *, sweep_seconds: int, sync_seconds: int,
                                     poll_salesforce: bool) -> None:
    """The inbox sweep (and Salesforce polling) and the CRM write-back, every few seconds;
    a run still going when the next is due makes that one skip (the default overlap)."""
    await _ensure(client, CONNECTOR_SWEEP, Schedule(
        action=ScheduleActionStartWorkflow(ConnectorSweepWorkflow.run, poll_salesforce, id=CONNECTOR_SWEEP,
                                           task_queue=task_queue),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=timedelta(seconds=sweep_seconds))])))
    await _ensure(client, CRM_SYNC, Schedule(
        action=ScheduleActionStartWorkflow(CrmSyncWorkflow.run, id=CRM_SYNC, task_queue=task_queue),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=timedelta(seconds=sync_seconds))])))
