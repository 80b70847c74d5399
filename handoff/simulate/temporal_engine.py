"""The temporal engine: the leads through the real LeadWorkflow and activities on Temporal's
time-skipping test server, with the roster and read model in a real PostgreSQL.

Simulated time only moves forward from the present there, so this engine takes future
arrivals only; the core engine (`core_engine`) takes any dates.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from contextlib import asynccontextmanager
from datetime import datetime

import psycopg
from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel
from temporalio.client import WorkflowUpdateFailedError
from temporalio.common import WorkflowIDReusePolicy
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from activities.migrations import apply_migrations
from api.suppressions import find_account_status, find_suppression
from handoff.devstack import ensure_search_attributes
from handoff.simulate.driver import Simulation
from handoff.simulate.rows import InputError, LeadRow
from handoff.simulate.team import Team
from handoff.worker import build_worker
from infra.temporal import test_server_path
from sla_policies import pinned
from sla_policies.clockbook import next_wakeup
from sla_policies.lead import EngagementEvent
from sla_policies.state import LeadState
from workflows.lead import LeadWorkflow, new_run_input, workflow_id

TASK_QUEUE = "handoff-simulate"
TERMINAL_STAGES = frozenset({"closed_won", "closed_lost", "routed_out"})


@asynccontextmanager
async def fresh_database(server_url: str):
    """A new, migrated database on the given server for one run; dropped afterwards."""
    name = f"handoff_sim_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = psycopg.conninfo.make_conninfo(server_url, dbname=name)
    try:
        apply_migrations(url)
        yield url
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def seed_roster(database_url: str, team: Team) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        for rep in team.reps:
            conn.execute(
                "INSERT INTO reps (rep_id, name, role, manager_id, territories, acv_tiers, capacity, timezone)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                (rep.id, rep.id, rep.role, rep.manager, rep.territories, rep.acv_tiers, rep.capacity, rep.timezone))


def settled(state: LeadState) -> bool:
    """The workflow finished reacting to its last input: evaluated, and routed if it routes."""
    if state.stage == "inquiry":
        return state.counts.get("projection_seq", 0) >= 2
    return state.stage != "mql" or state.routed_at is not None


class TemporalSimulation(Simulation):
    engine = "temporal"

    def __init__(self, *args, database_url: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.database_url = database_url

    @asynccontextmanager
    async def _running(self):
        async with fresh_database(self.database_url) as url:
            seed_roster(url, self.team)
            env = await WorkflowEnvironment.start_time_skipping(
                test_server_existing_path=test_server_path(), data_converter=pydantic_data_converter)
            try:
                await ensure_search_attributes(env.client, "default")
                pool = AsyncConnectionPool(url, min_size=1, max_size=6, open=False)
                await pool.open()
                try:
                    # Every lead stays cached: an evicted lead would be replayed from its
                    # history on its next timer, which costs more than the memory.
                    async with build_worker(env.client, TASK_QUEUE, pool, max_cached_workflows=20_000):
                        self.env, self.client, self.pool = env, env.client, pool
                        # The leads pin the policy by reference: the worker in this process
                        # resolves it to this one object (sla_policies/pinned.py).
                        self.policy_ref = pinned.register(self.policy)
                        yield
                finally:
                    await pool.close()
            finally:
                await env.shutdown()

    async def _check_start(self, start: datetime) -> None:
        now = await self.env.get_current_time()
        if self.leads and start <= now:
            raise InputError(f"the first lead arrives at {start.isoformat()}, but the time-skipping server starts "
                             f"at the present ({now.isoformat()}); simulated time only moves forward there: use "
                             "arrivals in the future, or the core engine (--engine core) for past dates")

    async def _now(self) -> datetime:
        return await self.env.get_current_time()

    async def _advance_to(self, at: datetime) -> None:
        now = await self.env.get_current_time()
        if at > now:
            await self.env.sleep(at - now)

    def _settled(self, state: LeadState) -> bool:
        return settled(state)

    async def _wakeups_done(self, lead_id: str) -> LeadState:
        now = await self.env.get_current_time()
        return await self._settle(lead_id, lambda s: s.stage in TERMINAL_STAGES or (
            settled(s) and ((wake := next_wakeup(s)) is None or wake > now)))

    def _handle(self, lead_id: str):
        return self.client.get_workflow_handle(workflow_id(lead_id))

    async def _state(self, lead_id: str) -> LeadState:
        return await self._handle(lead_id).query(LeadWorkflow.state)

    async def _settle(self, lead_id: str, predicate=settled, timeout: float = 120.0) -> LeadState:
        # Simulated time does not skip while the driver polls (only `env.sleep` skips).
        deadline = time.monotonic() + timeout
        delay = 0.002
        while True:
            state = await self._state(lead_id)
            if predicate(state):
                return state
            if time.monotonic() > deadline:
                raise RuntimeError(f"lead {lead_id} did not settle within {timeout:.0f}s (stage {state.stage})")
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.05)

    async def _final_states(self) -> list[LeadState]:
        gate = asyncio.Semaphore(16)

        async def one(lead_id: str) -> LeadState:
            async with gate:
                return await self._state(lead_id)

        return list(await asyncio.gather(*(one(row.lead_id) for row in self.leads)))

    async def _arrive(self, row: LeadRow) -> LeadState:
        now = await self.env.get_current_time()
        intake = row.intake()
        # As the API does at ingest: the suppression list and Q28's account match.
        suppression = await find_suppression(self.pool, intake, now)
        account = await find_account_status(self.pool, intake, self.policy)
        await self.client.start_workflow(
            LeadWorkflow.run,
            new_run_input(intake=intake, policy_ref=self.policy_ref, suppression=suppression, account=account),
            id=workflow_id(row.lead_id), task_queue=TASK_QUEUE, id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE)
        return await self._settle(row.lead_id)

    async def _send(self, lead_id: str, name: str, command: BaseModel) -> tuple[LeadState | None, str | None]:
        try:
            await self._handle(lead_id).execute_update(name, command)
        except WorkflowUpdateFailedError as exc:
            cause = exc.cause
            return None, str(getattr(cause, "message", None) or cause or exc)
        return await self._settle(lead_id), None

    async def _engage(self, lead_id: str, events: list[EngagementEvent], fresh: bool) -> None:
        before = (await self._state(lead_id)).counts.get("engagements", 0)
        await self._handle(lead_id).signal(LeadWorkflow.engagement, events)
        if fresh:  # the workflow ignores repeats, so only fresh events change anything
            await self._settle(lead_id, lambda s: s.counts.get("engagements", 0) > before and settled(s))
