"""The durable inbox (`connector_inbox`): the API records each delivery here before it
answers 2xx; the connector workflow processes it. `(source, event_id)` is the primary
key, so a redelivery or a replay is recognised by the insert itself."""

from __future__ import annotations

from dataclasses import dataclass

from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from sla_policies.crm import InboxEvent, InboxKey


async def record_events(pool: AsyncConnectionPool, events: list[InboxEvent]) -> list[InboxEvent]:
    """Insert the deliveries in one transaction; returns those that were new (a key
    already present is a duplicate delivery and is left as it is)."""
    fresh: list[InboxEvent] = []
    async with pool.connection(timeout=5) as conn, conn.transaction(), conn.cursor() as cur:
        for e in events:
            await cur.execute(
                "INSERT INTO connector_inbox (source, event_id, kind, object_id, payload, status, reason,"
                " processed_at) VALUES (%s, %s, %s, %s, %s, %s, %s,"
                " CASE WHEN %s = 'pending' THEN NULL ELSE now() END)"
                " ON CONFLICT (source, event_id) DO NOTHING RETURNING event_id",
                (e.source, e.event_id, e.kind, e.object_id, Jsonb(e.payload), e.status, e.reason, e.status))
            if await cur.fetchone() is not None:
                fresh.append(e)
    return fresh


# The statuses of an event that made a lead or may still make one ('ignored' and
# 'unmappable' ended without one).
LIVE = ("pending", "ingested")


@dataclass(frozen=True)
class Earlier:
    """A record's events received before one of its events (received_at, then event_id:
    the events of one delivery share their instant), of those that are `LIVE`."""

    payload: dict | None  # the latest one's payload; None: none, this event is the record's first
    unsettled: bool  # one has no lead in the read model yet (pending, or ingested moments ago)
    submission_digest: str | None = None  # the latest one's, once it is mapped (sla_policies.crm)
    pending: bool = False  # the latest one is still pending

    @property
    def unmapped(self) -> bool:
        """The latest one is pending and not mapped yet, so whether an event repeats it cannot
        be told yet. (One ingested without a digest was processed before digests were kept.)"""
        return self.pending and self.submission_digest is None


NO_EARLIER = Earlier(payload=None, unsettled=False)


async def earlier_events(pool: AsyncConnectionPool, key: InboxKey, object_id: str) -> Earlier:
    async with pool.connection(timeout=5) as conn, conn.cursor() as cur:
        await cur.execute(
            "SELECT i.payload, count(*) FILTER (WHERE l.lead_id IS NULL) OVER (), i.submission_digest,"
            " i.status = 'pending' FROM connector_inbox i"
            " LEFT JOIN leads l ON l.lead_id = i.lead_id WHERE i.source = %(source)s AND i.object_id = %(object)s"
            " AND i.status = ANY(%(live)s) AND (i.received_at, i.event_id) < (SELECT received_at, event_id"
            " FROM connector_inbox WHERE source = %(source)s AND event_id = %(event)s)"
            " ORDER BY i.received_at DESC, i.event_id DESC LIMIT 1",
            {"source": key.source, "object": object_id, "event": key.event_id, "live": list(LIVE)})
        row = await cur.fetchone()
    if row is None:
        return NO_EARLIER
    return Earlier(payload=row[0], unsettled=row[1] > 0, submission_digest=row[2], pending=row[3])


async def keep_submission_digest(pool: AsyncConnectionPool, key: InboxKey, digest: str) -> str:
    """Store an event's submission digest and return the one it keeps: the first attempt's,
    so a retried attempt (its record fetched again, perhaps changed since) decides as the
    first one did."""
    async with pool.connection(timeout=5) as conn, conn.cursor() as cur:
        await cur.execute(
            "UPDATE connector_inbox SET submission_digest = coalesce(submission_digest, %s)"
            " WHERE source = %s AND event_id = %s RETURNING submission_digest", (digest, key.source, key.event_id))
        row = await cur.fetchone()
    return digest if row is None else str(row[0])


def pending_keys(events: list[InboxEvent]) -> list[InboxKey]:
    return [InboxKey(source=e.source, event_id=e.event_id) for e in events if e.status == "pending"]


async def list_events(pool: AsyncConnectionPool, status: str | None, source: str | None, limit: int) -> list[dict]:
    async with pool.connection(timeout=5) as conn, conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT source, event_id, kind, object_id, status, reason, lead_id, attempts, received_at, processed_at"
            " FROM connector_inbox WHERE (%(status)s::text IS NULL OR status = %(status)s)"
            " AND (%(source)s::text IS NULL OR source = %(source)s)"
            " ORDER BY received_at DESC, event_id LIMIT %(limit)s",
            {"status": status, "source": source, "limit": limit})
        return await cur.fetchall()


async def lead_sync_state(pool: AsyncConnectionPool, lead_id: str) -> list[dict]:
    async with pool.connection(timeout=5) as conn, conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT crm, object_id, status, reason, desired, attempts, updated_at, synced_at FROM crm_sync"
            " WHERE lead_id = %s ORDER BY crm", (lead_id,))
        return await cur.fetchall()


async def connector_counts(pool: AsyncConnectionPool) -> tuple[list[tuple[str, str, int]], list[tuple[str, str, int]]]:
    """(source, status, n) of the inbox and (crm, status, n) of the sync, for /metrics."""
    async with pool.connection(timeout=5) as conn, conn.cursor() as cur:
        await cur.execute("SELECT source, status, count(*) FROM connector_inbox GROUP BY 1, 2 ORDER BY 1, 2")
        inbox = [(str(a), str(b), int(n)) for a, b, n in await cur.fetchall()]
        await cur.execute("SELECT crm, status, count(*) FROM crm_sync GROUP BY 1, 2 ORDER BY 1, 2")
        sync = [(str(a), str(b), int(n)) for a, b, n in await cur.fetchall()]
    return inbox, sync

