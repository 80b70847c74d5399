"""`POST /v1/leads:batch` on the real stack: per-item results by index and lead id, a bad
item never blocks the others, the limit is named, and the new leads really run."""

from __future__ import annotations

import uuid

import pytest

from tests.lifecycle import demo_request, seed_roster
from tests.stack import api_server, auth, dev_server, poll, worker
from workflows.lead import workflow_id

pytestmark = pytest.mark.asyncio
# A full batch on a loaded test machine is slow, not an outage: its lookups get more time
# than the production deadline (HANDOFF_DB_DEADLINE_S) gives a frozen database.
BATCH_DB_DEADLINE_S = 60.0


@pytest.fixture(scope="module")
async def servers(postgres_url):
    seed_roster(postgres_url)
    async with dev_server() as env, worker(env.client, postgres_url), \
            api_server(env.client, postgres_url, db_deadline_s=BATCH_DB_DEADLINE_S) as client:
        yield env, client


@pytest.fixture(scope="module")
async def http(servers):
    return servers[1]


def lead(lead_id: str, **overrides) -> dict:
    return demo_request(lead_id=lead_id, **overrides).model_dump(mode="json", exclude_none=True)


async def test_batch_reports_each_item_and_ingests_the_good_ones(http):
    tag = uuid.uuid4().hex[:8]
    existing = lead(f"b-{tag}-old")
    assert (await http.post("/v1/leads", json=existing)).status_code == 201
    bad_email = lead(f"b-{tag}-bad")
    bad_email["contact"]["email"] = "not-an-email"
    items = [lead(f"b-{tag}-1"), bad_email, existing, "a string, not a lead", lead(f"b-{tag}-2"),
             lead(f"b-{tag}-3", lead_type="webinar")]

    answer = await http.post("/v1/leads:batch", json={"leads": items})

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["created"], body["existing"], body["failed"]) == (3, 1, 2)
    by_index = {r["index"]: r for r in body["results"]}
    assert [by_index[i]["status"] for i in range(6)] == [201, 422, 200, 422, 201, 201]
    assert by_index[1]["lead_id"] == f"b-{tag}-bad"
    assert by_index[1]["errors"][0]["path"] == "leads[1].contact.email"
    assert by_index[3]["lead_id"] is None and by_index[3]["errors"]
    assert by_index[2]["lead_id"] == existing["lead_id"]

    for lead_id in (f"b-{tag}-1", f"b-{tag}-2"):
        async def fetch(lead_id=lead_id):
            return (await http.get(f"/v1/leads/{lead_id}")).json()

        state = await poll(fetch, lambda s: s.get("owner") is not None, timeout=60)
        assert state["stage"] == "mql"
    # The bad item started nothing.
    assert (await http.get(f"/v1/leads/b-{tag}-bad")).status_code == 404

    # Sending the same batch again creates nothing new.
    again = (await http.post("/v1/leads:batch", json={"leads": items})).json()
    assert (again["created"], again["existing"], again["failed"]) == (0, 4, 2)


async def test_batch_limit_and_auth(http):
    tag = uuid.uuid4().hex[:8]
    too_many = await http.post("/v1/leads:batch", json={"leads": [lead(f"x-{tag}-{i}") for i in range(1001)]})
    assert too_many.status_code == 413
    assert too_many.headers["content-type"].startswith("application/problem+json")
    assert "1000" in too_many.json()["detail"] and too_many.json()["errors"][0]["path"] == "leads"
    assert (await http.get(f"/v1/leads/x-{tag}-0")).status_code == 404

    empty = await http.post("/v1/leads:batch", json={"leads": []})
    assert empty.status_code == 422 and empty.json()["errors"][0]["path"] == "leads"

    refused = await http.post("/v1/leads:batch", json={"leads": [lead(f"y-{tag}")]}, headers=auth("sdr-1"))
    assert refused.status_code == 403


async def test_full_batch_of_1000_is_accepted(servers, postgres_url):
    """1,000 leads are validated and started in one call. On a task queue no worker polls:
    what is measured is the API's part (running the leads is the first test's job), and the
    call does not share the test machine's two cores with 1,000 leads being routed."""
    env, _ = servers
    tag = uuid.uuid4().hex[:8]
    items = [lead(f"k-{tag}-{i}", lead_type="newsletter") for i in range(1000)]
    async with api_server(env.client, postgres_url, task_queue=f"unpolled-{tag}",
                          db_deadline_s=BATCH_DB_DEADLINE_S) as http:
        body = (await http.post("/v1/leads:batch", json={"leads": items}, timeout=300)).json()
        started = await env.client.get_workflow_handle(workflow_id(f"k-{tag}-999")).describe()
    assert (body["created"], body["failed"]) == (1000, 0), [r for r in body["results"] if r["status"] != 201][:3]
    assert sorted(r["index"] for r in body["results"]) == list(range(1000))
    assert started.task_queue == f"unpolled-{tag}"  # really started, waiting for a worker
