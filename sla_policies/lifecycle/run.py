"""Running `decide` to the end with a synchronous answerer (the simulator and the tests;
the workflow does the same loop with activities)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sla_policies.lifecycle.decide import decide
from sla_policies.lifecycle.types import Answer, Decision, Input, LeadCalendar, Question
from sla_policies.model import Policy
from sla_policies.state import LeadState

MAX_QUESTIONS = 50  # one decision asks a handful; more means a loop


def settle(state: LeadState, input: Input, now: datetime, policy: Policy, calendar: LeadCalendar | None,
           answer: Callable[[Question], Answer]) -> Decision:
    """`decide`, answering each question with `answer` until the decision is complete."""
    answers: list[Answer] = []
    for _ in range(MAX_QUESTIONS):
        decision = decide(state, input, now, policy, calendar, answers)
        if decision.ask is None:
            return decision
        # Same state, input, instant and calendar each round: only the answers grow.
        answers.append(answer(decision.ask))
    raise RuntimeError(f"decision for {type(input).__name__} asked more than {MAX_QUESTIONS} questions")
