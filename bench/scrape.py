"""The `/metrics` scrape as the read model grows (issue 12: "a scrape reads O(1) rows").

The scrape reads the counters the database keeps as the projection writes
(activities/migrations/0007_metric_counters.sql), never the events themselves. This part
grows the read model to a tenth of `leads` leads with `events_per_lead` clock events each
(inserted by SQL in bulk: the triggers count them as they would count a projection's),
times the scrape, grows it to `leads` with the same mix (so the scrape has the same
series), and times it again. Every event updates a counter row, so a burst leaves dead row
versions until autovacuum passes: the large size is timed right after the burst and after
a VACUUM of the counter tables. For scale, it also times the full scan that a scrape did
before the counters, at the large size.
"""

from __future__ import annotations

import statistics
import time

from bench.report import Figure, Results
from bench.stack import Stack

PREFIX = "scrape-"
ITEMS = ["sdr_response.tier1", "sdr_response.tier2", "sal_decision", "ae_acceptance", "routing.high_intent"]
KINDS = ["clock_started", "clock_met", "clock_breached"]
FULL_SCAN = ("SELECT kind, coalesce(payload->>'item', ''), coalesce(payload->>'tier', ''), count(*)"
             " FROM lead_events WHERE kind IN ('clock_started', 'clock_met', 'clock_breached') GROUP BY 1, 2, 3")


async def _scrape_ms(stack: Stack, rounds: int) -> float:
    """Median wall time of one authenticated `GET /metrics`, in ms (after one warm-up)."""
    times = []
    async with stack.http("bench-ops") as http:
        assert (await http.get("/metrics")).status_code == 200
        for _ in range(rounds):
            started = time.perf_counter()
            answer = await http.get("/metrics")
            times.append((time.perf_counter() - started) * 1000)
            assert answer.status_code == 200, answer.text
    return statistics.median(times)


def _grow(stack: Stack, first: int, leads: int, events_per_lead: int) -> None:
    """Synthetic leads `first`..`leads`-1 and their clock events, written the way the
    projection writes them (the AFTER INSERT triggers keep the counters), in chunks so no
    one statement is huge."""
    chunk = 2_000
    for start in range(first, leads, chunk):
        end = min(start + chunk, leads)
        stack.sql(
            """
            INSERT INTO leads (lead_id, workflow_id, stage, policy_version, lead_type, state, created_at, updated_at)
            SELECT %(prefix)s || i, 'wf-' || %(prefix)s || i, (ARRAY['mql','sal','sql','recycled'])[1 + i %% 4],
                   '2026.11.0', 'demo_request', '{}'::jsonb, now(), now()
            FROM generate_series(%(start)s, %(end)s - 1) AS i
            ON CONFLICT (lead_id) DO NOTHING
            """, {"prefix": PREFIX, "start": start, "end": end})
        stack.sql(
            """
            INSERT INTO lead_events (lead_id, seq, at, kind, payload)
            SELECT %(prefix)s || i, s, now(), (%(kinds)s::text[])[1 + s %% 3],
                   jsonb_build_object('item', (%(items)s::text[])[1 + (i + s) %% 5], 'tier', (1 + i %% 3)::text)
            FROM generate_series(%(start)s, %(end)s - 1) AS i, generate_series(1, %(events)s) AS s
            ON CONFLICT (lead_id, seq) DO NOTHING
            """, {"prefix": PREFIX, "start": start, "end": end, "events": events_per_lead, "kinds": KINDS,
                  "items": ITEMS})


def _vacuum(stack: Stack) -> None:
    stack.sql("VACUUM (ANALYZE) metric_counts, stage_counts")


def _size(stack: Stack) -> tuple[int, int]:
    leads, events = stack.sql("SELECT (SELECT count(*) FROM leads), (SELECT count(*) FROM lead_events)")[0]
    return leads, events


async def scrape(stack: Stack, results: Results, leads: int = 10_000, events_per_lead: int = 50,
                 rounds: int = 20) -> None:
    _grow(stack, 0, leads // 10, events_per_lead)
    _vacuum(stack)
    small_leads, small_events = _size(stack)
    small = await _scrape_ms(stack, rounds)
    _grow(stack, leads // 10, leads, events_per_lead)
    total_leads, total_events = _size(stack)
    burst = await _scrape_ms(stack, rounds)
    _vacuum(stack)
    large = await _scrape_ms(stack, rounds)
    started = time.perf_counter()
    stack.sql(FULL_SCAN)
    scan = (time.perf_counter() - started) * 1000
    # The synthetic leads have no workflow: gone, so no later part counts them as open leads.
    stack.sql("DELETE FROM lead_events WHERE lead_id LIKE %s", (PREFIX + "%",))
    stack.sql("DELETE FROM leads WHERE lead_id LIKE %s", (PREFIX + "%",))
    at_small = f"the scrape at {small_leads:,} leads / {small_events:,} events"
    at_large = f"at {total_leads:,} leads / {total_events:,} events"
    figures = [
        Figure(part="scrape", name=f"/metrics scrape {at_small[11:]} (median of {rounds})", value=small, unit="ms"),
        Figure(part="scrape", name=f"/metrics scrape {at_large}, right after the burst (counter rows not yet "
               f"vacuumed; median of {rounds})", value=burst, unit="ms", reference=small, reference_name=at_small),
        Figure(part="scrape", name=f"/metrics scrape {at_large}, after VACUUM of the counter tables (what "
               f"autovacuum keeps; median of {rounds})", value=large, unit="ms", reference=small,
               reference_name=at_small, target="independent of the number of leads (ratio ≤ 2)",
               met=large <= 2 * small),
        Figure(part="scrape", name=f"for scale: the full scan a scrape did before the counters, at {total_events:,} "
               "events (one run)", value=scan, unit="ms"),
    ]
    for figure in figures:
        results.add(figure)
