"""Migrating open leads to another policy version, on the time-skipping server: applied
at the lead's next safe point, recorded, running clocks recomputed only when asked."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError

from tests.lifecycle import advance_to, clock, routed_lead_at, seed_roster, state_when
from tests.policy_variants import DEFAULT_VERSION, faster_tier1
from tests.stack import time_skipping_server, worker
from workflows import search_attributes as sa
from sla_policies.commands import Actor
from workflows.lead import LeadWorkflow
from sla_policies.commands import PolicyMigration

pytestmark = pytest.mark.asyncio

OPS = Actor(id="ops", role="revops")


@pytest.fixture(scope="module")
async def env(postgres_url):
    seed_roster(postgres_url)
    async with time_skipping_server() as env, worker(env.client, postgres_url):
        yield env


async def test_recompute_moves_running_clocks_and_the_lead_waits_for_the_new_instants(env):
    new = faster_tier1("2099.5.1", target="10m", breach="3h")
    _, kept_handle, _ = await routed_lead_at(env, 0, 9)
    kept_started = clock(await kept_handle.query(LeadWorkflow.state), "sdr_response.tier1").started_at
    moved_handle = await _routed_now(env)
    moved_before = await moved_handle.query(LeadWorkflow.state)
    before = clock(moved_before, "sdr_response.tier1")
    started = before.started_at
    assert (before.due_at, before.breach_at) == (started + timedelta(minutes=5), started + timedelta(hours=2))

    moved = await moved_handle.execute_update(LeadWorkflow.migrate_policy,
                                              PolicyMigration(actor=OPS, policy=new, recompute_clocks=True))
    kept = await kept_handle.execute_update(LeadWorkflow.migrate_policy, PolicyMigration(actor=OPS, policy=new))
    assert moved.event == kept.event == "policy_migrated" and moved.stage == "mql"

    state = await moved_handle.query(LeadWorkflow.state)
    response = clock(state, "sdr_response.tier1")
    assert (response.started_at, response.due_at, response.breach_at) == (
        started, started + timedelta(minutes=10), started + timedelta(hours=3))
    assert [(e.role, e.at) for e in response.escalation_plan][:1] == [("sdr_manager", started + timedelta(hours=3))]
    # sal_decision is the same window in both versions: recomputed to the same instants.
    assert clock(state, "sal_decision") == clock(moved_before, "sal_decision")
    migrated = state.transitions[-1]
    assert (migrated.event, migrated.actor, migrated.from_stage, migrated.to_stage) == (
        "policy_migrated", "ops", "mql", "mql")
    assert migrated.note.startswith(f"policy migrated {DEFAULT_VERSION} -> 2099.5.1; running clocks recomputed:")
    assert state.policy_version == "2099.5.1"

    before_state = await kept_handle.query(LeadWorkflow.state)
    unchanged = clock(before_state, "sdr_response.tier1")
    assert (unchanged.due_at, unchanged.breach_at) == (kept_started + timedelta(minutes=5),
                                                       kept_started + timedelta(hours=2))
    assert before_state.policy_version == "2099.5.1"
    assert before_state.transitions[-1].note == (
        f"policy migrated {DEFAULT_VERSION} -> 2099.5.1; running clocks keep their instants")
    described = await moved_handle.describe()
    assert described.typed_search_attributes.get(sa.POLICY_VERSION) == "2099.5.1"

    # The kept lead misses its target at +5 min; the recomputed one only at +10 min.
    await advance_to(env, started + timedelta(minutes=7))
    await state_when(kept_handle, lambda s: clock(s, "sdr_response.tier1").target_missed)
    assert not clock(await moved_handle.query(LeadWorkflow.state), "sdr_response.tier1").target_missed
    await advance_to(env, started + timedelta(minutes=11))
    await state_when(moved_handle, lambda s: clock(s, "sdr_response.tier1").target_missed)
    # Breach: 2 h for the kept lead; 3 h for the recomputed one.
    await advance_to(env, started + timedelta(hours=2, minutes=1))
    kept_state = await state_when(kept_handle, lambda s: clock(s, "sdr_response.tier1").breached_at is not None)
    assert clock(kept_state, "sdr_response.tier1").breached_at == kept_started + timedelta(hours=2)
    assert clock(await moved_handle.query(LeadWorkflow.state), "sdr_response.tier1").breached_at is None
    await advance_to(env, started + timedelta(hours=3, minutes=1))
    moved_state = await state_when(moved_handle, lambda s: clock(s, "sdr_response.tier1").breached_at is not None)
    assert clock(moved_state, "sdr_response.tier1").breached_at == started + timedelta(hours=3)


async def _routed_now(env):
    """A second lead routed at the same instant as the previous one."""
    from tests.lifecycle import demo_request, start

    handle = await start(env, demo_request())
    await state_when(handle, lambda s: s.owner is not None)
    return handle


async def test_migration_is_refused_for_the_same_version_and_for_non_revops(env):
    _, handle, sdr = await routed_lead_at(env, 1, 10)
    state = await handle.query(LeadWorkflow.state)
    with pytest.raises(WorkflowUpdateFailedError) as same:
        await handle.execute_update(LeadWorkflow.migrate_policy,
                                    PolicyMigration(actor=OPS, policy=faster_tier1(DEFAULT_VERSION)))
    assert "already on policy" in str(same.value.cause)
    with pytest.raises(WorkflowUpdateFailedError) as forbidden:
        await handle.execute_update(LeadWorkflow.migrate_policy,
                                    PolicyMigration(actor=sdr, policy=faster_tier1("2099.5.2")))
    # The policy's transition table says who may migrate (rule policy_migrated: revops, system).
    assert "is for revops, system, not sdr" in str(forbidden.value.cause)
    assert forbidden.value.cause.type == "forbidden"
    after = await handle.query(LeadWorkflow.state)
    assert after.transitions == state.transitions and after.policy_version == DEFAULT_VERSION


async def test_a_breached_clock_is_history_and_is_not_recomputed(env):
    _, handle, _ = await routed_lead_at(env, 2, 9)
    response = clock(await handle.query(LeadWorkflow.state), "sdr_response.tier1")
    await advance_to(env, response.breach_at + timedelta(minutes=1))
    breached = await state_when(handle, lambda s: clock(s, "sdr_response.tier1").breached_at is not None)
    await handle.execute_update(LeadWorkflow.migrate_policy, PolicyMigration(
        actor=OPS, policy=faster_tier1("2099.5.3", target="30m", breach="5h"), recompute_clocks=True))
    state = await handle.query(LeadWorkflow.state)
    assert clock(state, "sdr_response.tier1") == clock(breached, "sdr_response.tier1")
    note = state.transitions[-1].note
    assert note.startswith(f"policy migrated {DEFAULT_VERSION} -> 2099.5.3; running clocks recomputed: ")
    assert "sdr_response.tier1" not in note and "sal_decision" in note
