"""The reports over HTTP on the real stack: leads driven through the API show up in the
scorecard, the rejection report and the funnel as the dispositions imply."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from temporalio.client import ScheduleOverlapPolicy, WorkflowExecutionStatus

from activities.reports import ReportKind, ReportOutcome
from activities.sinks import LogSink, SlackSink
from handoff.schedules import CRONS, ensure_report_schedules, schedule_id
from tests.lifecycle import ingest, seed_roster
from tests.receivers import webhook_receiver
from tests.stack import api_server, auth, dev_server, poll, worker

pytestmark = pytest.mark.asyncio


@pytest.fixture(scope="module")
async def http(postgres_url):
    seed_roster(postgres_url)
    with webhook_receiver() as hook:
        async with dev_server() as env, worker(env.client, postgres_url, sinks=[LogSink(), SlackSink(hook.url)]), \
                api_server(env.client, postgres_url) as client:
            client.temporal, client.hook, client.db = env.client, hook, postgres_url
            yield client


async def in_read_model(http, lead_id: str, stage: str) -> None:
    async def fetch():
        return (await http.get("/v1/leads", params={"stage": stage}, headers=auth("ops"))).json()

    await poll(fetch, lambda page: lead_id in [row["lead_id"] for row in page["items"]], timeout=60)


async def test_scorecard_rejections_and_funnel_follow_the_dispositions(http):
    source = f"webinar-{uuid.uuid4().hex[:8]}"
    before = (await http.get("/v1/reports/sla", headers=auth("sdrm-1"))).json()

    accepted = await ingest(http, source=source)
    touch = await http.post(f"/v1/leads/{accepted['lead_id']}/touches",
                            json={"channel": "phone", "outcome": "connected"}, headers=auth(accepted["owner"]))
    assert touch.status_code == 200, touch.text
    assert (await http.post(f"/v1/leads/{accepted['lead_id']}/accept", json={},
                            headers=auth(accepted["owner"]))).json()["stage"] == "sal"
    rejected = await ingest(http, source=source)
    answer = await http.post(f"/v1/leads/{rejected['lead_id']}/reject", json={"reason_code": "REJ-03"},
                             headers=auth(rejected["owner"]))
    assert answer.status_code == 200 and answer.json()["stage"] == "disqualified", answer.text
    await in_read_model(http, accepted["lead_id"], "sal")
    await in_read_model(http, rejected["lead_id"], "disqualified")

    # The rejection report: one REJ-03 from this source, and it is a top pattern with its action.
    report = (await http.get("/v1/reports/rejections", headers=auth("ops"))).json()
    cells = [c for c in report["cells"] if c["source"] == source]
    assert [(c["code"], c["handoff"], c["count"]) for c in cells] == [("REJ-03", "mql", 1)]
    pattern = next(p for p in report["top_patterns"] if p["source"] == source)
    assert pattern["code"] == "REJ-03" and pattern["action"] == "review persona mapping; contact do-not-route"

    # The funnel by source: two MQLs, one accepted.
    rows = (await http.get("/v1/reports/funnel", params={"by": "source"}, headers=auth("crm"))).json()
    row = next(r for r in rows if r["segment"] == source)
    assert row["leads"] == 2 and row["reached"]["mql"] == 2 and row["reached"]["sal"] == 1
    assert row["conversion"]["mql_to_sal"] == 50.0
    assert row["current"] == {"disqualified": 1, "sal": 1}

    # The scorecard: both MQLs counted, one accepted, one live conversation, one coded rejection.
    after = (await http.get("/v1/reports/sla", headers=auth("sdrm-1"))).json()
    assert [m["id"] for m in after["metrics"]] == [m["id"] for m in before["metrics"]]

    def delta(metric_id: str) -> tuple[int, int]:
        old = next(m for m in before["metrics"] if m["id"] == metric_id)
        new = next(m for m in after["metrics"] if m["id"] == metric_id)
        return new["numerator"] - old["numerator"], new["denominator"] - old["denominator"]

    assert delta("mql_to_sal_rate") == (1, 2)
    assert delta("mql_live_contact_rate") == (1, 2)
    assert delta("mql_quality_rate") == (1, 2)
    for metric in after["metrics"]:
        if metric["denominator"]:
            assert metric["value"] == round(100.0 * metric["numerator"] / metric["denominator"], 2)
            # A volume target of a running week can still be met: a value, no status yet.
            assert metric["status"] in ("green", "amber", "red") or metric["note"] == "the period is still running"
    quality = next(m for m in after["metrics"] if m["id"] == "mql_quality_rate")
    assert quality["target"] == 95 and quality["red"] == 85
    if quality["value"] is not None and quality["value"] < 85:
        assert quality["status"] == "red"


async def test_reports_refuse_reps_and_name_bad_parameters(http):
    refused = await http.get("/v1/reports/rejections", headers=auth("sdr-1"))
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    bad_by = await http.get("/v1/reports/funnel", params={"by": "colour"}, headers=auth("ops"))
    assert bad_by.status_code == 422 and bad_by.json()["errors"][0]["path"] == "by"
    bad_version = await http.get("/v1/reports/sla", params={"policy_version": "nope"}, headers=auth("ops"))
    assert bad_version.status_code == 422 and bad_version.json()["errors"][0]["path"] == "policy_version"
    bad_day = await http.get("/v1/reports/rejections", params={"week": "2026-13-01"}, headers=auth("ops"))
    assert bad_day.status_code == 422 and bad_day.json()["errors"][0]["path"] == "week"
    backwards = await http.get("/v1/reports/sla", params={"start": "2026-11-23", "end": "2026-11-20"},
                               headers=auth("ops"))
    assert backwards.status_code == 422 and backwards.json()["errors"][0]["path"] == "end"
    ancient = await http.get("/v1/reports/rejections", params={"week": "0001-01-01"}, headers=auth("ops"))
    assert ancient.status_code == 422 and ancient.json()["errors"][0]["path"] == "week"

    # A given week: Monday to Monday in the company timezone.
    week = (await http.get("/v1/reports/rejections", params={"week": "2026-11-26"}, headers=auth("ops"))).json()
    assert week["period"]["start"].startswith("2026-11-23T00:00:00")
    assert week["period"]["end"].startswith("2026-11-30T00:00:00")


def report_rows(database_url: str, kind: str) -> list[tuple[str, str, str, str]]:
    """This run's reports (the shared database also holds other tests' reports of 2001)."""
    with psycopg.connect(database_url) as conn:
        return conn.execute("SELECT dedup_key, recipient_role, subject, body FROM notifications WHERE kind = %s"
                            " AND at > now() - interval '1 day' ORDER BY dedup_key", (kind,)).fetchall()


async def triggered_twice(http, kind: ReportKind) -> None:
    """Trigger the schedule, then again once the first run is done (a repeat the same
    day), and wait until both runs have completed."""
    handle = http.temporal.get_schedule_handle(schedule_id(kind))

    async def runs():
        actions = (await handle.describe()).info.recent_actions
        statuses = []
        for action in actions:
            started = action.action
            run = http.temporal.get_workflow_handle(started.workflow_id, run_id=started.first_execution_run_id)
            statuses.append((await run.describe()).status)
        return statuses

    await handle.trigger()
    await poll(runs, lambda s: s.count(WorkflowExecutionStatus.COMPLETED) == 1, timeout=60)
    await handle.trigger(overlap=ScheduleOverlapPolicy.ALLOW_ALL)
    await poll(runs, lambda s: s.count(WorkflowExecutionStatus.COMPLETED) == 2, timeout=60)
    outcomes = []
    for action in sorted((await handle.describe()).info.recent_actions, key=lambda a: a.started_at):
        run = http.temporal.get_workflow_handle(action.action.workflow_id, run_id=action.action.first_execution_run_id,
                                                result_type=ReportOutcome)
        outcomes.append(await run.result())
    # Both runs made the same day's report; only the first recorded it.
    assert [o.fresh for o in outcomes] == [True, False] and outcomes[0].key == outcomes[1].key


async def test_schedules_are_created_idempotently_in_the_company_timezone(http):
    for _ in range(2):
        await ensure_report_schedules(http.temporal, "handoff", "America/New_York")
    for kind, cron in CRONS.items():
        described = await http.temporal.get_schedule_handle(schedule_id(kind)).describe()
        assert described.schedule.spec.time_zone_name == "America/New_York"
        assert described.schedule.spec.cron_expressions == [cron] or described.schedule.spec.calendars
        assert described.schedule.action.workflow == "ReportWorkflow"
    ids = [s.id async for s in await http.temporal.list_schedules()]
    assert sorted(i for i in ids if i.startswith("report-")) == ["report-daily_flash", "report-weekly_report"]


async def test_a_daily_flash_triggered_twice_is_recorded_and_posted_once(http):
    await ensure_report_schedules(http.temporal, "handoff", "America/New_York")
    await triggered_twice(http, "daily_flash")
    [(key, roles, subject, body)] = report_rows(http.db, "daily_flash")
    assert key.startswith("report:daily_flash:") and roles == "sdr_manager+ae_manager+revops"
    assert subject.startswith("[Handoff] SLA flash ") and "mql_response_tier1" in body
    posts = [p for p in http.hook.posts if "SLA flash" in p["text"]]
    assert len(posts) == 1 and subject in posts[0]["text"]


async def test_the_weekly_report_lists_the_scorecard_and_top_rejections_once(http):
    await ensure_report_schedules(http.temporal, "handoff", "America/New_York")
    await triggered_twice(http, "weekly_report")
    [(key, roles, subject, body)] = report_rows(http.db, "weekly_report")
    assert key.startswith("report:weekly_report:") and roles == "vp_marketing+vp_sales"
    assert "SLA scorecard" in body and "mql_quality_rate" in body
    # The first test's REJ-03 falls in this week, with the code's marketing action.
    assert "REJ-03" in body and "review persona mapping" in body
    assert len([p for p in http.hook.posts if "Weekly SLA report" in p["text"]]) == 1
