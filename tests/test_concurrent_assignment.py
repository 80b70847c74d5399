"""Routing under concurrent ingest, on the real PostgreSQL: many assignment activities at
once never push a rep past its capacity cap, skip unavailable reps, never leave a lead
unrouted while someone has room, and keep the round robin fair among equal reps."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool
from temporalio.testing import ActivityEnvironment

from activities.roster import RosterActivities
from sla_policies.state import Assignment, AssignmentRequest


@pytest.fixture(scope="module")
async def pool(postgres_url):
    async with AsyncConnectionPool(postgres_url, min_size=2, max_size=10) as pool:
        yield pool


def roster(postgres_url: str, role: str, reps: list[tuple[str, int, bool]]) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        for rep_id, capacity, available in reps:
            conn.execute("INSERT INTO reps (rep_id, name, role, capacity, available) VALUES (%s, %s, %s, %s, %s)",
                         (rep_id, rep_id.upper(), role, capacity, available))


def open_leads(postgres_url: str, role: str) -> dict[str, tuple[int, int]]:
    with psycopg.connect(postgres_url) as conn:
        return {r[0]: (r[1], r[2]) for r in conn.execute(
            "SELECT rep_id, open_leads, capacity FROM reps WHERE role = %s", (role,))}


async def ingest(pool, role: str, leads: list[str]) -> list[str | None]:
    """Every lead's assignment at once, each in its own activity (as many workers would)."""
    activities = RosterActivities(pool)

    async def one(lead_id: str):
        assignment = await ActivityEnvironment().run(
            activities.assign_lead, AssignmentRequest(lead_id=lead_id, seq=1, role=role, country="US"))
        return assignment.rep_id if isinstance(assignment, Assignment) else None

    return await asyncio.gather(*(one(lead) for lead in leads))


async def test_concurrent_ingest_respects_caps_and_stays_fair(pool, postgres_url):
    run = uuid.uuid4().hex[:6]
    role = f"sdr-cc-{run}"  # a role of its own: the shared roster cannot interfere
    equal = [f"cc-{run}-{i}" for i in range(3)]
    small, away = f"cc-{run}-small", f"cc-{run}-away"
    roster(postgres_url, role, [(rep, 10, True) for rep in equal] + [(small, 2, True), (away, 10, False)])

    first = await ingest(pool, role, [f"cc-{run}-a{i}" for i in range(25)])
    counts = Counter(first)
    assert None not in counts, "a lead went unrouted while reps had room"
    assert counts[small] == 2 and counts[away] == 0
    assert sorted(counts[rep] for rep in equal) == [7, 8, 8]  # 23 over three equal reps

    # Past the total capacity (32): the rest wait for room; nobody goes over the cap.
    second = await ingest(pool, role, [f"cc-{run}-b{i}" for i in range(20)])
    assert Counter(second)[None] == 13
    state = open_leads(postgres_url, role)
    assert all(load <= cap for load, cap in state.values())
    assert [state[rep][0] for rep in equal] == [10, 10, 10] and state[small][0] == 2 and state[away][0] == 0

    # A retried assignment returns the same rep and takes no second slot.
    again = await ingest(pool, role, [f"cc-{run}-a0"])
    assert again == [first[0]] and open_leads(postgres_url, role) == state
