"""R7 at ingest without waiting for the read model: two submissions of one person that
arrive together (a `:batch` naming the person twice, concurrent POSTs) start ONE lead and
merge the others into it; a claim left by a start that failed, or an old one, never
swallows a later genuine submission."""

from __future__ import annotations

import asyncio

import psycopg
import pytest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RetryConfig
from temporalio.testing import WorkflowEnvironment

from infra.temporal import temporal_cli_path
from readmodel.lookups import CLAIM_TTL
from sla_policies.lead import LeadIntake
from tests.lifecycle import demo_request, live_api
from tests.stack import api_server, poll

pytestmark = pytest.mark.asyncio


@pytest.fixture(scope="module")
async def http(postgres_url):
    async with live_api(postgres_url) as client:
        yield client


def body(intake: LeadIntake) -> dict:
    return intake.model_dump(mode="json", exclude_none=True)


async def merged_into(http, lead_id: str, merged: list[str]) -> dict:
    """The lead's state once every one of `merged` is merged into it."""
    answer = await poll(lambda: http.get(f"/v1/leads/{lead_id}"),
                        lambda r: sorted(r.json()["merged_leads"]) == sorted(merged))
    state = answer.json()
    assert [t["event"] for t in state["transitions"]].count("T01 duplicate_merged") == len(merged)
    for other in merged:  # no lead of their own: one rep, one SLA clock
        assert (await http.get(f"/v1/leads/{other}")).status_code == 404
    return state


async def test_a_batch_naming_one_person_twice_starts_one_lead(http):
    first = demo_request()
    again = demo_request(contact=first.contact.model_dump())  # the same person under a new id

    answer = await http.post("/v1/leads:batch", json={"leads": [body(first), body(again)]})

    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert sorted(r["status"] for r in results) == [200, 201], results
    [winner] = [r["lead_id"] for r in results if r["status"] == 201]
    [loser] = [r["lead_id"] for r in results if r["status"] == 200]
    await merged_into(http, winner, [loser])


async def test_concurrent_posts_of_one_person_start_one_lead(http):
    first = demo_request()
    intakes = [first] + [demo_request(contact=first.contact.model_dump()) for _ in range(3)]

    answers = await asyncio.gather(*(http.post("/v1/leads", json=body(i)) for i in intakes))

    assert sorted(a.status_code for a in answers) == [200, 200, 200, 201], [a.text for a in answers]
    [winner] = [a.json()["lead_id"] for a in answers if a.status_code == 201]
    for merged in (a for a in answers if a.status_code == 200):
        assert merged.headers["content-location"] == f"/v1/leads/{winner}"
    others = [i.lead_id for i in intakes if i.lead_id != winner]
    await merged_into(http, winner, others)

    # Ingest stays idempotent on the lead id: the winner again is 200, itself, no merge.
    again = await http.post("/v1/leads", json=body(next(i for i in intakes if i.lead_id == winner)))
    assert again.status_code == 200 and "content-location" not in again.headers
    assert sorted((await http.get(f"/v1/leads/{winner}")).json()["merged_leads"]) == sorted(others)


async def test_a_failed_start_or_an_old_claim_does_not_swallow_a_later_submission(http, postgres_url):
    # A start that fails because Temporal went down after the API connected: 503, no claim stays.
    first = demo_request()
    doomed = await WorkflowEnvironment.start_local(dev_server_existing_path=temporal_cli_path(),
                                                   data_converter=pydantic_data_converter)
    client = await Client.connect(doomed.client.service_client.config.target_host,
                                  data_converter=pydantic_data_converter, retry_config=RetryConfig(max_retries=1))
    await doomed.shutdown()
    async with api_server(client, postgres_url) as down:
        refused = await down.post("/v1/leads", json=body(first))
    assert refused.status_code == 503, refused.text
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("SELECT count(*) FROM lead_claims WHERE lead_id = %s",
                            (first.lead_id,)).fetchone() == (0,)
        # An old claim of the same person for a lead that never started (a crash, say).
        conn.execute("INSERT INTO lead_claims (lead_id, person, claimed_at) VALUES (%s, lower(%s), now() - %s)",
                     ("never-started", first.contact.email, 2 * CLAIM_TTL))

    # The same person's next submission is a lead of its own; the failed one's retry merges into it.
    later = demo_request(contact=first.contact.model_dump())
    created = await http.post("/v1/leads", json=body(later))
    assert created.status_code == 201 and created.json()["lead_id"] == later.lead_id, created.text
    retried = await http.post("/v1/leads", json=body(first))
    assert retried.status_code == 200 and retried.headers["content-location"] == f"/v1/leads/{later.lead_id}"
    await merged_into(http, later.lead_id, [first.lead_id])
