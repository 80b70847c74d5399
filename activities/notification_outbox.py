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

from activities.notify import DONE_SINKS, EMAILS, NotificationActivities, render
from activities.sinks import Message
from sla_policies.state import Notification, notification_key

log = logging.getLogger("handoff.notify")

# Woken on commit of a projection that recorded notifications (PostgreSQL LISTEN/NOTIFY).
CHANNEL = "handoff_notifications"
# Without a wake-up (missed while reconnecting), pending rows are still found this often.
POLL_SECONDS = 5.0
# A database that went away is tried again after 2, 4, then every 5 s: deliveries resume
# within seconds of its return.
RECONNECT_SECONDS = 5
# After a wake-up, the dispatcher waits this long before it claims: a notification goes
# out at most this much later, and a bulk ingest's notices go in batches, not one
# transaction (and one wake-up of every worker process) per lead.
LINGER_SECONDS = 0.25
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

    def __init__(self, pool: AsyncConnectionPool, notifications: NotificationActivities, *, batch: int = 100,
                 poll_seconds: float = POLL_SECONDS, linger_seconds: float = LINGER_SECONDS):
        self._pool = pool
        self._notifications = notifications
        self._batch = batch
        self._poll_seconds = poll_seconds
        self._linger_seconds = linger_seconds

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
                        # Every projection commit with a notice wakes every dispatcher: a
                        # short pause gathers the commits right behind it into one batch,
                        # and drops their wake-ups (bench/RESULTS.md, session 14).
                        await asyncio.sleep(self._linger_seconds)
                        async for _ in listener.notifies(timeout=0):
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
        """Deliver one batch of due notifications; returns how many were claimed. The batch
        is claimed, addressed, sent and marked in one transaction: its row locks keep other
        dispatchers off it until its sends are recorded. Two round trips to the database
        (the claim; the marks with the COMMIT), whatever the batch's size."""
        async with self._pool.connection() as conn, conn.pipeline(), conn.transaction():
            rows = await (await conn.execute(
                "SELECT dedup_key, lead_id, kind, recipient_role, recipient, subject, body, attempts,"
                f" {EMAILS}, {DONE_SINKS} FROM notifications n WHERE pending AND next_attempt_at <= now()"
                " ORDER BY next_attempt_at, at LIMIT %s FOR UPDATE SKIP LOCKED", (self._batch,))).fetchall()
            claimed = [(Message(dedup_key=key, lead_id=lead_id, kind=kind, recipient_role=roles, recipient=recipient,
                                subject=subject, body=body, email_to=emails), done)
                       for key, lead_id, kind, roles, recipient, subject, body, _, emails, done in rows]
            failed = await self._notifications.send_claimed(conn, claimed)
            attempts = {row[0]: row[7] for row in rows}
            for key, error in failed.items():
                log.warning("notification %s not delivered (attempt %d): %s", key, attempts[key] + 1, error)
            async with conn.cursor() as cur:
                if failed:
                    await cur.executemany(
                        "UPDATE notifications SET attempts = attempts + 1, last_error = %s,"
                        " next_attempt_at = now() + make_interval(secs => %s) WHERE dedup_key = %s",
                        [(error[:1000], min(2 ** (attempts[key] + 1), MAX_BACKOFF_SECONDS), key)
                         for key, error in failed.items()])
                sent = [key for key in attempts if key not in failed]
                if sent:
                    await cur.execute("UPDATE notifications SET pending = false, last_error = NULL"
                                      " WHERE dedup_key = ANY(%s)", (sent,))
            return len(rows)
