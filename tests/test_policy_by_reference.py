"""A lead pins its policy by reference (version and content hash): each worker holds every
version once, shared by its leads, loads a version it lacks from the policy store when a
lead needs it, and never resolves a reference to other content (sla_policies/pinned.py)."""

from __future__ import annotations

import asyncio
import json
from contextlib import suppress
from datetime import timedelta

import pytest
from psycopg_pool import AsyncConnectionPool
from temporalio.api.enums.v1 import EventType
from temporalio.service import RPCError

from api import policy_store
from api.policy_migration import _update as migrate_update
from handoff.policy_loader import PolicyLoader
from sla_policies import pinned
from sla_policies.commands import Actor, PolicyMigration
from sla_policies.loader import default_policy
from sla_policies.model import Policy
from sla_policies.pinned import PolicyNotLoaded, PolicyRef, content_hash
from sla_policies.state import LeadWorkflowInput
from tests.lifecycle import clock, default_ref, demo_request, routed_lead_at, seed_roster, state_when
from tests.policy_variants import DEFAULT_VERSION, faster_tier1, unique_version
from tests.stack import poll, time_skipping_server, worker
from workflows.lead import LeadWorkflow

pytestmark = pytest.mark.asyncio

OPS = Actor(id="ops", role="revops")


@pytest.fixture(scope="module")
async def env(postgres_url):
    seed_roster(postgres_url)
    async with time_skipping_server() as env, worker(env.client, postgres_url):
        yield env


@pytest.fixture(scope="module")
async def pool(postgres_url):
    async with AsyncConnectionPool(postgres_url, min_size=1, max_size=2) as pool:
        yield pool


async def _stored_only(pool) -> Policy:
    """A new version deployed to the policy store after the worker started: never held here."""
    policy = faster_tier1(unique_version(), target="10m", breach="3h")
    await policy_store.deploy(pool, policy.model_dump_json(), policy, "test")
    assert pinned.lookup(PolicyRef(version=policy.version, content_hash=content_hash(policy))) is None
    return policy


async def _start(env, ref: PolicyRef):
    intake = demo_request()
    return await env.client.start_workflow(LeadWorkflow.run, LeadWorkflowInput(intake=intake, policy_ref=ref),
                                           id=f"lead-{intake.lead_id}", task_queue="handoff")


async def _task_failures(handle) -> list[str]:
    history = await handle.fetch_history()
    return [e.workflow_task_failed_event_attributes.failure.message for e in history.events
            if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED]


async def test_one_object_per_content_and_no_other_content_under_a_hash():
    policy = default_policy()
    copy = Policy.model_validate_json(policy.model_dump_json())
    assert copy is not policy and content_hash(copy) == content_hash(policy)
    ref = pinned.register(policy)
    assert pinned.register(copy) == ref and pinned.lookup(ref) is pinned.resolve(ref)
    with pytest.raises(ValueError, match="not the pinned"):
        pinned.register(faster_tier1(DEFAULT_VERSION), expected=ref.content_hash)

    heard: list[PolicyRef] = []
    pinned.add_listener(heard.append)
    try:
        unknown = PolicyRef(version="2099.0.0", content_hash="f" * 64)
        with pytest.raises(PolicyNotLoaded, match="f" * 64):
            pinned.resolve(unknown)
    finally:
        pinned.remove_listener(heard.append)
    assert heard == [unknown]


async def test_the_start_input_names_the_policy_instead_of_carrying_it(env):
    _, handle, _ = await routed_lead_at(env, 0, 9)
    history = await handle.fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes.input.payloads[0].data
    arguments = json.loads(started)
    assert arguments["policy"] is None and arguments["policy_ref"] == default_ref().model_dump()
    assert len(started) < 5_000  # the whole policy is about 50 KB


async def test_a_version_the_worker_lacks_is_loaded_from_the_store_when_a_lead_needs_it(env, pool):
    policy = await _stored_only(pool)
    ref = PolicyRef(version=policy.version, content_hash=content_hash(policy))
    handle = await _start(env, ref)
    state = await state_when(handle, lambda s: s.owner is not None, timeout=60)
    assert state.policy_version == policy.version
    response = clock(state, "sdr_response.tier1")
    assert response.due_at == response.clock_started_at + timedelta(minutes=10)  # the stored version's window
    # Loaded from the store (on the lead's miss, or by the worker's periodic look if first).
    loaded = pinned.lookup(ref)
    assert loaded is not None and loaded is not policy and content_hash(loaded) == ref.content_hash


class _RecordingLoader(PolicyLoader):
    def __init__(self, pool):
        super().__init__(pool, refresh_seconds=3600)  # no periodic look: only a miss asks it
        self.asked: list[PolicyRef] = []

    async def load(self, ref: PolicyRef) -> bool:
        self.asked.append(ref)
        return await super().load(ref)


async def test_a_miss_makes_the_loader_load_that_version(pool):
    policy = await _stored_only(pool)
    ref = PolicyRef(version=policy.version, content_hash=content_hash(policy))
    loader = _RecordingLoader(pool)
    running = asyncio.create_task(loader.run())
    try:
        await poll(lambda: _listening(loader), bool)
        with pytest.raises(PolicyNotLoaded, match=ref.content_hash):
            pinned.resolve(ref)  # what the workflow meets: it fails its task, the loader hears
        loaded = await poll(lambda: _lookup(ref), lambda p: p is not None, timeout=30)
        assert content_hash(loaded) == ref.content_hash and loaded.version == policy.version
        await poll(lambda: _asked(loader), lambda asked: ref in asked)
    finally:
        running.cancel()
        with suppress(asyncio.CancelledError):
            await running


async def _listening(loader: PolicyLoader) -> bool:
    return loader._loop is not None


async def _asked(loader: _RecordingLoader) -> list[PolicyRef]:
    return loader.asked


async def _lookup(ref: PolicyRef) -> Policy | None:
    return pinned.lookup(ref)


async def test_a_reference_to_other_content_never_runs(postgres_url):
    # Its own server: a lead whose workflow task keeps failing holds the test server's
    # time skipping, which the other tests of this module use.
    wrong = PolicyRef(version=DEFAULT_VERSION, content_hash="0" * 64)  # the version exists, this content not
    async with time_skipping_server() as env, worker(env.client, postgres_url):
        handle = await _start(env, wrong)
        try:
            failures = await poll(lambda: _task_failures(handle), bool, timeout=60)
            assert "0" * 64 in failures[0] and "not loaded" in failures[0]
            assert pinned.lookup(wrong) is None
        finally:
            with suppress(RPCError):  # clean-up only: the server goes away with the lead
                await handle.terminate("test over")


async def test_a_migration_by_reference_to_a_version_the_worker_lacks(env, pool):
    _, handle, _ = await routed_lead_at(env, 1, 9)
    policy = await _stored_only(pool)
    ref = PolicyRef(version=policy.version, content_hash=content_hash(policy))
    # The first Update is refused (`policy_loading`) while the worker loads it; sent again, applied.
    await migrate_update(handle, PolicyMigration(actor=OPS, policy_ref=ref, recompute_clocks=True))
    state = await handle.query(LeadWorkflow.state)
    assert state.policy_version == policy.version and state.transitions[-1].event == "policy_migrated"
    response = clock(state, "sdr_response.tier1")
    assert response.due_at == response.clock_started_at + timedelta(minutes=10)
    history = await handle.fetch_history()
    updates = [e.workflow_execution_update_accepted_event_attributes.accepted_request.input.args.payloads[0].data
               for e in history.events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED]
    assert json.loads(updates[-1])["policy"] is None and len(updates[-1]) < 1_000
