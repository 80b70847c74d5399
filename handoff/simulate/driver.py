"""One policy's run: the leads through the real LeadWorkflow and activities on Temporal's
time-skipping test server, with the roster and read model in a real PostgreSQL.

The driver keeps one agenda of timed actions (arrivals, script rows, or what the team
model decides next) and works through it in time order: advance simulated time to the
action's instant (`env.sleep`; every timer due on the way fires in the workflows), then
ingest the lead or send the Update or Signal, and wait until the workflow has settled
(routed, if it routes), so that leads reach the roster in a fixed order and the same
inputs give the same output. Without a script or team nobody acts.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import random
import time
import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel, ValidationError
from temporalio.client import WorkflowUpdateFailedError
from temporalio.common import WorkflowIDReusePolicy
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from activities.migrations import apply_migrations
from api.suppressions import find_suppression
from handoff.devstack import ensure_search_attributes
from handoff.simulate.files import InputError, LeadRow, ScriptRow
from handoff.simulate.team import Minutes, Team
from handoff.worker import build_worker
from infra.temporal import test_server_path
from sla_policies.clockbook import next_wakeup
from sla_policies.commands import (
    Accept,
    Actor,
    Briefing,
    Disqualify,
    Handoff,
    Meddpic,
    OpportunityUpdate,
    Recycle,
    Reject,
    Touch,
)
from sla_policies.deadlines import CalendarInputs, InstantRequest, compute_instant
from sla_policies.lead import ContactPatch, EngagementEvent
from sla_policies.model import Policy
from sla_policies.records import LeadRecord
from sla_policies.span import Span
from sla_policies.state import LeadState, LeadWorkflowInput
from workflows.lead import TERMINAL_STAGES, LeadWorkflow

TASK_QUEUE = "handoff-simulate"
TIMER_GUARD = timedelta(seconds=2)
log = logging.getLogger(__name__)


class Refused(BaseModel):
    """An action the workflow refused (wrong stage, not the owner, gate not met...)."""

    lead_id: str
    at: datetime
    action: str
    actor: str
    detail: str


class RunResult(BaseModel):
    policy_version: str
    records: list[LeadRecord]
    refused: list[Refused]
    leads: int
    actions: int
    seconds: float
    start: datetime
    end: datetime


# ---------------------------------------------------------------- infrastructure
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


@asynccontextmanager
async def simulation_stack(database_url: str):
    """The time-skipping server and a worker on it; yields (env, pool)."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=test_server_path(), data_converter=pydantic_data_converter)
    try:
        await ensure_search_attributes(env.client, "default")
        pool = AsyncConnectionPool(database_url, min_size=1, max_size=6, open=False)
        await pool.open()
        try:
            # Every lead stays cached: an evicted lead would be replayed from its history
            # on its next timer, which costs more than the memory.
            async with build_worker(env.client, TASK_QUEUE, pool, max_cached_workflows=20_000):
                yield env, pool
        finally:
            await pool.close()
    finally:
        await env.shutdown()


# ---------------------------------------------------------------- the agenda
@dataclass(order=True)
class _Item:
    at: datetime
    order: int
    lead_id: str = field(compare=False)
    kind: str = field(compare=False)  # "arrive", "script", or a team step
    payload: Any = field(compare=False, default=None)


def _calendar(policy: Policy, row: LeadRow) -> CalendarInputs:
    return CalendarInputs.for_lead(policy, timezone=row.timezone, country=row.country)


def settled(state: LeadState) -> bool:
    """The workflow finished reacting to its last input: evaluated, and routed if it routes."""
    if state.stage == "inquiry":
        return state.counts.get("projection_seq", 0) >= 2
    return state.stage != "mql" or state.routed_at is not None


