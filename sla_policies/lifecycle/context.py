"""One decision in progress: the state being changed, the effects so far, the questions.

`Ctx` is created by `decide` on a copy of the lead's state and thrown away with it. A
question the core cannot answer itself (who gets the lead, is the account a customer,
the lead's calendar) is asked with `ask`: the k-th question of a decision takes the k-th
given answer, or stops the decision with `NeedAnswer`. The caller asks, appends the answer
and decides again from the same state, input and instant; the core is deterministic, so
the replay reaches the same question and goes on. No answer is ever invented.
"""

from __future__ import annotations

from datetime import datetime

from sla_policies.calendar import BusinessCalendar
from sla_policies.commands import Actor
from sla_policies.lifecycle import table
from sla_policies.lifecycle.calendar import calendar_inputs
from sla_policies.lifecycle.errors import LifecycleError, Refused
from sla_policies.lifecycle.guards import GUARDS
from sla_policies.lifecycle.types import (
    Answer,
    CalendarQuery,
    ContinueAsNew,
    Effect,
    LeadCalendar,
    Notify,
    Project,
    Question,
    Release,
)
from sla_policies.model import Policy
from sla_policies.model.transitions import TransitionRule
from sla_policies.state import (
    LeadState,
    Notification,
    ProjectionEvent,
    SlaClock,
    Transition,
)


class NeedAnswer(Exception):
    def __init__(self, question: Question):
        super().__init__(type(question).__name__)
        self.question = question


class Ctx:
    def __init__(self, state: LeadState, policy: Policy, now: datetime, calendar: LeadCalendar | None,
                 answers: list[Answer]):
        self.state = state
        self.policy = policy
        self.now = now
        self.calendar = calendar
        self._answers = answers
        self._asked = 0
        self.effects: list[Effect] = []
        self.rules: list[str] = []
        self.result_event: str | None = None

    # ------------------------------------------------------------- questions
    def ask(self, question: Question) -> Answer:
        if self._asked < len(self._answers):
            answer = self._answers[self._asked]
            self._asked += 1
            return answer
        raise NeedAnswer(question)

    def cal(self, start: datetime) -> BusinessCalendar:
        """The lead's calendar for computations from `start` (Q1 timezone, Q2 holidays):
        the snapshot the caller gave, or a new one asked for."""
        inputs = calendar_inputs(self.state, self.policy)
        first, last = start.year - 1, start.year + 2
        if self.calendar is None or not self.calendar.covers(inputs, first, last):
            snapshot = self.ask(CalendarQuery(inputs=inputs, first_year=first, last_year=last + 1))
            if not isinstance(snapshot, LeadCalendar) or not snapshot.covers(inputs, first, last):
                raise LifecycleError(f"calendar answer does not cover {inputs} {first}-{last}")
            self.calendar = snapshot
        return self.calendar.calendar

    # ------------------------------------------------------------- effects
    def emit(self, effect: Effect) -> None:
        self.effects.append(effect)

    def next(self, counter: str) -> int:
        self.state.counts[counter] = self.state.counts.get(counter, 0) + 1
        return self.state.counts[counter]

    def bump(self, counter: str, by: int = 1) -> None:
        self.state.counts[counter] = self.state.counts.get(counter, 0) + by

    def record(self, kind: str, *, transition: Transition | None = None, clock: SlaClock | None = None) -> None:
        """A change for the read model; `projection_seq` numbers the lead's changes."""
        self.state.updated_at = self.now
        self.emit(Project(event=ProjectionEvent(
            seq=self.next("projection_seq"), at=self.now, kind=kind, transition=transition,
            clock=_copy_clock(clock) if clock else None)))

    def notify(self, kind: str, role: str, rep: str | None, *, item: str | None = None, detail: str | None = None,
               due_at: datetime | None = None) -> None:
        """A notification; its sequence number makes the delivery's dedup key."""
        self.emit(Notify(notification=Notification(
            seq=self.next("notify_seq"), lead_id=self.state.lead_id, kind=kind, recipient_role=role, recipient=rep,
            at=self.now, item=item, detail=detail, due_at=due_at)))
        self.record(f"notified_{kind}")

    def release(self, rep: str | None) -> None:
        if rep is not None:
            self.emit(Release(rep_id=rep))

    def continue_as_new(self) -> None:
        if not any(isinstance(e, ContinueAsNew) for e in self.effects):
            self.emit(ContinueAsNew())

    # ------------------------------------------------------------- the table
    def _guard(self, rule: TransitionRule, subject: object) -> None:
        """The rule's named guard (sla_policies/lifecycle/guards.py), if it has one."""
        if rule.guard is not None:
            refusal = GUARDS[rule.guard](self, rule, subject)
            if refusal is not None:
                raise refusal

    def authorize(self, event: str, actor: Actor, subject: object = None, *, to: str | None = None):
        """The rule for a person's command: table (409 wrong stage / 403 wrong role), then
        access (sla_policies/access.py), then the rule's guard."""
        rule = table.find(self.policy, self.state.stage, event, actor.role, to=to)
        table.check_access(rule, actor, self.state)
        self._guard(rule, subject)
        self.rules.append(f"{rule.id}:{rule.event}:{rule.to}")
        return rule

    def check(self, event: str, to: str, *, role: str = "system", subject: object = None) -> None:
        """The guard of a system move, before the move starts changing the state it reads."""
        try:
            self._guard(table.find(self.policy, self.state.stage, event, role, to=to), subject)
        except Refused as refused:
            raise LifecycleError(f"{event} -> {to}: {refused.reason}") from None

    def transition(self, event: str, to: str, label: str, *, role: str = "system", actor: str = "system",
                   reason_code: str | None = None, note: str | None = None, at: datetime | None = None,
                   subject: object = None, from_none: bool = False, checked: bool = False) -> Transition:
        """Every stage change: the rule (stage, event, role, to) must be in the policy's table
        and its guard must hold (`checked`: `check` already evaluated it, before the move
        changed what it reads), else this is a bug of the core (LifecycleError)."""
        from_stage = None if from_none else self.state.stage
        try:
            rule = table.find(self.policy, from_stage, event, role, to=to)
            if not checked:
                self._guard(rule, subject)
        except Refused as refused:
            raise LifecycleError(f"{label}: {refused.reason}") from None
        if not label.startswith(rule.id):
            raise LifecycleError(f"{label!r} is recorded under rule {rule.id}")
        self.rules.append(f"{rule.id}:{rule.event}:{rule.to}")
        transition = Transition(at=at or self.now, from_stage=from_stage, to_stage=to, event=label, actor=actor,
                                reason_code=reason_code, note=note)
        self.state.stage = to
        self.state.transitions.append(transition)
        self.record("transition", transition=transition)
        return transition

    def stay(self, event: str, to: str, subject: object = None) -> None:
        """A rule whose outcome keeps the stage and is not recorded as a transition (T02)."""
        rule = table.find(self.policy, self.state.stage, event, "system", to=to)
        self._guard(rule, subject)
        self.rules.append(f"{rule.id}:{rule.event}:{rule.to}")


def _copy_clock(clock: SlaClock) -> SlaClock:
    """A deep copy of the clock as it stands for the projection event. Rebuilt from its
    round-trip dump: about four times faster than `model_copy(deep=True)`."""
    return SlaClock.model_validate(clock.model_dump(round_trip=True))
