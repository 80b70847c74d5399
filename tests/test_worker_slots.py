"""The lead worker's workflow-task slots (handoff/slots.py), on the real Temporal dev server:
a lead the worker already holds gets its task run while new leads' tasks fill every slot
they may take."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from pydantic import ValidationError
from temporalio import activity, workflow
from temporalio.api.enums.v1 import EventType
from temporalio.worker import Worker

from handoff.slots import SlotSplit
from handoff.worker import lead_worker_options, slot_split, workflow_runner
from infra.settings import Settings
from tests.stack import dev_server, poll

# The test's gate: set, the held first task may finish (made in the test's own event loop).
gate: dict[str, asyncio.Event] = {}


@activity.defn
async def hold() -> None:
    """A new lead's first task that takes its time (routing under a slow database, say)."""
    await gate["released"].wait()


@workflow.defn
class NewLead:
    @workflow.run
    async def run(self) -> None:
        await workflow.execute_local_activity(hold, start_to_close_timeout=timedelta(minutes=2))


@workflow.defn
class RunningLead:
    """A lead past its first task, waiting for its next input (a fired breach, a disposition)."""

    def __init__(self) -> None:
        self._woken = False

    @workflow.run
    async def run(self) -> str:
        await workflow.wait_condition(lambda: self._woken)
        return "decided"

    @workflow.signal
    def wake(self) -> None:
        self._woken = True


def test_the_settings_size_both_pools():
    assert slot_split(Settings()) == SlotSplit(running=8, new=4)
    assert slot_split(Settings(HANDOFF_WORKER_MAX_TASKS=6, HANDOFF_WORKER_NEW_LEAD_TASKS=3)) == SlotSplit(6, 3)
    with pytest.raises(ValidationError, match="HANDOFF_WORKER_NEW_LEAD_TASKS"):
        Settings(HANDOFF_WORKER_NEW_LEAD_TASKS=0)


async def test_a_running_leads_task_is_not_held_up_by_new_leads_filling_their_slots():
    released = gate["released"] = asyncio.Event()
    queue = f"slots-{uuid.uuid4().hex[:8]}"
    tuner = lead_worker_options(Settings(HANDOFF_WORKER_MAX_TASKS=1, HANDOFF_WORKER_NEW_LEAD_TASKS=1))["tuner"]
    async with dev_server() as env:
        client = env.client
        async with Worker(client, task_queue=queue, workflows=[NewLead, RunningLead], activities=[hold],
                          tuner=tuner, max_cached_workflows=10, workflow_runner=workflow_runner()):
            running = await client.start_workflow(RunningLead.run, id=f"running-{queue}", task_queue=queue)
            # Its first task done, the worker holds it: its next task comes on the sticky queue.
            await poll(lambda: _events(running), lambda seen: EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED in seen,
                       timeout=60)
            new = await client.start_workflow(NewLead.run, id=f"new-{queue}", task_queue=queue)
            # Its first task started: it holds the one new-lead slot while `hold` waits.
            await poll(lambda: _events(new), lambda seen: EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED in seen,
                       timeout=60)
            await running.signal(RunningLead.wake)
            try:
                # With one pool of slots this waits until the new lead's task ends (never, here).
                assert await asyncio.wait_for(running.result(), timeout=60) == "decided"
                assert not released.is_set()
            finally:
                released.set()
            await asyncio.wait_for(new.result(), timeout=60)


async def _events(handle) -> set[int]:
    return {event.event_type async for event in handle.fetch_history_events()}
