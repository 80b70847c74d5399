"""Worker Versioning on the real dev server: a lead started on build A stays on build A
(its Updates and timers are handled by A's worker) after build B becomes current, and new
leads go to B. B is deliberately incompatible (tests/versioning_builds.py): had the lead
been routed to B, its replay would fail and the Update would get no answer."""

from __future__ import annotations

from psycopg_pool import AsyncConnectionPool
from temporalio.api.enums.v1 import EventType, VersioningBehavior

from handoff.versioning import current_version, deployment_config, set_current
from handoff.worker import build_worker
from tests.lifecycle import demo_request, seed_roster
from tests.stack import api_server, auth, dev_server, poll
from tests.versioning_builds import LeadWorkflowBuildB
from workflows.report import ReportWorkflow

DEPLOYMENT = "handoff-versioning-test"
QUEUE = "versioning"


async def _ingest(http) -> str:
    intake = demo_request()
    created = await http.post("/v1/leads", json=intake.model_dump(mode="json", exclude_none=True))
    assert created.status_code == 201, created.text

    async def state():
        return (await http.get(f"/v1/leads/{intake.lead_id}")).json()

    await poll(state, lambda s: s.get("owner") is not None, timeout=60)
    return intake.lead_id


async def _builds_that_ran(client, lead_id: str) -> tuple[set[str], list[int]]:
    """The build id of every workflow task completed in the lead's history, and its event types."""
    builds, kinds = set(), []
    async for event in client.get_workflow_handle(f"lead-{lead_id}").fetch_history_events():
        kinds.append(event.event_type)
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            attrs = event.workflow_task_completed_event_attributes
            builds.add(attrs.deployment_version.build_id or attrs.worker_deployment_version.rsplit(".", 1)[-1])
    return builds, kinds


async def test_a_running_lead_stays_on_its_build_and_new_leads_take_the_current_one(postgres_url):
    seed_roster(postgres_url)
    build_a, build_b = deployment_config(DEPLOYMENT, "A"), deployment_config(DEPLOYMENT, "B")
    async with dev_server() as env, AsyncConnectionPool(postgres_url, min_size=1, max_size=4) as pool:
        client = env.client
        async with build_worker(client, QUEUE, pool, deployment_config=build_a):
            # A first deployment makes itself current (nobody is there to run the CLI yet).
            assert await set_current(client, build_a.version, "if-none")
            async with api_server(client, postgres_url, QUEUE) as http:
                on_a = await _ingest(http)
                async with build_worker(client, QUEUE, pool, deployment_config=build_b,
                                        workflows=[LeadWorkflowBuildB, ReportWorkflow]):
                    # A later build waits for the operator ...
                    assert not await set_current(client, build_b.version, "if-none")
                    assert (await current_version(client, DEPLOYMENT))[0] == "A"
                    # ... who makes it current (`temporal worker deployment set-current-version`).
                    assert await set_current(client, build_b.version, "always")
                    assert (await current_version(client, DEPLOYMENT))[0] == "B"

                    on_b = await _ingest(http)
                    # The lead started on A is still served: an Update (a new workflow task) is
                    # answered, and only A's worker ever ran it.
                    owner = (await http.get(f"/v1/leads/{on_a}")).json()["owner"]
                    accepted = await http.post(f"/v1/leads/{on_a}/accept", json={}, headers=auth(owner))
                    assert accepted.status_code == 200, accepted.text
                    assert accepted.json()["stage"] == "sal"

                    builds_a, _ = await _builds_that_ran(client, on_a)
                    builds_b, kinds_b = await _builds_that_ran(client, on_b)
                    assert builds_a == {"A"}
                    assert builds_b == {"B"}
                    # B's code really ran the new lead: its extra timer is the first command.
                    first_command = kinds_b[kinds_b.index(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) + 1]
                    assert first_command == EventType.EVENT_TYPE_TIMER_STARTED

                    for lead_id, build in ((on_a, "A"), (on_b, "B")):
                        info = (await client.get_workflow_handle(f"lead-{lead_id}").describe()
                                ).raw_description.workflow_execution_info.versioning_info
                        assert info.behavior == VersioningBehavior.VERSIONING_BEHAVIOR_PINNED
                        assert (info.deployment_version.build_id or info.version.rsplit(".", 1)[-1]) == build
