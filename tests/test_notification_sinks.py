"""Notification delivery to a real webhook receiver and a real SMTP server: each
notification reaches each sink once, also when an activity is retried after a crash
between one sink and the next."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime

import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool
from temporalio.testing import ActivityEnvironment

from activities.notify import NotificationActivities
from activities.sinks import LogSink, SlackSink, SmtpSink, sinks_from_settings
from infra.settings import Settings
from sla_policies.state import Notification
from tests.lifecycle import demo_request, seed_roster, start, state_when
from tests.receivers import smtp_receiver, webhook_receiver
from tests.stack import poll, time_skipping_server, worker


@pytest.fixture(scope="module")
async def pool(postgres_url):
    async with AsyncConnectionPool(postgres_url, min_size=1, max_size=4) as pool:
        yield pool
    # The roster is shared by the session: reps made here must not take (or be managers of)
    # another module's leads (a lifecycle test after this module once escalated to nobody).
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("DELETE FROM reps WHERE rep_id LIKE 'mail-%'")


def deliveries(postgres_url: str, key: str) -> list[str]:
    with psycopg.connect(postgres_url) as conn:
        return [r[0] for r in conn.execute(
            "SELECT sink FROM notification_deliveries WHERE dedup_key = %s ORDER BY sink", (key,))]


def new_rep(postgres_url: str, email: str, role: str = "sdr", available: bool = False) -> str:
    rep = f"mail-{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("INSERT INTO reps (rep_id, name, role, email, available) VALUES (%s, %s, %s, %s, %s)",
                     (rep, rep.upper(), role, email, available))
    return rep


async def test_retry_after_a_crash_between_sinks_never_double_posts(pool, postgres_url):
    rep = new_rep(postgres_url, "rep@example.test")
    lead = f"n-{uuid.uuid4().hex[:8]}"
    n = Notification(seq=1, lead_id=lead, kind="breach", recipient_role="sdr", recipient=rep,
                     at=datetime(2030, 1, 8, 15, tzinfo=UTC), item="sdr_response.tier1")
    with webhook_receiver() as hook, smtp_receiver(started=False) as mailbox:
        activities = NotificationActivities(pool, sinks=[
            LogSink(), SlackSink(hook.url), SmtpSink("127.0.0.1", mailbox.port, "handoff@example.test")])
        env = ActivityEnvironment()
        env.info = dataclasses.replace(env.info, workflow_id=f"lead-{lead}")
        key = f"lead-{lead}:1"

        # First attempt: the webhook takes it, the SMTP server is down: the activity fails.
        with pytest.raises(OSError):
            await env.run(activities.notify, n)
        assert len(hook.posts) == 1 and deliveries(postgres_url, key) == ["log", "slack"]

        # The retry (SMTP back up) mails it and does not post again; later retries do nothing.
        mailbox.start()
        assert await env.run(activities.notify, n) is False
        assert await env.run(activities.notify, n) is False
        assert len(hook.posts) == 1 and len(mailbox.messages) == 1
        assert deliveries(postgres_url, key) == ["log", "slack", "smtp"]

    post, mail = hook.posts[0]["text"], mailbox.messages[0]
    assert "SLA breach: sdr_response.tier1" in post and lead in post
    assert mail["To"] == "rep@example.test" and mail["From"] == "handoff@example.test"
    assert mail["Subject"] == f"[Handoff] SLA breach: sdr_response.tier1 on lead {lead}"
    assert mail["Message-ID"] == f"<lead-{lead}.1@handoff>"
    assert "was breached" in mail.get_payload()


async def test_a_failed_post_is_sent_again_on_retry(pool, postgres_url):
    lead = f"n-{uuid.uuid4().hex[:8]}"
    n = Notification(seq=3, lead_id=lead, kind="info", recipient_role="vp_sales",
                     at=datetime(2030, 1, 8, 15, tzinfo=UTC), item="pattern", detail="two weeks in a row")
    with webhook_receiver() as hook:
        hook.fail_next = 1
        activities = NotificationActivities(pool, sinks=[SlackSink(hook.url)])
        env = ActivityEnvironment()
        env.info = dataclasses.replace(env.info, workflow_id=f"lead-{lead}")
        with pytest.raises(Exception, match="500"):
            await env.run(activities.notify, n)
        assert deliveries(postgres_url, f"lead-{lead}:3") == []  # the claim was rolled back
        await env.run(activities.notify, n)
        await env.run(activities.notify, n)
        assert [p["text"].splitlines()[0] for p in hook.posts] == [f"*[Handoff] Lead {lead}: pattern*"]


async def test_a_permanent_refusal_is_recorded_and_not_retried(pool, postgres_url):
    """A 404 webhook or a refused address cannot succeed later: retrying would stall the
    lead's later notifications, so the refusal is recorded and the activity completes."""
    rep = new_rep(postgres_url, "gone@nowhere.test")
    lead = f"n-{uuid.uuid4().hex[:8]}"
    n = Notification(seq=2, lead_id=lead, kind="warning", recipient_role="sdr", recipient=rep,
                     at=datetime(2030, 1, 8, 15, tzinfo=UTC), item="sal_decision")
    with webhook_receiver() as hook, smtp_receiver() as mailbox:
        hook.fail_next, hook.fail_status = 1, 404
        activities = NotificationActivities(pool, sinks=[
            SlackSink(hook.url), SmtpSink("127.0.0.1", mailbox.port, "handoff@example.test")])
        env = ActivityEnvironment()
        env.info = dataclasses.replace(env.info, workflow_id=f"lead-{lead}")
        assert await env.run(activities.notify, n) is True
        assert await env.run(activities.notify, n) is False
        assert hook.requests == 1 and hook.posts == [] and mailbox.messages == []
    with psycopg.connect(postgres_url) as conn:
        rows = conn.execute("SELECT sink, outcome, error FROM notification_deliveries WHERE dedup_key = %s"
                            " ORDER BY sink", (f"lead-{lead}:2",)).fetchall()
    assert [(sink, outcome) for sink, outcome, _ in rows] == [("slack", "rejected"), ("smtp", "rejected")]
    assert "404" in rows[0][2] and "no such user" in rows[1][2]


