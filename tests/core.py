"""A lead driven by the pure core alone, with in-memory answers (no Temporal, no SQL):
the harness of the millisecond lifecycle tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sla_policies import clockbook
from sla_policies.lead import LeadIntake
from sla_policies.lifecycle import decide, new_lead
from sla_policies.lifecycle.calendar import snapshot
from sla_policies.lifecycle.run import settle
from sla_policies.lifecycle.types import (
    CalendarQuery,
    Decision,
    Input,
    LeadCalendar,
    Start,
    Tick,
)
from sla_policies.loader import default_policy
from sla_policies.model import Policy
from sla_policies.state import (
    AccountEngagement,
    AccountEngagementQuery,
    AccountStatus,
    AccountStatusQuery,
    Assignment,
    AssignmentRequest,
    LeadState,
    Unassigned,
)


@dataclass
class Roster:
    """Round robin over fixed reps per role; `exclude` honoured."""

    reps: dict[str, list[tuple[str, str | None, str]]] = field(default_factory=lambda: {
        "sdr": [("sdr-1", "sdrm-1", "America/New_York"), ("sdr-2", "sdrm-1", "America/New_York")],
        "ae": [("ae-1", "aem-1", "America/New_York"), ("ae-2", "aem-1", "America/New_York")],
    })
    turn: dict[str, int] = field(default_factory=dict)
    # Roles whose reps all cover the lead but are full: role -> their managers (capacity hold).
    full: dict[str, list[str]] = field(default_factory=dict)

    def assign(self, request: AssignmentRequest) -> Assignment | Unassigned:
        if request.role in self.full:
            managers = self.full[request.role]
            return Unassigned(reason="capacity", role=request.role, eligible=len(managers), managers=managers)
        free = [r for r in self.reps.get(request.role, []) if r[0] not in request.exclude]
        if not free:
            return Unassigned(reason="territory", role=request.role)
        n = self.turn.get(request.role, 0)
        self.turn[request.role] = n + 1
        rep, manager, tz = free[n % len(free)]
        return Assignment(rep_id=rep, role=request.role, manager_id=manager, timezone=tz)


@dataclass
class CoreLead:
    """One lead on the core: `start`, `act`, `advance_to`; every decision kept."""

    intake: LeadIntake
    policy: Policy = field(default_factory=default_policy)
    roster: Roster = field(default_factory=Roster)
    account: AccountStatus | None = None
    # The read model's answer on the account's other people (§3.6).
    engagement: AccountEngagement = field(default_factory=lambda: AccountEngagement(contacts=0, director_plus=False))
    state: LeadState | None = None
    calendar: LeadCalendar | None = None
    decisions: list[Decision] = field(default_factory=list)

    def _answer(self, question):
        if isinstance(question, CalendarQuery):
            return snapshot(question)
        if isinstance(question, AssignmentRequest):
            return self.roster.assign(question)
        if isinstance(question, AccountStatusQuery):
            return self.account or AccountStatus()
        if isinstance(question, AccountEngagementQuery):
            return self.engagement
        raise AssertionError(question)

    def _apply(self, input: Input, now: datetime) -> Decision:
        assert self.state is not None
        decision = settle(self.state, input, now, self.policy, self.calendar, self._answer)
        self.decisions.append(decision)
        if decision.refused is None:
            self.state = decision.state
            self.policy = decision.policy or self.policy
        self.calendar = decision.calendar or self.calendar
        return decision

    def start(self, now: datetime, **kwargs) -> Decision:
        """T01 at `now`, then the automatic steps at the same instant (as the workflow does)."""
        self.state = new_lead(self.intake, self.policy, now)
        decision = self._apply(Start(**kwargs), now)
        self._apply(Tick(), now)
        return decision

    def act(self, command: Input, now: datetime) -> Decision:
        """A command at `now`: first every instant due before it, then the command, then
        the automatic steps it triggers (as the workflow does)."""
        self.advance_to(now)
        decision = self._apply(command, now)
        if decision.refused is None:
            self._apply(Tick(), now)
        return decision

    def advance_to(self, until: datetime) -> None:
        """Fire every instant up to `until`, each at its own instant."""
        assert self.state is not None
        for _ in range(10_000):
            wake = clockbook.next_wakeup(self.state)
            if wake is None or wake > until:
                return
            self._apply(Tick(), wake)
        raise AssertionError("instants do not settle")

    def validate(self, command: Input, now: datetime) -> Decision:
        """What an Update validator sees: `decide` on the state, no answers."""
        assert self.state is not None
        return decide(self.state, command, now, self.policy, self.calendar)
