"""Calendar snapshots (and, for leads recorded before the lifecycle core, deadline
computation), run as *local activities* from the workflow.

Why an activity for a pure function: its result is recorded in the workflow history. The
lead's calendar snapshot (its business hours and the public holidays of its country and
region for a few years) is taken once and kept, so `decide` runs on it deterministically:
a worker upgraded to a new `holidays` release cannot change a running lead's replayed
decisions. Local, because it needs no task queue round trip.
"""

from __future__ import annotations

from datetime import datetime

from temporalio import activity

from sla_policies.deadlines import (
    ClockPlan,
    DeadlineRequest,
    InstantRequest,
    compute_instant,
)
from sla_policies.deadlines import compute_deadlines as _compute
from sla_policies.lifecycle.calendar import snapshot
from sla_policies.lifecycle.types import CalendarQuery, LeadCalendar


@activity.defn(name="lead_calendar")
async def lead_calendar(query: CalendarQuery) -> LeadCalendar:
    # On the event loop, not the activity thread pool: a snapshot is computed once per
    # calendar and then cached (microseconds), so the thread hop was nearly all its cost.
    return snapshot(query)


# Recorded by leads that started before the lifecycle core (tests/histories/v1/); kept
# registered so those runs can still finish on a worker that knows them.
@activity.defn(name="compute_deadlines")
def compute_deadlines(requests: list[DeadlineRequest]) -> list[ClockPlan]:
    return [_compute(request) for request in requests]


@activity.defn(name="compute_instants")
def compute_instants(requests: list[InstantRequest]) -> list[datetime]:
    return [compute_instant(request) for request in requests]