async def test_a_role_escalation_mails_everyone_holding_the_role(pool, postgres_url):
    role = f"vp_sales_{uuid.uuid4().hex[:6]}"  # a role of its own in the shared roster
    new_rep(postgres_url, "vp1@example.test", role, available=True)
    new_rep(postgres_url, "vp2@example.test", role, available=True)
    new_rep(postgres_url, "away@example.test", role, available=False)
    lead = f"n-{uuid.uuid4().hex[:8]}"
    n = Notification(seq=7, lead_id=lead, kind="escalation", recipient_role=role,
                     at=datetime(2030, 1, 8, 15, tzinfo=UTC), item="sdr_response.tier3")
    with smtp_receiver() as mailbox:
        activities = NotificationActivities(pool, sinks=[
            SmtpSink("127.0.0.1", mailbox.port, "handoff@example.test", fallback_to="ops@example.test")])
        env = ActivityEnvironment()
        env.info = dataclasses.replace(env.info, workflow_id=f"lead-{lead}")
        await env.run(activities.notify, n)
    [mail] = mailbox.messages
    assert sorted(mail["To"].split(", ")) == ["vp1@example.test", "vp2@example.test"]
    assert mail["Subject"] == f"[Handoff] Escalation to {role}: sdr_response.tier3 on lead {lead}"


def test_sinks_come_from_the_environment():
    assert [s.name for s in sinks_from_settings(Settings())] == ["log"]
    configured = Settings(HANDOFF_SLACK_WEBHOOK_URL="http://hooks.example/x", HANDOFF_SMTP_HOST="mail.example",
                          HANDOFF_SMTP_PORT=2525, HANDOFF_SMTP_FROM="sla@example.test")
    assert [s.name for s in sinks_from_settings(configured)] == ["log", "slack", "smtp"]
    assert configured.smtp_port == 2525


async def test_a_routed_lead_reaches_the_webhook_and_the_mailbox_once(postgres_url):
    seed_roster(postgres_url)
    with webhook_receiver() as hook, smtp_receiver() as mailbox:
        sinks = [LogSink(), SlackSink(hook.url),
                 SmtpSink("127.0.0.1", mailbox.port, "handoff@example.test", fallback_to="sales-ops@example.test")]
        async with time_skipping_server() as env, worker(env.client, postgres_url, task_queue="sinks", sinks=sinks):
            intake = demo_request()
            handle = await start(env, intake, task_queue="sinks")
            await state_when(handle, lambda s: s.owner is not None)

            def recorded() -> int:
                with psycopg.connect(postgres_url) as conn:
                    return conn.execute("SELECT count(*) FROM notifications WHERE lead_id = %s",
                                        (intake.lead_id,)).fetchone()[0]

            async def posts_for_lead():
                return [p for p in hook.posts if intake.lead_id in p["text"]]

            routed = await poll(posts_for_lead, lambda posts: any("routed to you" in p["text"] for p in posts))
            assert routed
            async def mails_for_lead():
                return [m for m in mailbox.messages if intake.lead_id in m["Subject"]]

            mails = await poll(mails_for_lead, lambda mails: len(mails) >= 1)
            assert mails[0]["To"] == "sales-ops@example.test"
            # Each recorded notification was posted exactly once.
            assert len(await posts_for_lead()) == recorded()
