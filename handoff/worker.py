"""The Temporal worker: LeadWorkflow plus the activities, with their injected dependencies."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from typing import TypedDict

from psycopg_pool import AsyncConnectionPool
from temporalio.client import Client
from temporalio.worker import (
    FixedSizeSlotSupplier,
    UnsandboxedWorkflowRunner,
    Worker,
    WorkerTuner,
    WorkflowRunner,
)
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.crm.inbound import ConnectorActivities
from activities.crm.outbound import CrmSyncActivities
from activities.crm.types import CrmConfig
from activities.deadlines import compute_deadlines, compute_instants, lead_calendar
from activities.notification_outbox import NotificationDispatcher
from activities.notify import NotificationActivities
from activities.read_model import AccountEngagementActivities, ReadModelActivities, SuppressionActivities
from activities.reports import ReportActivities
from activities.roster import RosterActivities
from activities.sinks import Sink
from handoff.policy_loader import PolicyLoader
from handoff.slots import SlotSplit, SplitSlotSupplier
from infra.settings import Settings
from workflows.connectors import ConnectorInboxWorkflow, ConnectorSweepWorkflow, CrmSyncWorkflow
from workflows.lead import LeadWorkflow
from workflows.report import ReportWorkflow

# For the sandbox guard (sandboxed_runner): domain modules are pure and deterministic;
# passing them through avoids re-importing pydantic models in every sandbox (and keeps class
# identity stable). opentelemetry: the tracing interceptor's spans must see the process's one
# tracer provider and context (the client's interceptor also applies to every worker built
# on that client).
_PASSTHROUGH = ("sla_policies", "sla_policies.state", "pydantic", "pydantic_core", "annotated_types",
                "holidays", "dateutil", "opentelemetry")


# The workflow cache is what grows with open leads: an idle open lead costs the worker
# nothing once evicted (its next instant replays it). Sized from a memory budget: a worker
# process with an empty cache (about 150 MiB measured at start, session 4; 200 leaves room
# for its activity pool and buffers), and each cached lead on top of it. A routed lead
# cached outside the sandbox costs about 370 KiB (`python -m bench growth`, bench/RESULTS.md
# session 7: each process grew from 159 to 278 MiB while its cache took 347 leads); 560
# leaves half again for leads further along, with more transitions and clocks. (Session 4
# measured 910 KiB inside the sandbox, which held a module world per lead.) A cache that
# holds a whole 1,000-lead bulk ingest keeps every new lead's second task off a replay.
PROCESS_BASE_MIB = 200
CACHED_LEAD_KIB = 560


def cache_size(memory_mib: int) -> int:
    """How many workflows one worker process may cache within `memory_mib` of RSS."""
    return max(10, (memory_mib - PROCESS_BASE_MIB) * 1024 // CACHED_LEAD_KIB)


# Activity, local-activity and Nexus slots stay at the SDK's defaults.
SDK_DEFAULT_SLOTS = 100


class LeadWorkerOptions(TypedDict):
    max_cached_workflows: int
    tuner: WorkerTuner


def slot_split(settings: Settings) -> SlotSplit:
    """Workflow tasks one process runs at once, running leads' and new leads' (handoff/slots.py)."""
    return SlotSplit(running=settings.worker_max_tasks, new=settings.worker_new_lead_tasks)


def lead_worker_options(settings: Settings) -> LeadWorkerOptions:
    """The lead worker's sizes from the settings: its workflow cache from its memory share,
    and its workflow-task slots, running leads' apart from new leads' (handoff/slots.py)."""
    fixed = FixedSizeSlotSupplier(SDK_DEFAULT_SLOTS)
    return LeadWorkerOptions(
        max_cached_workflows=cache_size(settings.worker_memory_mib),
        tuner=WorkerTuner.create_composite(workflow_supplier=SplitSlotSupplier(slot_split(settings)),
                                           activity_supplier=fixed, local_activity_supplier=fixed,
                                           nexus_supplier=fixed))


def workflow_runner() -> WorkflowRunner:
    """How the worker runs workflow code (the replay tests use the same): outside the SDK's
    sandbox. The sandbox rebuilt a module world for every workflow it loaded and wrapped every
    activation: a third of the lead worker's CPU per lead routed (98 against 65 ms in the same
    A/B, bench/RESULTS.md, session 7), for a shell whose decisions are already made outside it
    (`sla_policies` is passed through). Determinism rests on the design (time is
    `workflow.now()`, the core is pure, every side effect is an activity) and stays checked:
    the replay suite runs every recorded path in the sandbox too (`sandboxed_runner`)."""
    return UnsandboxedWorkflowRunner()


def sandboxed_runner() -> SandboxedWorkflowRunner:
    """The determinism guard: the SDK's sandbox, which fails a workflow task that reads the
    wall clock, draws a random number or does I/O (tests/test_replay_histories.py)."""
    return SandboxedWorkflowRunner(restrictions=SandboxRestrictions.default.with_passthrough_modules(*_PASSTHROUGH))


class _LeadWorker(Worker):
    """A Worker that, while it runs, keeps the pinned-policy registry filled (at start, then
    whatever a lead asks for) and delivers the notifications the projections recorded
    (activities/notification_outbox.py): `run()` is also what `async with` runs."""

    def __init__(self, *args, policies: PolicyLoader, dispatcher: NotificationDispatcher, **kwargs):
        super().__init__(*args, **kwargs)
        self._policies = policies
        self._dispatcher = dispatcher

    async def run(self) -> None:
        await self._policies.preload()
        helpers = [asyncio.create_task(self._policies.run(), name="policy-loader"),
                   asyncio.create_task(self._dispatcher.run(), name="notification-dispatcher")]
        try:
            await super().run()
        finally:
            for helper in helpers:
                helper.cancel()
            for helper in helpers:
                with suppress(asyncio.CancelledError):
                    await helper


def build_worker(client: Client, task_queue: str, pool: AsyncConnectionPool,
                 sinks: list[Sink] | None = None, workflows: Sequence[type] | None = None,
                 crm: CrmConfig | None = None, **options) -> Worker:
    """`options` go to `Worker` as they are (the simulator raises the workflow cache; the
    process passes its Worker Versioning `deployment_config`). `workflows` replaces the
    workflow classes (a test's deliberately changed build). `crm`: the connectors'
    configuration (none configured: the connector workflows are still known, and an event
    waits, retried, until its connector is configured)."""
    read_model = ReadModelActivities(pool)
    roster = RosterActivities(pool)
    notifications = NotificationActivities(pool, sinks=sinks)
    accounts = AccountEngagementActivities(pool)
    suppressions = SuppressionActivities(pool)
    reports = ReportActivities(pool, sinks=sinks)
    connectors = ConnectorActivities(pool, crm or CrmConfig())
    crm_sync = CrmSyncActivities(pool, crm or CrmConfig())
    return _LeadWorker(
        client,
        policies=PolicyLoader(pool),
        dispatcher=NotificationDispatcher(pool, notifications),
        task_queue=task_queue,
        workflows=list(workflows or [LeadWorkflow, ReportWorkflow, ConnectorInboxWorkflow, ConnectorSweepWorkflow,
                                     CrmSyncWorkflow]),
        activities=[read_model.project_lead, roster.assign_lead, roster.release_lead,
                    notifications.notify, accounts.account_engagement, accounts.account_status,
                    accounts.account_open_leads, suppressions.suppress,
                    compute_deadlines, compute_instants, lead_calendar, reports.send_report,
                    connectors.process_inbox_event, connectors.pending_inbox_events, connectors.poll_salesforce,
                    crm_sync.plan_crm_sync, crm_sync.push_crm_update, crm_sync.record_sync_failure],
        activity_executor=ThreadPoolExecutor(max_workers=4),
        workflow_runner=workflow_runner(),
        **options,
    )
