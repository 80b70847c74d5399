"""The notification outbox (activities/notification_outbox.py): notifications are recorded
by the projection's transaction and delivered by the worker's dispatcher, once per sink,
with failed sinks retried later, on the real PostgreSQL and a real Temporal server."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool

from activities.notification_outbox import NotificationDispatcher, record_pending
from activities.notify import NotificationActivities, template_environment
from activities.sinks import Message, SlackSink
from sla_policies.state import Notification
from tests.lifecycle import demo_request, scheduled_activities, seed_roster, start, state_when
from tests.receivers import webhook_receiver
from tests.stack import poll, time_skipping_server, worker

pytestmark = pytest.mark.asyncio


@pytest.fixture(scope="module")
async def pool(postgres_url):
    async with AsyncConnectionPool(postgres_url, min_size=1, max_size=4) as pool:
        yield pool


class LeadSink:
    """A sink for one lead's messages (the shared database may hold other modules' pending
    rows), failing the first send of the keys in `fail_once`."""

    name = "test"

    def __init__(self, lead: str, fail_once: frozenset[str] = frozenset()):
        self.lead, self.fail_once = lead, set(fail_once)
        self.sent: list[str] = []

    def accepts(self, message: Message) -> bool:
        return message.lead_id == self.lead

    async def send(self, message: Message) -> None:
        if message.dedup_key in self.fail_once:
            self.fail_once.remove(message.dedup_key)
            raise ConnectionError("sink down")
        self.sent.append(message.dedup_key)


def rows(postgres_url: str, lead_id: str) -> list[tuple]:
    with psycopg.connect(postgres_url) as conn:
        return conn.execute("SELECT kind, pending, attempts, last_error IS NOT NULL FROM notifications"
                            " WHERE lead_id = %s ORDER BY dedup_key", (lead_id,)).fetchall()


async def record(pool: AsyncConnectionPool, lead: str, *seqs: int) -> None:
    notices = [Notification(seq=seq, lead_id=lead, kind="breach", recipient_role="sdr", recipient=None,
                            at=datetime(2030, 1, 8, 15, tzinfo=UTC), item="sdr_response.tier1") for seq in seqs]
    async with pool.connection() as conn, conn.transaction():
        await record_pending(conn, template_environment(), f"lead-{lead}", notices)
        # Recorded twice (a retried projection): still one row each.
        await record_pending(conn, template_environment(), f"lead-{lead}", notices)


async def test_a_failed_sink_is_retried_later_and_each_notification_is_sent_once(pool, postgres_url):
    lead = f"o-{uuid.uuid4().hex[:8]}"
    await record(pool, lead, 1, 2)
    assert rows(postgres_url, lead) == [("breach", True, 0, False)] * 2
    sink = LeadSink(lead, fail_once=frozenset({f"lead-{lead}:1"}))
    dispatcher = NotificationDispatcher(pool, NotificationActivities(pool, sinks=[sink]))
    while ("breach", True, 0, False) in rows(postgres_url, lead):
        await dispatcher.deliver_due()
    # The first send failed: that row waits (attempt 1, its error kept); the other went.
    assert rows(postgres_url, lead) == [("breach", True, 1, True), ("breach", False, 0, False)]
    assert sink.sent == [f"lead-{lead}:2"]
    await dispatcher.deliver_due()  # not due yet: nothing is sent again
    assert sink.sent == [f"lead-{lead}:2"]
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("UPDATE notifications SET next_attempt_at = now() WHERE lead_id = %s", (lead,))
    while ("breach", True, 1, True) in rows(postgres_url, lead):
        await dispatcher.deliver_due()
    await dispatcher.deliver_due()
    assert rows(postgres_url, lead) == [("breach", False, 1, False), ("breach", False, 0, False)]
    assert sink.sent == [f"lead-{lead}:2", f"lead-{lead}:1"]


async def test_two_dispatchers_deliver_each_notification_once(pool, postgres_url):
    lead = f"o-{uuid.uuid4().hex[:8]}"
    await record(pool, lead, *range(1, 31))
    sink = LeadSink(lead)
    dispatchers = [NotificationDispatcher(pool, NotificationActivities(pool, sinks=[sink]), batch=4)
                   for _ in range(2)]

    async def drain(dispatcher: NotificationDispatcher) -> None:
        while await dispatcher.deliver_due():
            pass

    await asyncio.gather(*(drain(d) for d in dispatchers))
    assert sorted(sink.sent) == sorted(f"lead-{lead}:{seq}" for seq in range(1, 31))
    assert all(not pending for _, pending, _, _ in rows(postgres_url, lead))


async def test_a_routed_lead_notifies_its_owner_without_a_notify_activity(postgres_url):
    """The owner's notice travels with the arrival's projection and reaches the sink through
    the worker's dispatcher (woken by the projection's commit)."""
    seed_roster(postgres_url)
    with webhook_receiver() as hook:
        async with time_skipping_server() as env, worker(env.client, postgres_url, sinks=[SlackSink(hook.url)]):
            intake = demo_request()
            handle = await start(env, intake)
            await state_when(handle, lambda s: s.owner is not None)
            posted = await poll(lambda: asyncio.sleep(0, [p for p in hook.posts if intake.lead_id in p["text"]]),
                                bool)
            # Marked sent once the sink answered, a moment after the post arrived: waited for
            # while the worker (its dispatcher) still runs.
            delivered = await poll(lambda: asyncio.sleep(0, rows(postgres_url, intake.lead_id)),
                                   lambda found: ("routed", False, 0, False) in found)
            history = [e async for e in handle.fetch_history_events()]
    assert "routed" in posted[0]["text"].lower()
    assert "notify" not in scheduled_activities(history)
    assert ("routed", True, 0, False) not in delivered
