"""The capacity hold's safety net on the real workflow (time-skipping server): room that
appears without any wake-up (an edit straight in the roster, an absence ending by itself)
routes the held lead when its durable retry fires, `routing.capacity_retry` after the hold,
its routing clock unchanged (docs/domain.md T11)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from activities.migrations import apply_migrations
from tests.lifecycle import advance_to, clock, demo_request, start, state_when
from tests.stack import fresh_database, time_skipping_server, worker

pytestmark = pytest.mark.asyncio


@pytest.fixture(scope="module")
def roster_db(tmp_path_factory) -> str:
    url = fresh_database(Path(tmp_path_factory.mktemp("pg-cap-timer")), "handoff_cap_timer")
    apply_migrations(url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO reps (rep_id, name, role, manager_id, territories, capacity)"
                     " VALUES ('sdr-1', 'Sam', 'sdr', 'sdrm-1', '{US}', 1)")
    return url


async def test_room_appearing_silently_routes_the_held_lead_at_its_next_retry(roster_db):
    async with time_skipping_server() as env, worker(env.client, roster_db):
        first = await start(env, demo_request())
        await state_when(first, lambda s: s.owner == "sdr-1", timeout=60)
        second = await start(env, demo_request())
        held = await state_when(second, lambda s: s.stage == "capacity_hold", timeout=60)
        hold = held.capacity_hold
        assert hold is not None and hold.retry_at == hold.since + timedelta(minutes=5)
        started = clock(held, "routing.high_intent").started_at

        with psycopg.connect(roster_db, autocommit=True) as conn:
            conn.execute("UPDATE reps SET capacity = 2 WHERE rep_id = 'sdr-1'")  # nobody is told
        await advance_to(env, hold.retry_at + timedelta(seconds=30))
        routed = await state_when(second, lambda s: s.owner == "sdr-1", timeout=60)
        assigned = routed.transitions[-1]
        assert (assigned.event, assigned.from_stage) == ("T11 assigned", "capacity_hold")
        # The durable timer fires at the retry instant; the decision is made as it wakes.
        assert hold.retry_at <= assigned.at < hold.retry_at + timedelta(seconds=30)
        routing = clock(routed, "routing.high_intent")
        assert (routing.started_at, routing.met_at) == (started, assigned.at)
