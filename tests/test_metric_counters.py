"""The /metrics counters (migration 0007) on a real PostgreSQL: kept by triggers as the
projection writes, they always equal what a full scan of the read model counts: retried
event batches, stage changes and deletes included, and data that was there before the
migration is counted once when it runs."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import psycopg
import pytest
from psycopg.types.json import Jsonb

from activities.migrations import _migration_files, apply_migrations

AT = datetime(2027, 1, 4, 15, 0, tzinfo=UTC)

FULL_SCAN = {
    "stages": "SELECT stage, count(*) FROM leads GROUP BY 1",
    "clocks": "SELECT kind, payload->>'item', coalesce(payload->>'tier', ''), count(*) FROM lead_events"
              " WHERE kind IN ('clock_started', 'clock_met', 'clock_breached') GROUP BY 1, 2, 3",
    "escalations": "SELECT payload->'escalated_to'->-1->>'role', count(*) FROM lead_events"
                   " WHERE kind = 'clock_escalated' AND payload->'escalated_to'->-1->>'role' IS NOT NULL GROUP BY 1",
}
COUNTERS = {
    "stages": "SELECT stage, sum(n)::bigint FROM stage_counts GROUP BY 1 HAVING sum(n) > 0",
    "clocks": "SELECT kind, item, tier, sum(n)::bigint FROM metric_counts WHERE kind <> 'clock_escalated'"
              " GROUP BY 1, 2, 3",
    "escalations": "SELECT item, sum(n)::bigint FROM metric_counts WHERE kind = 'clock_escalated' GROUP BY 1",
}


@pytest.fixture
def database(postgres_url):
    """An empty database of its own on the session's server (the counters are global)."""
    name = f"counters_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return psycopg.conninfo.make_conninfo(postgres_url, dbname=name)


def figures(conn, queries) -> dict:
    return {key: sorted(conn.execute(sql).fetchall()) for key, sql in queries.items()}


def write_lead(conn, lead_id: str, stage: str) -> None:
    conn.execute(
        "INSERT INTO leads (lead_id, workflow_id, stage, policy_version, lead_type, state, created_at, updated_at)"
        " VALUES (%s, %s, %s, '2026.11.0', 'demo_request', '{}', %s, %s)"
        " ON CONFLICT (lead_id) DO UPDATE SET stage = EXCLUDED.stage", (lead_id, f"lead-{lead_id}", stage, AT, AT))


def write_events(conn, lead_id: str, events: list[tuple[int, str, dict]]) -> None:
    """As the projection does: a retried batch inserts nothing twice."""
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO lead_events (lead_id, seq, at, kind, payload) VALUES (%s, %s, %s, %s, %s)"
                        " ON CONFLICT (lead_id, seq) DO NOTHING",
                        [(lead_id, seq, AT, kind, Jsonb(payload)) for seq, kind, payload in events])


def traffic(conn, prefix: str) -> None:
    for i in range(40):
        lead = f"{prefix}-{i}"
        write_lead(conn, lead, "mql")
        batch: list[tuple[int, str, dict]] = [(1, "clock_started", {"item": "sdr_response", "tier": 1 + i % 3}),
                 (2, "transition", {"to": "mql"})]
        write_events(conn, lead, batch)
        write_events(conn, lead, batch)  # the activity retried
        if i % 2:
            write_events(conn, lead, [(3, "clock_met", {"item": "sdr_response", "tier": 1 + i % 3})])
            write_lead(conn, lead, "sal")
            write_lead(conn, lead, "sal")  # same stage again: no change
        if i % 5 == 0:
            write_events(conn, lead, [(3, "clock_breached", {"item": "sdr_response", "tier": 1 + i % 3}),
                                      (4, "clock_escalated", {"escalated_to": [{"role": "sdr_manager"}]}),
                                      (5, "clock_escalated", {"escalated_to": [{"role": "sdr_manager"},
                                                                               {"role": "vp_sales"}]}),
                                      (6, "clock_escalated", {"escalated_to": []})])
    conn.execute("DELETE FROM leads WHERE lead_id = %s", (f"{prefix}-3",))


def test_counters_equal_a_full_scan_under_retries_stage_changes_and_deletes(database):
    apply_migrations(database)
    with psycopg.connect(database, autocommit=True) as conn:
        traffic(conn, "a")
        scanned, counted = figures(conn, FULL_SCAN), figures(conn, COUNTERS)
    assert scanned["stages"] == [("mql", 20), ("sal", 19)]
    assert ("clock_started", "sdr_response", "1", 14) in scanned["clocks"]
    assert scanned["escalations"] == [("sdr_manager", 8), ("vp_sales", 8)]
    assert counted == scanned


def test_the_migration_counts_what_the_read_model_already_holds(database):
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute("CREATE TABLE schema_migrations (name text PRIMARY KEY, applied_at timestamptz DEFAULT now())")
        for name, sql in _migration_files():
            if name < "0007":
                conn.execute(sql)
                conn.execute("INSERT INTO schema_migrations (name) VALUES (%s)", (name,))
        traffic(conn, "before")
    assert apply_migrations(database)[0].startswith("0007")
    with psycopg.connect(database, autocommit=True) as conn:
        traffic(conn, "after")
        scanned, counted = figures(conn, FULL_SCAN), figures(conn, COUNTERS)
    assert scanned["stages"] == [("mql", 40), ("sal", 38)]
    assert counted == scanned
