"""Notifications: rendered with Jinja2, recorded once per dedup key, delivered to every
configured sink at least once and, barring a crash between a send and its commit, once.

The dedup key is the workflow id plus the notification's sequence number. Each sink's
delivery is claimed by inserting its (dedup_key, sink) row in a transaction that commits
only after the sink accepted the message: a retried activity skips the sinks already
done (even if the first attempt failed on the next sink), a failed send rolls the claim
back so the retry sends again, and a concurrent duplicate attempt waits on the row lock.
A sink that refuses a message for good is recorded as 'rejected' and not retried: the
lead's notifications go out one after another, so retrying it would stall all later ones.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from datetime import datetime

import psycopg
from jinja2 import Environment, PackageLoader, StrictUndefined
from psycopg_pool import AsyncConnectionPool
from temporalio import activity

from activities.sinks import LogSink, Message, PermanentDeliveryError, Sink
from sla_policies.state import Notification, notification_key

log = logging.getLogger("handoff.notify")

# Who a message is mailed to, as the roster stands (one rule, for a row `n` with
# `recipient` and `recipient_role`): the named rep, else everyone available in any of the
# roles ('+'-joined).
EMAILS = """coalesce(CASE WHEN n.recipient IS NOT NULL
        THEN (SELECT array_agg(email) FROM reps WHERE rep_id = n.recipient AND email IS NOT NULL)
        ELSE (SELECT array_agg(email ORDER BY rep_id) FROM reps
              WHERE role = ANY(string_to_array(n.recipient_role, '+')) AND available AND email IS NOT NULL)
    END, '{}')"""
# The sinks a notification row `n` was delivered to (or refused by) already.
DONE_SINKS = "(SELECT coalesce(array_agg(d.sink), '{}') FROM notification_deliveries d WHERE d.dedup_key = n.dedup_key)"


def template_environment() -> Environment:
    return Environment(
        loader=PackageLoader("activities", "templates"), undefined=StrictUndefined,
        trim_blocks=True, lstrip_blocks=True, autoescape=False,
    )


def render(templates: Environment, name: str, **context) -> tuple[str, str]:
    """(subject, body): a template's first line is the subject."""
    subject, _, body = templates.get_template(name).render(**context).partition("\n")
    return subject.strip(), body.strip()


class NotificationActivities:
    def __init__(self, pool: AsyncConnectionPool, templates: Environment | None = None,
                 sinks: list[Sink] | None = None):
        self._pool = pool
        self._templates = templates or template_environment()
        self._sinks: list[Sink] = sinks if sinks is not None else [LogSink()]

    @activity.defn(name="notify")
    async def notify(self, n: Notification) -> bool:
        """Returns True when this key was recorded now, False when a retry found it."""
        subject, body = render(self._templates, f"{n.kind}.txt.j2", n=n)
        # A named rep, or everyone holding the role (an escalation to the VP Sales).
        return await self.publish(notification_key(activity.info().workflow_id, n.seq), lead_id=n.lead_id, kind=n.kind,
                                  roles=[n.recipient_role], recipient=n.recipient, subject=subject, body=body,
                                  at=n.at)

    async def publish(self, key: str, *, lead_id: str, kind: str, roles: list[str], subject: str, body: str,
                      at: datetime, recipient: str | None = None) -> bool:
        """Record a rendered message once under `key`, then deliver it to each sink once.
        Mail goes to the named rep, else to everyone available in any of `roles`."""
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                "INSERT INTO notifications (dedup_key, lead_id, kind, recipient_role, recipient, subject, body, at)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (dedup_key) DO NOTHING",
                (key, lead_id, kind, "+".join(roles), recipient, subject, body, at),
            )
            fresh = cur.rowcount == 1
        await self.deliver(await self.message(key, lead_id=lead_id, kind=kind, roles=roles, recipient=recipient,
                                              subject=subject, body=body))
        return fresh

    async def message(self, key: str, *, lead_id: str, kind: str, roles: list[str], recipient: str | None,
                      subject: str, body: str) -> Message:
        """The message as the sinks take it, addressed as the roster stands now."""
        async with self._pool.connection() as conn:
            rows = await conn.execute(f"SELECT {EMAILS} FROM (VALUES (%s, %s)) AS n(recipient, recipient_role)",
                                      (recipient, "+".join(roles)))
            found = await rows.fetchone()
        return Message(dedup_key=key, lead_id=lead_id, kind=kind, recipient_role="+".join(roles),
                       recipient=recipient, subject=subject, body=body, email_to=found[0] if found else [])

    async def send_claimed(self, conn: psycopg.AsyncConnection,
                           claimed: Sequence[tuple[Message, Collection[str]]]) -> dict[str, str]:
        """Send messages whose notification rows the caller holds locked, each to every sink
        that takes it and is not among the sinks it already had (read with the claim:
        `DONE_SINKS`), recording each sink done in the caller's transaction (so it counts
        only if that commits). Returns the error of each message a sink failed: it is sent
        again later, to the sinks not done. One insert for the sinks done, whatever the
        number of messages (the dispatcher's path: per message, it cost two connections and
        a transaction of its own; bench/RESULTS.md, session 14)."""
        claims: list[tuple[str, str, str, str | None]] = []
        failed: dict[str, str] = {}
        for message, done in claimed:
            for sink in self._sinks:
                if sink.name in done or not sink.accepts(message):
                    continue
                try:
                    await sink.send(message)
                except PermanentDeliveryError as exc:
                    log.error("notification %s rejected by %s: %s", message.dedup_key, sink.name, exc)
                    claims.append((message.dedup_key, sink.name, "rejected", str(exc)))
                except Exception as exc:
                    failed[message.dedup_key] = str(exc) or type(exc).__name__
                    break  # the later sinks wait with it: in order, as `deliver` sends
                else:
                    claims.append((message.dedup_key, sink.name, "delivered", None))
        if claims:
            async with conn.cursor() as cur:
                await cur.executemany(
                    "INSERT INTO notification_deliveries (dedup_key, sink, outcome, error) VALUES (%s, %s, %s, %s)"
                    " ON CONFLICT (dedup_key, sink) DO NOTHING", claims)
        return failed

    async def deliver(self, message: Message) -> None:
        """To every sink that takes it, once each (a sink that failed raises: a retry sends
        only to the sinks not done yet)."""
        for sink in self._sinks:
            if sink.accepts(message):
                await self._deliver_once(sink, message)

    async def _deliver_once(self, sink: Sink, message: Message) -> None:
        async with self._pool.connection() as conn, conn.transaction():
            claimed = await conn.execute(
                "INSERT INTO notification_deliveries (dedup_key, sink) VALUES (%s, %s)"
                " ON CONFLICT (dedup_key, sink) DO NOTHING", (message.dedup_key, sink.name))
            if claimed.rowcount == 0:
                return
            try:
                await sink.send(message)
            except PermanentDeliveryError as exc:
                log.error("notification %s rejected by %s: %s", message.dedup_key, sink.name, exc)
                await conn.execute(
                    "UPDATE notification_deliveries SET outcome = 'rejected', error = %s"
                    " WHERE dedup_key = %s AND sink = %s", (str(exc), message.dedup_key, sink.name))
