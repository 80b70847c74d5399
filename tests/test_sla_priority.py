"""SLA instants first (infra/priority.py) on the real stack: a bulk ingest's leads start at
the bulk priority and routing raises them to the default; a single ingest and a one-lead
batch start at the default; it is off (key 0) by default and a key from 1 to 5 switches it
on. Also the worker's memory budget: the workflow cache it sizes and each process's share."""

from __future__ import annotations

import uuid

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.common import Priority

from handoff.processes import SUPERVISOR_MIB, child_environment
from handoff.worker import CACHED_LEAD_KIB, PROCESS_BASE_MIB, cache_size
from infra.priority import DEFAULT_KEY, bulk_priority, is_lowered
from tests.lifecycle import demo_request, seed_roster
from tests.stack import api_server, dev_server, poll, worker


def lead(lead_id: str) -> dict:
    return demo_request(lead_id=lead_id).model_dump(mode="json", exclude_none=True)


async def priorities(client: Client, lead_id: str) -> tuple[int, list[int], int]:
    """The key the lead started at, the keys of its options updates, and its key now (0 = unset)."""
    handle = client.get_workflow_handle(f"lead-{lead_id}")
    started, updates = 0, []
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
            started = event.workflow_execution_started_event_attributes.priority.priority_key
        elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_OPTIONS_UPDATED:
            updates.append(event.workflow_execution_options_updated_event_attributes.priority.priority_key)
    described = await handle.describe()
    return started, updates, described.raw_description.workflow_execution_info.priority.priority_key


async def routed(http, lead_id: str) -> dict:
    async def fetch():
        return (await http.get(f"/v1/leads/{lead_id}")).json()

    return await poll(fetch, lambda s: s.get("owner") is not None, timeout=120, interval=0.5)


@pytest.fixture(scope="module")
async def stack(postgres_url):
    seed_roster(postgres_url)
    async with dev_server() as env, worker(env.client, postgres_url):
        yield env.client, postgres_url


Priorities = tuple[int, list[int], int]
RAISED: Priorities = (5, [DEFAULT_KEY], DEFAULT_KEY)  # started at the bulk key, raised once by routing
UNSET: Priorities = (0, [], 0)  # the server's default throughout


async def batch_priorities(stack, name: str, count: int, **environment) -> list[Priorities]:
    """Ingest `count` leads in one batch through an API with these settings, wait until each
    is routed (an MQL), and give each lead's priorities (see `priorities`)."""
    client, postgres_url = stack
    tag = uuid.uuid4().hex[:8]
    ids = [f"{name}-{tag}-{i}" for i in range(count)]
    async with api_server(client, postgres_url, **environment) as http:
        answer = await http.post("/v1/leads:batch", json={"leads": [lead(i) for i in ids]})
        assert answer.status_code == 200 and answer.json()["created"] == count, answer.text
        for lead_id in ids:
            assert (await routed(http, lead_id))["stage"] == "mql"
    return [await priorities(client, lead_id) for lead_id in ids]


@pytest.mark.asyncio
async def test_a_bulk_ingest_starts_low_and_routing_raises_each_lead_to_the_default(stack):
    assert await batch_priorities(stack, "prio", 3, HANDOFF_BULK_PRIORITY_KEY=5) == [RAISED] * 3


@pytest.mark.asyncio
async def test_a_single_ingest_and_a_one_lead_batch_start_at_the_default(stack):
    client, postgres_url = stack
    tag = uuid.uuid4().hex[:8]
    async with api_server(client, postgres_url, HANDOFF_BULK_PRIORITY_KEY=5) as http:
        assert (await http.post("/v1/leads", json=lead(f"one-{tag}"))).status_code == 201
        await routed(http, f"one-{tag}")
    assert await priorities(client, f"one-{tag}") == UNSET
    assert await batch_priorities(stack, "alone", 1, HANDOFF_BULK_PRIORITY_KEY=5) == [UNSET]


@pytest.mark.asyncio
async def test_bulk_priority_is_off_by_default(stack):
    assert await batch_priorities(stack, "off", 2) == [UNSET] * 2


@pytest.mark.asyncio
async def test_a_bulk_priority_key_switches_it_on(stack):
    assert await batch_priorities(stack, "on", 2, HANDOFF_BULK_PRIORITY_KEY=5) == [RAISED] * 2


@pytest.mark.asyncio
async def test_a_bulk_priority_out_of_range_is_refused_at_start_up():
    from pydantic import ValidationError

    from infra.settings import Settings

    with pytest.raises(ValidationError, match="HANDOFF_BULK_PRIORITY_KEY"):
        Settings(HANDOFF_BULK_PRIORITY_KEY=6)


def test_which_priorities_count_as_lowered():
    assert bulk_priority(0) == Priority.default and not is_lowered(bulk_priority(0))
    assert bulk_priority(5).priority_key == 5 and is_lowered(bulk_priority(5))
    assert not is_lowered(Priority(priority_key=DEFAULT_KEY)) and not is_lowered(None)


def test_the_workflow_cache_is_sized_from_the_memory_budget():
    # A process's share, less its base, in cached leads.
    assert cache_size(472) == (472 - PROCESS_BASE_MIB) * 1024 // CACHED_LEAD_KIB
    assert PROCESS_BASE_MIB + cache_size(472) * CACHED_LEAD_KIB / 1024 <= 472
    assert cache_size(PROCESS_BASE_MIB) == 10  # never below a working minimum


def test_each_worker_process_gets_its_share_of_the_memory_budget():
    env = {"HANDOFF_WORKER_MEMORY_MIB": "1024"}
    share = str((1024 - SUPERVISOR_MIB) // 2)  # the supervisor's own RSS is kept out
    assert [child_environment(env, i, 2)["HANDOFF_WORKER_MEMORY_MIB"] for i in range(2)] == [share, share]
    assert child_environment(env, 0)["HANDOFF_WORKER_MEMORY_MIB"] == "1024"  # one process: no supervisor
    assert child_environment({}, 0, 4)["HANDOFF_WORKER_MEMORY_MIB"] == str((1024 - SUPERVISOR_MIB) // 4)
