"""`/metrics` on the real stack (time-skipping server, in-process worker, API on a port): a
disposition and a breach move exactly the series they should; the worker's Temporal SDK
metrics are served on its own port."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from infra.telemetry import worker_runtime
from infra.temporal import connect
from tests.lifecycle import clock, demo_request, routed_lead_at, seed_roster, start, state_when
from tests.stack import api_server, auth, free_port, poll, time_skipping_server, worker

pytestmark = pytest.mark.asyncio


@pytest.fixture(scope="module")
async def stack(postgres_url):
    seed_roster(postgres_url)
    async with time_skipping_server() as env, worker(env.client, postgres_url), \
            api_server(env.client, postgres_url) as http:
        yield env, http


def samples(text: str) -> dict[tuple, float]:
    """Every sample as {(name, sorted labels): value}."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


async def scrape(http) -> dict[tuple, float]:
    response = await http.get("/metrics", headers={})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    return samples(response.text)


def delta(after: dict, before: dict, name: str, **labels) -> float:
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0.0) - before.get(key, 0.0)


def intake(tag: str):
    # Own company domain: the session's PostgreSQL is shared by every module.
    return demo_request(contact={"first_name": "Mia", "last_name": "T", "email": f"mia@{tag}-metrics.io",
                                 "phone": "+1 555 0123", "title": "VP Engineering",
                                 "timezone": "America/New_York", "country": "US"})


async def test_a_disposition_and_a_breach_move_their_series(stack):
    env, http = stack
    before = await scrape(http)

    # Two tier-1 demo requests routed on a Tuesday at 10:00 New York time.
    _, worked, sdr = await routed_lead_at(env, 1, 10, intake=intake("worked"))
    left = await start(env, intake("left"))
    left_state = await state_when(left, lambda s: s.owner is not None)
    worked_id = (await worked.describe()).id.removeprefix("lead-")

    other = "sdr-2" if sdr.id == "sdr-1" else "sdr-1"
    refused = await http.post(f"/v1/leads/{worked_id}/touches", json={"channel": "phone", "outcome": "connected"},
                              headers=auth(other))
    assert refused.status_code == 403
    touched = await http.post(f"/v1/leads/{worked_id}/touches", json={"channel": "phone", "outcome": "connected"},
                              headers=auth(sdr.id))
    assert touched.status_code == 200, touched.text

    # The untouched lead's first-response window breaches; its SDR manager is escalated to.
    breach_at = clock(left_state, "sdr_response.tier1").breach_at
    await env.sleep(breach_at + timedelta(minutes=1) - await env.get_current_time())
    await state_when(left, lambda s: clock(s, "sdr_response.tier1").breached_at is not None)

    async def breached():
        return await scrape(http)

    after = await poll(breached, lambda m: delta(m, before, "handoff_escalations_total", role="sdr_manager") >= 1)
    assert delta(after, before, "handoff_leads", stage="mql") == 2
    assert delta(after, before, "handoff_clocks_started_total", item="sdr_response.tier1", tier="1") == 2
    assert delta(after, before, "handoff_clocks_met_total", item="sdr_response.tier1", tier="1") == 1
    assert delta(after, before, "handoff_clocks_breached_total", item="sdr_response.tier1", tier="1") == 1
    assert delta(after, before, "handoff_clocks_met_total", item="routing.high_intent", tier="") == 2
    assert delta(after, before, "handoff_escalations_total", role="sdr_manager") == 1
    assert delta(after, before, "handoff_disposition_duration_seconds_count", action="touch", outcome="ok") == 1
    assert delta(after, before, "handoff_disposition_duration_seconds_count", action="touch", outcome="refused") == 1
    # The latency was observed, in seconds, within the histogram's range.
    assert 0 < delta(after, before, "handoff_disposition_duration_seconds_sum", action="touch", outcome="ok") < 10
    assert delta(after, before, "handoff_disposition_duration_seconds_bucket", action="touch", outcome="ok",
                 le="+Inf") == 1


async def test_the_worker_serves_temporal_sdk_metrics_on_its_own_port(stack, postgres_url):
    env, _ = stack
    address = f"127.0.0.1:{free_port()}"
    # As `handoff worker` connects with HANDOFF_WORKER_METRICS_ADDRESS set.
    client = await connect(env.client.service_client.config.target_host, runtime=worker_runtime(address))
    async with worker(client, postgres_url, task_queue="handoff-sdk-metrics"):
        handle = await start(env, intake("sdk"), task_queue="handoff-sdk-metrics")
        await state_when(handle, lambda s: s.owner is not None)

        async def fetch():
            async with httpx.AsyncClient() as plain:
                return samples((await plain.get(f"http://{address}/metrics")).text)

        def ran(metrics: dict) -> bool:  # routing: a local activity in the lead's first task
            return any(name.startswith("temporal_local_activity_execution_latency") and name.endswith("_count")
                       and ("activity_type", "assign_lead") in labels and value >= 1
                       for (name, labels), value in metrics.items())

        metrics = await poll(fetch, ran)
    names = {name for name, _ in metrics}
    assert any(n.startswith("temporal_workflow_task_execution_latency") for n in names), sorted(names)
    assert any(n.startswith("temporal_worker_task_slots_available") for n in names), sorted(names)
    assert all(("task_queue", "handoff-sdk-metrics") in labels
               for (name, labels), _ in metrics.items() if name.startswith("temporal_local_activity_execution_latency"))
