"""No worker to answer: the API says 503 (safe to retry) instead of a bare 500 or a hang,
and the same request succeeds once a worker is back, without a second workflow."""

from __future__ import annotations

import pytest

from tests.lifecycle import demo_request, seed_roster
from tests.stack import api_server, dev_server, worker

pytestmark = pytest.mark.asyncio


async def test_ingest_without_a_worker_is_503_and_the_retry_finds_the_one_lead(postgres_url):
    seed_roster(postgres_url)
    intake = demo_request().model_dump(mode="json", exclude_none=True)
    async with dev_server() as env, api_server(env.client, postgres_url) as http:
        refused = await http.post("/v1/leads", json=intake)  # started, but nobody can answer its query
        assert refused.status_code == 503, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.headers["retry-after"] == "1" and "safe to retry" in refused.json()["detail"]
        async with worker(env.client, postgres_url):
            retried = await http.post("/v1/leads", json=intake)
            assert retried.status_code == 200 and retried.json()["stage"] == "mql"  # the same lead, once
            ids = [w.id async for w in env.client.list_workflows(f"WorkflowId = 'lead-{intake['lead_id']}'")]
            assert ids == [f"lead-{intake['lead_id']}"]


async def test_a_connection_broken_during_the_state_read_is_retried_not_a_503(postgres_url):
    """Seen in CI: a lead started, then its state read died with the connection ("h2
    protocol error") and ingest answered 503. A read is safe to repeat, and the Temporal
    client repeats it on a new connection within the same deadline: the API answers 200."""
    from temporalio.client import Client
    from temporalio.contrib.pydantic import pydantic_data_converter

    from tests.faults import BreakableProxy

    seed_roster(postgres_url)
    intake = demo_request().model_dump(mode="json", exclude_none=True)
    async with dev_server() as env, worker(env.client, postgres_url):
        proxy = BreakableProxy(env.client.service_client.config.target_host)
        try:
            through_proxy = await Client.connect(proxy.address, data_converter=pydantic_data_converter)
            async with api_server(through_proxy, postgres_url) as http:
                assert (await http.post("/v1/leads", json=intake)).status_code == 201
                for _ in range(3):  # each read's first attempt dies mid-request
                    proxy.break_next()
                    read = await http.get(f"/v1/leads/{intake['lead_id']}")
                    assert read.status_code == 200, read.text
                    assert read.json()["lead_id"] == intake["lead_id"]
                assert proxy.broken == 3
        finally:
            proxy.close()
