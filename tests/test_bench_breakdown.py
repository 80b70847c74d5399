"""bench/breakdown.py on a recorded history: a breach's lateness split into carry, server,
queue and worker, which add up to the whole span."""

from __future__ import annotations

from datetime import UTC, timedelta
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory

from bench.breakdown import breakdown

HISTORY = Path(__file__).parent / "histories" / "after_hours_tier1_breach_and_ladder.1.json"


def events():
    return WorkflowHistory.from_json("h", HISTORY.read_text()).events


def at(event):
    return event.event_time.ToDatetime().replace(tzinfo=UTC)


def test_the_parts_of_a_fired_breach_add_up_to_its_lateness():
    history = events()
    fired = next(e for e in history if e.event_type == EventType.EVENT_TYPE_TIMER_FIRED)
    started = next(e for e in history if e.event_type == EventType.EVENT_TYPE_TIMER_STARTED
                   and e.timer_started_event_attributes.timer_id == fired.timer_fired_event_attributes.timer_id)
    taken = next(e for e in history if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED
                 and e.event_id > fired.event_id)
    due = at(started) + started.timer_started_event_attributes.start_to_fire_timeout.ToTimedelta()
    breach_at = due - timedelta(milliseconds=250)  # the task that set the timer carried 250 ms
    recorded_at = at(taken) + timedelta(milliseconds=40)

    parts = breakdown(history, breach_at, recorded_at)

    assert parts is not None
    assert parts.carry == pytest.approx(0.25)
    assert parts.server == pytest.approx((at(fired) - due).total_seconds())
    assert parts.queue == pytest.approx((at(taken) - at(fired)).total_seconds())
    assert parts.worker == pytest.approx(0.04)
    assert parts.total == pytest.approx((recorded_at - breach_at).total_seconds())


def test_no_timer_fired_after_the_breach_gives_none():
    history = events()
    last = at(history[-1])
    assert breakdown(history, last + timedelta(hours=1), last + timedelta(hours=2)) is None
