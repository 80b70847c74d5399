"""Where a probe lead's breach lateness went, read from its workflow history.

The lateness part measures the escalation's record instant (`notifications.sent_at`) past
the breach instant. The lead's history splits that span into four parts, which add up to
it (bench/RESULTS.md, session 13, for what each showed):

- carry: the breach timer's due instant past the breach. A timer's duration counts from the
  start of the workflow task that set it, but the timer starts once that task's commands
  are written, so a long task carries its length into the instant.
- server: the timer fired past its due instant (the server's own timers).
- queue: fired, until a worker took the task it scheduled (`WorkflowTaskStarted`).
- worker: taken, until the escalation was recorded (its projection's transaction began).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import UTC, datetime

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent


@dataclass(frozen=True)
class Breakdown:
    carry: float
    server: float
    queue: float
    worker: float

    @property
    def total(self) -> float:
        return self.carry + self.server + self.queue + self.worker


PARTS = tuple(f.name for f in fields(Breakdown))


def _at(event: HistoryEvent) -> datetime:
    return event.event_time.ToDatetime().replace(tzinfo=UTC)


def breakdown(events: Iterable[HistoryEvent], breach_at: datetime, recorded_at: datetime) -> Breakdown | None:
    """The parts of `recorded_at - breach_at`, in seconds; None when the history holds no
    timer that fired at or after the breach (the lead was escalated some other way)."""
    events = list(events)
    fired = next((e for e in events if e.event_type == EventType.EVENT_TYPE_TIMER_FIRED
                  and _at(e) >= breach_at), None)
    if fired is None:
        return None
    timer_id = fired.timer_fired_event_attributes.timer_id
    started = next(e for e in events if e.event_type == EventType.EVENT_TYPE_TIMER_STARTED
                   and e.timer_started_event_attributes.timer_id == timer_id)
    due = _at(started) + started.timer_started_event_attributes.start_to_fire_timeout.ToTimedelta()
    taken = next((e for e in events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED
                  and e.event_id > fired.event_id), None)
    if taken is None:
        return None
    return Breakdown(carry=(due - breach_at).total_seconds(), server=(_at(fired) - due).total_seconds(),
                     queue=(_at(taken) - _at(fired)).total_seconds(),
                     worker=(recorded_at - _at(taken)).total_seconds())