class Simulation:
    def __init__(self, policy: Policy, leads: list[LeadRow], *, team: Team, acting: bool,
                 script: list[ScriptRow] | None, seed: int, tail: timedelta):
        self.policy, self.leads, self.team, self.acting = policy, leads, team, acting
        self.script, self.seed, self.tail = script or [], seed, tail
        self.rows = {row.lead_id: row for row in leads}
        self.refused: list[Refused] = []
        self.actions = 0
        self._agenda: list[_Item] = []
        self._order = itertools.count()
        self._rngs: dict[str, random.Random] = {}

    # .............................................................. entry point
    async def run(self, database_url: str) -> RunResult:
        began = time.monotonic()
        async with fresh_database(database_url) as url:
            seed_roster(url, self.team)
            async with simulation_stack(url) as (env, pool):
                self.env, self.client, self.pool = env, env.client, pool
                start = await env.get_current_time()
                if self.leads and self.leads[0].arrived_at <= start:
                    raise InputError(f"the first lead arrives at {self.leads[0].arrived_at.isoformat()}, but the "
                                     f"time-skipping server starts at the present ({start.isoformat()}); simulated "
                                     "time only moves forward: use arrivals in the future")
                for row in self.leads:
                    self._schedule(row.arrived_at, row.lead_id, "arrive")
                for script_row in self.script:
                    self._schedule(script_row.at, script_row.lead_id, "script", script_row)
                last = max([self.leads[-1].arrived_at] + [r.at for r in self.script]) if self.leads else start
                end = last + self.tail
                while self._agenda and self._agenda[0].at <= end:
                    item = heapq.heappop(self._agenda)
                    log.debug("%s %s %s", item.at.isoformat(), item.lead_id, item.kind)
                    if item.kind == "arrive":
                        await self._advance_to(item.at)
                        await self._arrive(self.rows[item.lead_id])
                        continue
                    state = await self._advance_clear_of_timers(item.lead_id, item.at)
                    if item.kind == "script":
                        await self._scripted(item.payload, state)
                    else:
                        await self._team_step(item, state)
                await self._advance_to(end)
                records = await self._records()
        return RunResult(policy_version=self.policy.version, records=records, refused=self.refused,
                         leads=len(self.leads), actions=self.actions, seconds=time.monotonic() - began,
                         start=self.leads[0].arrived_at if self.leads else start, end=end)

    def _schedule(self, at: datetime, lead_id: str, kind: str, payload: Any = None) -> None:
        heapq.heappush(self._agenda, _Item(at, next(self._order), lead_id, kind, payload))

    async def _advance_to(self, at: datetime) -> None:
        now = await self.env.get_current_time()
        if at > now:
            await self.env.sleep(at - now)

    async def _advance_clear_of_timers(self, lead_id: str, at: datetime) -> LeadState:
        """Advance to `at` for an Update or Signal to the lead, but never act within
        `TIMER_GUARD` of the lead's own next timer: the time-skipping server strands a
        workflow whose task cancels a timer that fired while the task was with the worker
        ("invalid history builder state for action", temporalio/sdk-java#3088), and an
        action woken the workflow does cancel its timer. Between skips the server's clock
        runs at real pace, so a timer due just after the action would fire mid-task. An
        action that close to a timer is performed `TIMER_GUARD` before it instead (or just
        after it when that instant has passed). Returns the lead's state at that moment."""
        state = await self._state(lead_id)
        wake = next_wakeup(state)
        if settled(state) and (wake is None or wake > at + TIMER_GUARD):
            # Nothing of this lead fires before then (a timer still being processed would
            # show here as a wakeup in the past), so one skip will do.
            await self._advance_to(at)
            return state
        await self._advance_to(at - TIMER_GUARD)
        state = await self._wakeups_done(lead_id)
        wake = next_wakeup(state)
        if wake is None or wake > at + TIMER_GUARD:
            await self._advance_to(at)
            return state
        now = await self.env.get_current_time()
        if wake - now >= TIMER_GUARD:
            return state
        await self._advance_to(wake + TIMER_GUARD)
        return await self._wakeups_done(lead_id)

    async def _wakeups_done(self, lead_id: str) -> LeadState:
        """The lead's state once every instant due by now has been processed."""
        now = await self.env.get_current_time()
        return await self._settle(lead_id, lambda s: s.stage in TERMINAL_STAGES or (
            settled(s) and (next_wakeup(s) is None or next_wakeup(s) > now)))

    def _handle(self, lead_id: str):
        return self.client.get_workflow_handle(f"lead-{lead_id}")

    async def _state(self, lead_id: str) -> LeadState:
        return await self._handle(lead_id).query(LeadWorkflow.state)

    async def _settle(self, lead_id: str, predicate=settled, timeout: float = 60.0) -> LeadState:
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

    async def _records(self) -> list[LeadRecord]:
        gate = asyncio.Semaphore(16)

        async def one(lead_id: str) -> LeadRecord:
            async with gate:
                return (await self._state(lead_id)).to_record()

        return list(await asyncio.gather(*(one(row.lead_id) for row in self.leads)))

    # .............................................................. performing
    async def _arrive(self, row: LeadRow) -> None:
        intake = row.intake()
        now = await self.env.get_current_time()
        suppression = await find_suppression(self.pool, intake, now)  # as the API does at ingest
        await self.client.start_workflow(
            LeadWorkflow.run, LeadWorkflowInput(intake=intake, policy=self.policy, suppression=suppression),
            id=f"lead-{row.lead_id}", task_queue=TASK_QUEUE, id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE)
        state = await self._settle(row.lead_id)
        if self.acting:
            self._plan_owner_work(row.lead_id, state)

    async def _update(self, lead_id: str, name: str, command: BaseModel, actor: str) -> LeadState | None:
        """Send one disposition; a refusal is recorded, not fatal (people make mistakes)."""
        self.actions += 1
        handle = self._handle(lead_id)
        try:
            await handle.execute_update(name, command)
        except WorkflowUpdateFailedError as exc:
            cause = exc.cause
            self.refused.append(Refused(lead_id=lead_id, at=await self.env.get_current_time(), action=name,
                                        actor=actor, detail=str(getattr(cause, "message", None) or cause or exc)))
            return None
        return await self._settle(lead_id)

    def _actor(self, rep_id: str, state: LeadState) -> Actor | None:
        if rep_id == "owner":
            if state.owner is None:
                return None
            return Actor(id=state.owner, role=state.owner_role or "sdr")
        rep = self.team.rep(rep_id)
        return Actor(id=rep_id, role=rep.role) if rep else None

    # .............................................................. exact replay
    async def _scripted(self, row: ScriptRow, state: LeadState) -> None:
        if row.action == "event":
            events = row.args.get("events") or [row.args]
            parsed = [EngagementEvent.model_validate({"occurred_at": row.at, **e}) for e in events]
            self.actions += 1
            known = {(e.type, e.occurred_at) for e in state.intake.events}
            fresh = [e for e in parsed if (e.type, e.occurred_at) not in known]
            before = state.counts.get("engagements", 0)
            await self._handle(row.lead_id).signal(LeadWorkflow.engagement, parsed)
            if fresh:  # the workflow ignores repeats, so only fresh events change anything
                await self._settle(row.lead_id, lambda s: s.counts.get("engagements", 0) > before and settled(s))
            return
        if row.action == "patch":
            try:
                command = ContactPatch.model_validate(row.args)
            except ValidationError as exc:
                raise InputError(f"script: {row.lead_id} {row.at.isoformat()} patch: {exc}") from None
            await self._update(row.lead_id, "patch", command, row.actor)
            return
        actor = self._actor(row.actor, state)
        if actor is None:
            self.refused.append(Refused(lead_id=row.lead_id, at=row.at, action=row.action, actor=row.actor,
                                        detail=f"no such actor: {row.actor!r} is not on the roster,"
                                               " or the lead has no owner"))
            return
        models: dict[str, type[BaseModel]] = {
            "accept": Accept, "reject": Reject, "touch": Touch, "handoff": Handoff, "recycle": Recycle,
            "disqualify": Disqualify, "opportunity": OpportunityUpdate}
        args = {"channel": "phone", "outcome": "no_answer", **row.args} if row.action == "touch" else row.args
        try:
            disposition = models[row.action].model_validate({**args, "actor": actor})
        except ValidationError as exc:
            raise InputError(f"script: {row.lead_id} {row.at.isoformat()} {row.action}: {exc}") from None
        await self._update(row.lead_id, row.action, disposition, actor.id)

    # .............................................................. team model
    def _rng(self, lead_id: str) -> random.Random:
        # One stream per lead: a lead's draws do not depend on how other leads went.
        if lead_id not in self._rngs:
            self._rngs[lead_id] = random.Random(f"{self.seed}:{lead_id}")
        return self._rngs[lead_id]

    def _later(self, lead_id: str, start: datetime, delay: Minutes, *, business: bool = True) -> datetime:
        minutes = max(1, round(delay.draw(self._rng(lead_id))))
        if not business:
            return start + timedelta(minutes=minutes)
        return compute_instant(InstantRequest(start=start, span=Span(minutes, "m"), basis="business",
                                              calendar=_calendar(self.policy, self.rows[lead_id])))

    def _plan_owner_work(self, lead_id: str, state: LeadState) -> None:
        """A freshly routed MQL: its owner's first attempt, at the owner's response time."""
        if state.stage != "mql" or state.owner is None or state.routed_at is None:
            return
        rep = self.team.rep(state.owner)
        dist = (rep.response if rep and rep.response else None) or self.team.behaviour.first_response
        self._schedule(self._later(lead_id, state.routed_at, dist), lead_id, "first_touch")

    def _owner(self, state: LeadState) -> Actor | None:
        return Actor(id=state.owner, role=state.owner_role or "sdr") if state.owner else None

    def _touch_outcome(self, lead_id: str) -> str:
        return "connected" if self._rng(lead_id).random() < self.team.behaviour.touch_reply_rate else "no_answer"

    async def _team_step(self, item: _Item, state: LeadState) -> None:
        lead, b = item.lead_id, self.team.behaviour
        rng = self._rng(lead)
        owner = self._owner(state)
        now = await self.env.get_current_time()
        kind = item.kind
        if owner is None:
            return
        if kind == "first_touch" and state.stage == "mql":
            outcome = self._touch_outcome(lead)
            if await self._update(lead, "touch", Touch(actor=owner, channel="phone", outcome=outcome), owner.id):
                self._schedule(self._later(lead, now, b.decision), lead, "decide")
        elif kind == "decide" and state.stage == "mql":
            if rng.random() < b.accept_rate:
                if await self._update(lead, "accept", Accept(actor=owner), owner.id):
                    self._schedule(self._later(lead, now, b.touch_gap), lead, "sal_touch")
            else:
                code = rng.choices(list(b.rejection_mix), weights=list(b.rejection_mix.values()))[0]
                after = await self._update(lead, "reject", Reject(actor=owner, reason_code=code), owner.id)
                if after is not None:
                    self._plan_owner_work(lead, after)  # re-routed (REJ-07) to someone else
        elif kind == "sal_touch" and state.stage == "sal":
            outcome = self._touch_outcome(lead)
            channel = rng.choice(["phone", "email", "linkedin"])
            if await self._update(lead, "touch", Touch(actor=owner, channel=channel, outcome=outcome), owner.id):
                if outcome == "connected" and rng.random() < b.sql_rate_on_reply:
                    self._schedule(self._later(lead, now, b.handoff_delay), lead, "handoff")
                else:
                    self._schedule(self._later(lead, now, b.touch_gap), lead, "sal_touch")
        elif kind == "handoff" and state.stage == "sal":
            meeting = self._later(lead, now, Minutes(median=1800, p90=3600))
            command = Handoff(
                actor=owner, meddpic=Meddpic(metrics=True, decision_process=True, implicate_pain=True),
                meeting_at=meeting, meeting_link="https://meet.example/sim", pain_statement="simulated pain",
                timeline_months=rng.choice([1, 3, 6]),
                briefing=Briefing(confirmed_pain="yes", timeline="this quarter", stakeholders=["champion"],
                                  meeting_context="discovery"))
            after = await self._update(lead, "handoff", command, owner.id)
            if after is not None and after.stage == "sql":
                if after.sdr:
                    self._schedule(self._later(lead, now, b.three_way_intro, business=False), lead, "intro")
                self._schedule(self._later(lead, now, b.ae_response), lead, "ae_decide")
        elif kind == "intro" and state.stage == "sql" and state.sdr:
            await self._update(lead, "touch", Touch(actor=Actor(id=state.sdr, role="sdr"), channel="email",
                                                    outcome="sent"), state.sdr)
        elif kind == "ae_decide" and state.stage == "sql":
            if rng.random() < b.ae_accept_rate:
                if await self._update(lead, "accept", Accept(actor=owner, briefing_read=True), owner.id):
                    self._schedule(self._later(lead, now, b.ae_first_touch), lead, "ae_touch")
                    self._schedule(self._later(lead, now, b.meeting_after), lead, "meeting")
            else:
                code = rng.choices(list(b.ae_rejection_mix), weights=list(b.ae_rejection_mix.values()))[0]
                after = await self._update(lead, "reject", Reject(actor=owner, reason_code=code), owner.id)
                if after is not None and after.stage == "sal":
                    self._schedule(self._later(lead, now, b.touch_gap), lead, "sal_touch")
        elif kind == "ae_touch" and state.stage == "opportunity":
            await self._update(lead, "touch", Touch(actor=owner, channel="phone", outcome="connected"), owner.id)
        elif kind == "meeting" and state.stage == "opportunity":
            await self._update(lead, "opportunity", OpportunityUpdate(
                actor=owner, meeting_held_at=now, next_step="technical deep dive with the champion"), owner.id)


async def run_simulation(policy: Policy, leads: list[LeadRow], *, database_url: str, team: Team, acting: bool,
                         script: list[ScriptRow] | None = None, seed: int = 0,
                         tail: timedelta = timedelta(days=30)) -> RunResult:
    return await Simulation(policy, leads, team=team, acting=acting, script=script, seed=seed,
                            tail=tail).run(database_url)
