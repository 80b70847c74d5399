"""One policy's run, whichever engine carries it: the agenda, the script and the team model.

The driver keeps one agenda of timed actions (arrivals, script rows, and what the team
model decides next) and works through it in time order: advance simulated time to the
action's instant (every instant of every lead due on the way fires, each at its own
instant), then start the lead or send it the command, and read the lead's state back, so
that leads reach the roster in a fixed order and the same inputs give the same output.
Without a script or team nobody acts; with both, both act.

The engines (`core_engine`, `temporal_engine`) supply time, the leads and their answers;
everything that decides *what* happens and *when* lives here, once, so both engines are
given exactly the same inputs at exactly the same instants.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import random
import time
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from handoff.simulate.rows import InputError, LeadRow, ScriptRow
from handoff.simulate.team import Minutes, Team
from sla_policies.clockbook import next_wakeup
from sla_policies.commands import (
    Accept,
    Actor,
    Briefing,
    Disqualify,
    Handoff,
    Meddpic,
    OpportunityUpdate,
    PatchLead,
    Recycle,
    Reject,
    Touch,
)
from sla_policies.deadlines import CalendarInputs, InstantRequest, compute_instant
from sla_policies.lead import ContactPatch, EngagementEvent
from sla_policies.model import Policy
from sla_policies.records import LeadRecord
from sla_policies.span import Span
from sla_policies.state import LeadState

Engine = Literal["core", "temporal"]
# The time-skipping server strands a workflow whose task cancels a timer that fired while
# the task was with the worker (temporalio/sdk-java#3088), and a command does cancel the
# lead's timer. So no engine acts within TIMER_GUARD of the lead's own next instant: such an
# action is performed TIMER_GUARD before it (or TIMER_GUARD after it when it has passed).
# The core engine follows the same rule, so that both engines give the same files.
TIMER_GUARD = timedelta(seconds=2)
CLOCK_SLACK = timedelta(milliseconds=500)
log = logging.getLogger(__name__)


class Refused(BaseModel):
    """An action the lifecycle refused (wrong stage, not the owner, gate not met...)."""

    lead_id: str
    at: datetime
    action: str
    actor: str
    detail: str


class RunResult(BaseModel):
    policy_version: str
    engine: str
    states: list[LeadState]
    refused: list[Refused]
    leads: int
    actions: int
    seconds: float
    start: datetime
    end: datetime

    @property
    def records(self) -> list[LeadRecord]:
        return [state.to_record() for state in self.states]


@dataclass(order=True)
class _Item:
    at: datetime
    order: int
    lead_id: str = field(compare=False)
    kind: str = field(compare=False)  # "arrive", "script", or a team step
    payload: Any = field(compare=False, default=None)


_COMMANDS: dict[str, type[BaseModel]] = {
    "accept": Accept, "reject": Reject, "touch": Touch, "handoff": Handoff, "recycle": Recycle,
    "disqualify": Disqualify, "opportunity": OpportunityUpdate}


class Simulation:
    """The engine-independent run. Subclasses provide the engine operations below."""

    engine: Engine

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

    # .............................................................. engine operations
    def _running(self) -> AbstractAsyncContextManager:
        """The engine, open for the run."""
        raise NotImplementedError

    async def _now(self) -> datetime:
        raise NotImplementedError

    async def _advance_to(self, at: datetime) -> None:
        """Move simulated time forward to `at` (never back), firing every instant on the way."""
        raise NotImplementedError

    async def _state(self, lead_id: str) -> LeadState:
        raise NotImplementedError

    async def _wakeups_done(self, lead_id: str) -> LeadState:
        """The lead's state once every instant due by now has been processed."""
        return await self._state(lead_id)

    def _settled(self, state: LeadState) -> bool:
        """The lead finished reacting to its last input (an engine that reacts at once: always)."""
        return True

    async def _arrive(self, row: LeadRow) -> LeadState:
        """Create the lead (as the API's ingest does) and return its state once settled."""
        raise NotImplementedError

    async def _send(self, lead_id: str, name: str, command: BaseModel) -> tuple[LeadState | None, str | None]:
        """One command to the lead: (its state after, None), or (None, why it was refused)."""
        raise NotImplementedError

    async def _engage(self, lead_id: str, events: list[EngagementEvent], fresh: bool) -> None:
        raise NotImplementedError

    async def _final_states(self) -> list[LeadState]:
        raise NotImplementedError

    async def _check_start(self, start: datetime) -> None:
        """Refuse inputs the engine cannot run (the time-skipping server cannot go back)."""

    # .............................................................. the run
    async def run(self) -> RunResult:
        began = time.monotonic()
        async with self._running():
            start = self.leads[0].arrived_at if self.leads else await self._now()
            await self._check_start(start)
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
                    state = await self._arrive(self.rows[item.lead_id])
                    if self.acting:
                        self._plan_owner_work(item.lead_id, state)
                    continue
                state = await self._advance_clear_of_timers(item.lead_id, item.at)
                if item.kind == "script":
                    await self._scripted(item.payload, state)
                else:
                    await self._team_step(item, state)
            await self._advance_to(end)
            states = await self._final_states()
        return RunResult(policy_version=self.policy.version, engine=self.engine, states=states,
                         refused=self.refused, leads=len(self.leads), actions=self.actions,
                         seconds=time.monotonic() - began, start=start, end=end)

    def _schedule(self, at: datetime, lead_id: str, kind: str, payload: Any = None) -> None:
        heapq.heappush(self._agenda, _Item(at, next(self._order), lead_id, kind, payload))

    async def _advance_clear_of_timers(self, lead_id: str, at: datetime) -> LeadState:
        """Advance to `at` for a command to the lead, but never act within `TIMER_GUARD` of
        the lead's own next instant (see TIMER_GUARD). Returns the lead's state then."""
        state = await self._state(lead_id)
        wake = next_wakeup(state)
        if self._settled(state) and (wake is None or wake > at + TIMER_GUARD):
            # Nothing of this lead fires before then, so one skip will do.
            await self._advance_to(at)
            return state
        await self._advance_to(at - TIMER_GUARD)
        state = await self._wakeups_done(lead_id)
        wake = next_wakeup(state)
        if wake is None or wake > at + TIMER_GUARD:
            await self._advance_to(at)
            return state
        now = await self._now()
        # On the time-skipping server `now` is a little after the instant skipped to (its
        # clock runs at real pace between skips); instants here are whole seconds, so half
        # a second of slack puts both engines on the same side of this test.
        if wake - now >= TIMER_GUARD - CLOCK_SLACK:
            return state
        await self._advance_to(wake + TIMER_GUARD)
        return await self._wakeups_done(lead_id)

    async def _update(self, lead_id: str, name: str, command: BaseModel, actor: str) -> LeadState | None:
        """Send one command; a refusal is recorded, not fatal (people make mistakes)."""
        self.actions += 1
        state, refused = await self._send(lead_id, name, command)
        if refused is not None:
            self.refused.append(Refused(lead_id=lead_id, at=await self._now(), action=name, actor=actor,
                                        detail=refused))
        return state

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
            try:
                parsed = [EngagementEvent.model_validate({"occurred_at": row.at, **e}) for e in events]
            except ValidationError as exc:
                raise InputError(f"script: {row.lead_id} {row.at.isoformat()} event: {exc}") from None
            self.actions += 1
            known = {(e.type, e.occurred_at) for e in state.intake.events}
            fresh = [e for e in parsed if (e.type, e.occurred_at) not in known]
            await self._engage(row.lead_id, parsed, bool(fresh))
            return
        actor = self._actor(row.actor, state)
        if actor is None and row.action == "patch" and row.actor == "owner":
            actor = Actor(id="revops", role="revops")  # a lead on data hold has no owner: RevOps corrects it
        if actor is None:
            self.refused.append(Refused(lead_id=row.lead_id, at=row.at, action=row.action, actor=row.actor,
                                        detail=f"no such actor: {row.actor!r} is not on the roster, "
                                               "or the lead has no owner"))
            return
        try:
            if row.action == "patch":
                command: BaseModel = PatchLead(actor=actor, patch=ContactPatch.model_validate(row.args))
            else:
                args = {"channel": "phone", "outcome": "no_answer", **row.args} if row.action == "touch" else row.args
                command = _COMMANDS[row.action].model_validate({**args, "actor": actor})
        except ValidationError as exc:
            raise InputError(f"script: {row.lead_id} {row.at.isoformat()} {row.action}: {exc}") from None
        after = await self._update(row.lead_id, row.action, command, actor.id)
        if after is not None and self.acting and row.action == "reject":
            self._plan_owner_work(row.lead_id, after)  # re-routed: the new owner works it

    # .............................................................. team model
    def _rng(self, lead_id: str) -> random.Random:
        # One stream per lead: a lead's draws do not depend on how other leads went.
        if lead_id not in self._rngs:
            self._rngs[lead_id] = random.Random(f"{self.seed}:{lead_id}")
        return self._rngs[lead_id]

    def _calendar(self, row: LeadRow) -> CalendarInputs:
        """The business calendar the lead's reps work on (the team's delays are business minutes)."""
        inputs = CalendarInputs.for_lead(self.policy, timezone=row.timezone, country=row.country)
        if (row.region and inputs.country and inputs.subdivision is None
                and self.policy.calendars.subdivision_from_region):
            inputs = inputs.model_copy(update={"subdivision": row.region})
        return inputs

    def _later(self, lead_id: str, start: datetime, delay: Minutes, *, business: bool = True) -> datetime:
        minutes = max(1, round(delay.draw(self._rng(lead_id))))
        if not business:
            return start + timedelta(minutes=minutes)
        return compute_instant(InstantRequest(start=start, span=Span(minutes, "m"), basis="business",
                                              calendar=self._calendar(self.rows[lead_id])))

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
        now = await self._now()
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
