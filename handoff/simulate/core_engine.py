"""The core engine: the leads through the pure lifecycle core (`sla_policies.lifecycle`)
in memory, with no Temporal and no PostgreSQL, at any dates (past quarters included).

What the workflow does with timers, this engine does with one priority queue of instants:
each lead's next instant (`clockbook.next_wakeup`) is queued, and advancing simulated time
fires every queued instant up to the target, in time order, each at its own instant, as a
`Tick`. What the workflow asks of activities (assignments, account questions, calendars)
is answered in memory (`fakes`), and its effects (projection, releases, suppression
entries) are carried out there. The inputs are fed as the workflow feeds them: a command
at its instant, then a `Tick` at the same instant.
"""

from __future__ import annotations

import gc
import heapq
import itertools
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import BaseModel

from handoff.simulate.driver import Simulation
from handoff.simulate.fakes import ReadModel, Roster, SuppressionList
from handoff.simulate.rows import LeadRow
from sla_policies.clockbook import next_wakeup
from sla_policies.lead import EngagementEvent
from sla_policies.lifecycle import is_over, new_lead
from sla_policies.lifecycle.calendar import calendar_inputs, snapshot
from sla_policies.lifecycle.run import settle
from sla_policies.lifecycle.types import (
    Answer,
    CalendarQuery,
    CapacityFreed,
    Decision,
    Engagement,
    Input,
    LeadCalendar,
    Project,
    Question,
    Release,
    ShareCommitteeSignal,
    Start,
    Tick,
    WriteSuppression,
)
from sla_policies.model import Policy
from sla_policies.state import (
    AccountEngagementQuery,
    AccountStatusQuery,
    AssignmentRequest,
    LeadState,
)


@dataclass
class _Lead:
    state: LeadState
    policy: Policy
    calendar: LeadCalendar | None
    order: int  # arrival order: instants due together fire in it
    wake: datetime | None = None


class CoreSimulation(Simulation):
    engine = "core"

    @asynccontextmanager
    async def _running(self):
        self._roster = Roster(self.team)
        self._suppressions = SuppressionList()
        self._read_model = ReadModel()
        self._leads: dict[str, _Lead] = {}
        self._instants: list[tuple[datetime, int, str]] = []
        self._arrivals = itertools.count()
        self._calendars: dict[str, LeadCalendar] = {}
        self._clock = self.leads[0].arrived_at if self.leads else datetime.now(UTC)
        self.decisions = 0
        # A run builds many long-lived objects (every lead's state); full collections over
        # them cost more than the run itself, and nothing here makes reference cycles to reclaim.
        threshold = gc.get_threshold()
        gc.collect()
        gc.freeze()
        gc.set_threshold(50_000, 20, 1_000)
        try:
            yield
        finally:
            gc.set_threshold(*threshold)
            gc.unfreeze()

    async def _now(self) -> datetime:
        return self._clock

    async def _advance_to(self, at: datetime) -> None:
        while self._instants and self._instants[0][0] <= at:
            wake, _, lead_id = heapq.heappop(self._instants)
            lead = self._leads[lead_id]
            if lead.wake != wake:
                continue  # superseded: the lead's next instant changed since it was queued
            lead.wake = None
            self._clock = max(self._clock, wake)
            self._decide(lead, Tick(), wake)
        self._clock = max(self._clock, at)

    async def _state(self, lead_id: str) -> LeadState:
        return self._leads[lead_id].state

    async def _arrive(self, row: LeadRow) -> LeadState:
        now = self._clock
        intake = row.intake()
        # As the API does at ingest: the suppression list and Q28's account match.
        suppression = self._suppressions.find(intake, now)
        domain = intake.account_domain(self.policy.qualification.free_email_domains)
        account = self._read_model.account_status(
            AccountStatusQuery(domain=domain, exclude_lead_id=intake.lead_id)) if domain else None
        state = new_lead(intake, self.policy, now)
        # The lead's calendar snapshot up front, exactly the one its first decision would ask
        # for (`Ctx.cal`): one decision fewer per lead, the same answer.
        calendar = self._answer(CalendarQuery(inputs=calendar_inputs(state, self.policy),
                                              first_year=now.year - 1, last_year=now.year + 3))
        lead = _Lead(state=state, policy=self.policy, calendar=calendar,  # type: ignore[arg-type]
                     order=next(self._arrivals))
        self._leads[row.lead_id] = lead
        self._decide(lead, Start(suppression=suppression, account=account), now)
        self._decide(lead, Tick(), now)
        return lead.state

    async def _send(self, lead_id: str, name: str, command: BaseModel) -> tuple[LeadState | None, str | None]:
        lead = self._leads[lead_id]
        decision = self._decide(lead, command, self._clock)  # type: ignore[arg-type]
        if decision.refused is not None:
            return None, decision.refused.reason
        self._decide(lead, Tick(), self._clock)
        return lead.state, None

    async def _engage(self, lead_id: str, events: list[EngagementEvent], fresh: bool) -> None:
        lead = self._leads[lead_id]
        self._decide(lead, Engagement(events=events), self._clock)
        self._decide(lead, Tick(), self._clock)

    async def _final_states(self) -> list[LeadState]:
        return [self._leads[row.lead_id].state for row in self.leads]

    # .............................................................. the core
    def _decide(self, lead: _Lead, input: Input, now: datetime) -> Decision:
        self.decisions += 1
        decision = settle(lead.state, input, now, lead.policy, lead.calendar, self._answer)
        lead.calendar = decision.calendar or lead.calendar
        if decision.refused is not None:
            return decision
        lead.state = decision.state
        lead.policy = decision.policy or lead.policy
        projected = False
        woken: list[str] = []
        shared: list[ShareCommitteeSignal] = []
        for effect in decision.effects:
            if isinstance(effect, Project):
                projected = True
            elif isinstance(effect, Release):
                # As the workflow does: the freed slot wakes the oldest capacity-held leads.
                woken += self._roster.release(effect.rep_id, lambda other: other != lead.state.lead_id and (
                    self._leads[other].state.stage == "capacity_hold" if other in self._leads else False))
            elif isinstance(effect, WriteSuppression):
                self._suppressions.write(effect.entry)
            elif isinstance(effect, ShareCommitteeSignal):
                shared.append(effect)
            # Notify: nobody reads mail in a simulation; ContinueAsNew: the state simply carries on.
        if projected:
            self._read_model.project(lead.state)
        self._queue(lead)
        for other in woken:
            self._decide(self._leads[other], CapacityFreed(), now)
        for share in shared:  # as the workflow signals the account's other open leads (§3.6)
            for other in self._read_model.open_leads(share.recipients):
                self._decide(self._leads[other], share.signal, now)
                self._decide(self._leads[other], Tick(), now)
        return decision

    def _queue(self, lead: _Lead) -> None:
        state = lead.state
        wake = None if is_over(state) else next_wakeup(state)
        if wake != lead.wake:
            lead.wake = wake
            if wake is not None:
                heapq.heappush(self._instants, (wake, lead.order, lead.state.lead_id))

    def _answer(self, question: Question) -> Answer:
        if isinstance(question, CalendarQuery):
            key = question.model_dump_json()
            if key not in self._calendars:
                self._calendars[key] = snapshot(question)
            return self._calendars[key]
        if isinstance(question, AssignmentRequest):
            return self._roster.assign(question)
        if isinstance(question, AccountStatusQuery):
            return self._read_model.account_status(question)
        if isinstance(question, AccountEngagementQuery):
            return self._read_model.account_engagement(question)
        raise TypeError(f"the core asked an unknown question {type(question).__name__}")
