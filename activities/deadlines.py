"""Deadline computation, run as a *local activity* from the workflow.

Why an activity for a pure function: its result is recorded in the workflow history. A
running lead therefore keeps the deadlines it was given when each clock started, even if
the worker is later upgraded to a new `holidays` or `tzdata` release that would answer
differently (a new public holiday, a changed DST rule). Replay reads the recorded answer
instead of recomputing it. Local, because it needs no task queue round trip.
"""

from __future__ import annotations

from datetime import datetime

from temporalio import activity

from sla_policies.deadlines import ClockPlan, DeadlineRequest, InstantRequest, compute_instant
from sla_policies.deadlines import compute_deadlines as _compute


@activity.defn(name="compute_deadlines")
def compute_deadlines(requests: list[DeadlineRequest]) -> list[ClockPlan]:
    return [_compute(request) for request in requests]


@activity.defn(name="compute_instants")
def compute_instants(requests: list[InstantRequest]) -> list[datetime]:
    return [compute_instant(request) for request in requests]
