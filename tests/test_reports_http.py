"""The reports over HTTP on the real stack: leads driven through the API show up in the
scorecard, the rejection report and the funnel as the dispositions imply."""

from __future__ import annotations

import uuid

import pytest

from tests.lifecycle import demo_request, seed_roster
from tests.stack import api_server, auth, dev_server, poll, worker

pytestmark = pytest.mark.asyncio


@pytest.fixture(scope="module")
async def http(postgres_url):
    seed_roster(postgres_url)
    async with dev_server() as env, worker(env.client, postgres_url), \
            api_server(env.client, postgres_url) as client:
        client.temporal = env.client
        yield client


async def ingest(http, **overrides) -> dict:
    intake = demo_request(**overrides)
    created = await http.post("/v1/leads", json=intake.model_dump(mode="json", exclude_none=True))
    assert created.status_code == 201, created.text

    async def fetch():
        return (await http.get(f"/v1/leads/{intake.lead_id}")).json()

    return await poll(fetch, lambda s: s["owner"] is not None)


async def in_read_model(http, lead_id: str, stage: str) -> None:
    async def fetch():
        return (await http.get("/v1/leads", params={"stage": stage}, headers=auth("ops"))).json()

    await poll(fetch, lambda page: lead_id in [row["lead_id"] for row in page["items"]], timeout=60)


async def test_scorecard_rejections_and_funnel_follow_the_dispositions(http):
    source = f"webinar-{uuid.uuid4().hex[:8]}"
    before = (await http.get("/v1/reports/sla", headers=auth("aem-1"))).json()

    accepted = await ingest(http, source=source)
    touch = await http.post(f"/v1/leads/{accepted['lead_id']}/touches", json={"channel": "phone", "outcome": "connected"},
                            headers=auth(accepted["owner"]))
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
    after = (await http.get("/v1/reports/sla", headers=auth("aem-1"))).json()
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
            assert metric["status"] in ("green", "amber", "red")
    quality = next(m for m in after["metrics"] if m["id"] == "mql_quality_rate")
    assert quality["target"] == 95 and quality["red"] == 85
    if quality["value"] is not None and quality["value"] < 85:
        assert quality["status"] == "red"


async def test_reports_refuse_reps_and_name_bad_parameters(http):
    refused = await http.get("/v1/reports/sla", headers=auth("sdr-1"))
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

    # A given week: Monday to Monday in the company timezone.
    week = (await http.get("/v1/reports/rejections", params={"week": "2026-11-26"}, headers=auth("ops"))).json()
    assert week["period"]["start"].startswith("2026-11-23T00:00:00")
    assert week["period"]["end"].startswith("2026-11-30T00:00:00")
