"""The weekly report activity on the real PostgreSQL: two weeks of rejected MQLs (in 2001,
a period no other test writes) put metrics on the pattern ladder, and each escalation is
recorded and posted once to the roles the policy names, also when the run is repeated."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from activities.reports import ReportActivities, ReportRun
from activities.sinks import LogSink, SlackSink
from sla_policies.loader import default_policy
from tests.receivers import webhook_receiver

pytestmark = pytest.mark.asyncio

TUESDAYS = [datetime(2001, 3, 6, 15, tzinfo=UTC), datetime(2001, 3, 13, 15, tzinfo=UTC)]
LEADS = ["rpt-esc-1", "rpt-esc-2"]


def seed(database_url: str) -> None:
    """What the projection writes for an MQL rejected REJ-02 by its SDR an hour later."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        for lead_id, at in zip(LEADS, TUESDAYS, strict=True):
            conn.execute(
                "INSERT INTO leads (lead_id, workflow_id, stage, tier, acv_tier, owner, policy_version, lead_type,"
                " state, created_at, updated_at) VALUES (%s, %s, 'disqualified', 2, '30k_75k', 'rpt-sdr', %s,"
                " 'demo_request', %s, %s, %s)",
                (lead_id, f"lead-{lead_id}", default_policy().version, Jsonb({"intake": {"source": "rpt-list"}}),
                 at, at + timedelta(hours=1)))
            for seq, (when, from_stage, to_stage, actor, code) in enumerate([
                    (at, None, "inquiry", "system", None), (at, "inquiry", "mql", "system", None),
                    (at + timedelta(hours=1), "mql", "disqualified", "rpt-sdr", "REJ-02")], start=1):
                conn.execute("INSERT INTO transitions (lead_id, seq, at, from_stage, to_stage, event, actor,"
                             " reason_code) VALUES (%s, %s, %s, %s, %s, 'e', %s, %s)",
                             (lead_id, seq, when, from_stage, to_stage, actor, code))


def unseed(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("DELETE FROM transitions WHERE lead_id = ANY(%s)", (LEADS,))
        conn.execute("DELETE FROM leads WHERE lead_id = ANY(%s)", (LEADS,))


def rows(database_url: str) -> list[tuple[str, str, str, str]]:
    with psycopg.connect(database_url) as conn:
        return conn.execute("SELECT dedup_key, kind, recipient_role, body FROM notifications"
                            " WHERE dedup_key LIKE 'report:%%:2001-%%' ORDER BY dedup_key").fetchall()


async def test_two_red_weeks_escalate_to_the_vps_once(postgres_url):
    seed(postgres_url)
    pool = AsyncConnectionPool(postgres_url, min_size=1, max_size=2, open=False)
    await pool.open()
    try:
        with webhook_receiver() as hook:
            reports = ReportActivities(pool, sinks=[LogSink(), SlackSink(hook.url)])
            friday = ReportRun(kind="weekly_report", at=datetime(2001, 3, 16, 13, tzinfo=UTC))
            first = await reports.send_report(friday)
            again = await reports.send_report(friday.model_copy(update={"at": friday.at + timedelta(hours=2)}))
            posts = [p["text"] for p in hook.posts]
    finally:
        await pool.close()
        unseed(postgres_url)

    assert first.key == again.key == "report:weekly_report:2001-03-12"
    assert (first.fresh, again.fresh) == (True, False)
    ladder = {e.side: e for e in first.escalations}
    # Nobody accepted and every decided MQL was rejected: marketing red both weeks (and
    # sales too: the rejections carry no notes, so feedback completion is 0%, and nobody
    # had a conversation before rejecting).
    assert {"mql_to_sal_rate", "mql_quality_rate"} <= set(ladder["marketing"].metrics)
    assert ladder["sales"].metrics == ["mql_live_contact_rate", "rejection_feedback_rate"]
    assert all((e.weeks, e.level, e.notify) == (2, "tier1", ["vp_marketing", "vp_sales"]) for e in ladder.values())
    assert [e.side for e in again.escalations] == [e.side for e in first.escalations] == ["marketing", "sales"]

    recorded = rows(postgres_url)
    escalations = {key: (role, body) for key, kind, role, body in recorded if kind == "pattern_escalation"}
    assert set(escalations) == {f"report:pattern_escalation:2001-03-12:{side}" for side in ladder}
    role, body = escalations["report:pattern_escalation:2001-03-12:marketing"]
    assert role == "vp_marketing+vp_sales" and "2 consecutive weeks" in body and "corrective action" in body
    assert "The marketing side" in body and "mql_quality_rate" in body
    [weekly] = [body for _, kind, _, body in recorded if kind == "weekly_report"]
    assert "REJ-02 from rpt-list" in weekly and "review scoring model" in weekly
    assert "marketing (" in weekly and "mql_quality_rate" in weekly
    assert "2 consecutive weeks - tier1: vp_marketing + vp_sales" in weekly
    # The webhook got the report and each escalation once, though the run was repeated.
    assert len(posts) == 1 + len(ladder)
    assert sum("Weekly SLA report 2001-03-12" in p for p in posts) == 1
