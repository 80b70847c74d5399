"""The notification outbox: a lead's notifications are recorded by its read-model
projection, in the same transaction, and delivered to the sinks afterwards by a dispatcher
in each worker process.

Why: a notification used to be an activity of its own, and each activity task costs the
Temporal server a scheduled, a started and a completed event plus the workflow task that
reads its result. A routed lead's owner notice was a third of the server's work for that
lead (bench/RESULTS.md, session 6). Recorded with the projection, the notice costs one row
in a transaction that was committing anyway.

What is kept: a notification is recorded exactly once (its dedup key, as before), it is
recorded only if the projection that carries it commits, and every configured sink gets
it at least once and, barring a crash between a send and its commit, once
(`NotificationActivities.deliver`, the same per-sink claim as before). A sink that fails
is retried with backoff; the rows of other notifications are not held up by it. Several
worker processes share the work: each claims rows with SKIP LOCKED.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import psycopg
from jinja2 import Environment
from psycopg_pool import AsyncConnectionPool

from activities.notify import NotificationActivities, render
from sla_policies.state import Notification, notification_key

log = logging.getLogger("handoff.notify")

# Woken on commit of a projection that recorded notifications (PostgreSQL LISTEN/NOTIFY).
CHANNEL = "handoff_notifications"
# Without a wake-up (missed while reconnecting), pending rows are still found this often.
POLL_SECONDS = 5.0
# A database that went away is tried again after 2, 4, then every 5 s: deliveries resume
# within seconds of its return.
RECONNECT_SECONDS = 5
# A failed delivery waits 2^attempts seconds before the next, at most this long.
MAX_BACKOFF_SECONDS = 300


async def record_pending(conn: psycopg.AsyncConnection, templates: Environment, workflow_id: str,
                         notifications: Sequence[Notification]) -> None:
    """Record rendered notifications in the caller's transaction, for the dispatcher. A
    retried projection finds its rows and records nothing twice."""
    if not notifications:
        return
    rows = []
    for n in notifications:
        subject, body = render(templates, f"{n.kind}.txt.j2", n=n)
        rows.append((notification_key(workflow_id, n.seq), n.lead_id, n.kind, n.recipient_role, n.recipient,
                     subject, body, n.at, n.item))
    async with conn.cursor() as cur:
        await cur.executemany(
            "INSERT INTO notifications (dedup_key, lead_id, kind, recipient_role, recipient, subject, body, at,"
            " item, pending) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, true) ON CONFLICT (dedup_key) DO NOTHING",
            rows)
    await conn.execute("SELECT pg_notify(%s, '')", (CHANNEL,))


class NotificationDispatcher:
    """Delivers the pending notifications to the sinks, oldest first, until cancelled."""

    def __init__(self, pool: AsyncConnectionPool, notifications: NotificationActivities, *, batch: int = 20,
                 poll_seconds: float = POLL_SECONDS):
        self._pool = pool
        self._notifications = notifications
        self._batch = batch
        self._poll_seconds = poll_seconds

    async def run(self) -> None:
        failures = 0
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(await self._conninfo(), autocommit=True) as listener:
                    await listener.execute(f"LISTEN {CHANNEL}")
                    failures = 0
                    while True:
                        while await self.deliver_due() == self._batch:
                            pass  # a full batch: more may be waiting
                        async for _ in listener.notifies(timeout=self._poll_seconds, stop_after=1):
                            pass
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database went away: deliveries wait, nothing is lost
                failures += 1
                log.warning("notification dispatcher: %s; trying again", exc)
                await asyncio.sleep(min(2 ** failures, RECONNECT_SECONDS))

    async def _conninfo(self) -> str:
        """The pool's database, for the one connection that stays outside it (LISTEN)."""
        source = self._pool.conninfo
        if isinstance(source, str):
            return source
        made = source()
        return made if isinstance(made, str) else await made

    async def deliver_due(self) -> int:
        """Deliver one batch of due notifications; returns how many were claimed."""
        async with self._pool.connection() as conn, conn.transaction():
            rows = await (await conn.execute(
                "SELECT dedup_key, lead_id, kind, recipient_role, recipient, subject, body, attempts"
                " FROM notifications WHERE pending AND next_attempt_at <= now()"
                " ORDER BY next_attempt_at, at LIMIT %s FOR UPDATE SKIP LOCKED", (self._batch,))).fetchall()
            for key, lead_id, kind, roles, recipient, subject, body, attempts in rows:
                try:
                    message = await self._notifications.message(
                        key, lead_id=lead_id, kind=kind, roles=roles.split("+"), recipient=recipient,
                        subject=subject, body=body)
                    await self._notifications.deliver(message)
                except Exception as exc:
                    log.warning("notification %s not delivered (attempt %d): %s", key, attempts + 1, exc)
                    await conn.execute(
                        "UPDATE notifications SET attempts = attempts + 1, last_error = %s,"
                        " next_attempt_at = now() + make_interval(secs => %s) WHERE dedup_key = %s",
                        (str(exc)[:1000], min(2 ** (attempts + 1), MAX_BACKOFF_SECONDS), key))
                else:
                    await conn.execute("UPDATE notifications SET pending = false, last_error = NULL"
                                       " WHERE dedup_key = %s", (key,))
            return len(rows)
