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
from activities.sinks import Message, PermanentDeliveryError, SlackSink
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


class NamedSink(LeadSink):
    """A LeadSink under a name of its own, keeping the messages it took; `refuse` refuses
    every message for good."""

    def __init__(self, name: str, lead: str, fail_once: frozenset[str] = frozenset(), refuse: bool = False):
        super().__init__(lead, fail_once)
        self.name, self.refuse = name, refuse
        self.messages: list[Message] = []

    async def send(self, message: Message) -> None:
        if self.refuse:
            raise PermanentDeliveryError("no such address")
        await super().send(message)
        self.messages.append(message)


def delivered(postgres_url: str, lead: str) -> list[tuple]:
    with psycopg.connect(postgres_url) as conn:
        return conn.execute("SELECT dedup_key, sink, outcome FROM notification_deliveries"
                            " WHERE dedup_key LIKE %s ORDER BY dedup_key, sink", (f"lead-{lead}:%",)).fetchall()


async def test_a_batch_sends_a_failed_sink_again_alone_and_records_a_refusal_once(pool, postgres_url):
    """In one dispatcher batch: the first sink takes both, the second fails the first
    notification once (the later sink waits with it), the third refuses everything for
    good. The next round sends only what is owed."""
    lead = f"o-{uuid.uuid4().hex[:8]}"
    await record(pool, lead, 1, 2)
    first, flaky, refusing = (NamedSink("a", lead), NamedSink("b", lead, fail_once=frozenset({f"lead-{lead}:1"})),
                              NamedSink("c", lead, refuse=True))
    dispatcher = NotificationDispatcher(pool, NotificationActivities(pool, sinks=[first, flaky, refusing]))
    while ("breach", True, 0, False) in rows(postgres_url, lead):
        await dispatcher.deliver_due()
    assert rows(postgres_url, lead) == [("breach", True, 1, True), ("breach", False, 0, False)]
    assert delivered(postgres_url, lead) == [
        (f"lead-{lead}:1", "a", "delivered"),
        (f"lead-{lead}:2", "a", "delivered"), (f"lead-{lead}:2", "b", "delivered"),
        (f"lead-{lead}:2", "c", "rejected")]
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("UPDATE notifications SET next_attempt_at = now() WHERE lead_id = %s", (lead,))
    while ("breach", True, 1, True) in rows(postgres_url, lead):
        await dispatcher.deliver_due()
    assert first.sent == [f"lead-{lead}:1", f"lead-{lead}:2"]  # not sent twice
    assert flaky.sent == [f"lead-{lead}:2", f"lead-{lead}:1"]
    assert len(delivered(postgres_url, lead)) == 6
    assert rows(postgres_url, lead) == [("breach", False, 1, False), ("breach", False, 0, False)]


async def test_a_batch_addresses_each_message_as_the_roster_stands(pool, postgres_url):
    """A named rep gets their own address; a role, everyone available holding it."""
    role = f"vp_{uuid.uuid4().hex[:6]}"
    lead = f"o-{uuid.uuid4().hex[:8]}"
    reps = [(f"ob-{uuid.uuid4().hex[:6]}", email, available)
            for email, available in [("vp1@x.test", True), ("vp2@x.test", True), ("off@x.test", False)]]
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        for rep, email, available in reps:
            conn.execute("INSERT INTO reps (rep_id, name, role, email, available) VALUES (%s, %s, %s, %s, %s)",
                         (rep, rep, role, email, available))
    try:
        at = datetime(2030, 1, 8, 15, tzinfo=UTC)
        notices = [Notification(seq=1, lead_id=lead, kind="escalation", recipient_role=role, at=at, item="x"),
                   Notification(seq=2, lead_id=lead, kind="breach", recipient_role=role, recipient=reps[2][0],
                                at=at, item="x")]
        async with pool.connection() as conn, conn.transaction():
            await record_pending(conn, template_environment(), f"lead-{lead}", notices)
        sink = NamedSink("a", lead)
        dispatcher = NotificationDispatcher(pool, NotificationActivities(pool, sinks=[sink]))
        while any(pending for _, pending, _, _ in rows(postgres_url, lead)):
            await dispatcher.deliver_due()
        to = {m.dedup_key: sorted(m.email_to) for m in sink.messages}
        assert to == {f"lead-{lead}:1": ["vp1@x.test", "vp2@x.test"], f"lead-{lead}:2": ["off@x.test"]}
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute("DELETE FROM reps WHERE role = %s", (role,))


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
