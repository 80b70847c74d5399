"""Policy versions over HTTP on the real stack: deploy (validated, idempotent, immutable),
activate, read, render, diff; a new active version pins only leads ingested afterwards."""

from __future__ import annotations

import asyncio
import json

import pytest
import yaml

from tests.lifecycle import demo_request, seed_roster
from tests.policy_variants import DEFAULT_VERSION, faster_tier1_text, sign_release, unique_version
from tests.stack import api_server, auth, dev_server, poll, worker

pytestmark = pytest.mark.asyncio

YAML = {"Content-Type": "application/yaml", **auth("ops")}


@pytest.fixture(scope="module")
async def stack(postgres_url):
    seed_roster(postgres_url)
    async with dev_server() as env, worker(env.client, postgres_url), \
            api_server(env.client, postgres_url) as client:
        yield env, client
        # The test database is shared by the session: leave the bundled version active.
        await client.post(f"/v1/policies/{DEFAULT_VERSION}/activate", headers=auth("ops"))


@pytest.fixture(scope="module")
async def http(stack):
    return stack[1]


async def ingest(http) -> dict:
    intake = demo_request()
    created = await http.post("/v1/leads", json=intake.model_dump(mode="json", exclude_none=True))
    assert created.status_code == 201, created.text
    # Routed: the owner is assigned, then the response clock starts (one more local
    # activity), so a read in between sees an owner without the clock.
    return await poll(lambda: _json(http.get(f"/v1/leads/{intake.lead_id}")),
                      lambda s: s["owner"] is not None and any(c["item"].startswith("sdr_response.") for c in s["sla"]))


async def _json(request):
    return (await request).json()


async def test_bundled_version_is_stored_and_active(http):
    listed = (await http.get("/v1/policies")).json()
    bundled = next(p for p in listed if p["version"] == DEFAULT_VERSION)
    assert bundled["deployed_by"] == "bundled" and len(bundled["content_hash"]) == 64
    assert [p["version"] for p in listed if p["status"] == "active"] == [DEFAULT_VERSION]
    one = (await http.get(f"/v1/policies/{DEFAULT_VERSION}")).json()
    assert one["policy"]["version"] == DEFAULT_VERSION and one["document"].startswith("# Handoff default")


async def test_invalid_deploy_changes_nothing_and_lists_every_error(http):
    version = unique_version()
    before = (await http.get("/v1/policies")).json()
    broken = (faster_tier1_text(version, target="banana").replace("capacity_capped: true", "capacity_capped: maybe")
              + "\nbogus_key: 1\n")
    refused = await http.post("/v1/policies", content=broken, headers=YAML)
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    errors = {(e["path"], e["message"].split(":")[0]) for e in refused.json()["errors"]}
    assert errors == {("routing.capacity_capped", "Input should be a valid boolean, unable to interpret input"),
                      ("windows.sdr_response.tier1.target", "invalid span 'banana'"),
                      ("bogus_key", "unknown key")}
    assert (await http.get("/v1/policies")).json() == before
    assert (await http.get(f"/v1/policies/{version}")).status_code == 404
    # Not a mapping at all, and a syntax error: one error at "$", still nothing stored.
    for body in ("- just\n- a list\n", "version: [unclosed\n"):
        bad = await http.post("/v1/policies", content=body, headers=YAML)
        assert bad.status_code == 422 and bad.json()["errors"][0]["path"] == "$"
    assert (await http.get("/v1/policies")).json() == before


async def test_deploy_is_revops_only_idempotent_and_immutable(http):
    version = unique_version()
    text = faster_tier1_text(version)
    assert (await http.post("/v1/policies", content=text,
                            headers={"Content-Type": "application/yaml"})).status_code == 403  # integration
    created = await http.post("/v1/policies", content=text, headers=YAML)
    assert created.status_code == 201, created.text
    record = created.json()
    assert (record["version"], record["status"], record["deployed_by"]) == (version, "draft", "ops")
    # The same policy as JSON is the same deployment: 200, unchanged.
    as_json = json.dumps(yaml.safe_load(text), default=str)
    again = await http.post("/v1/policies", content=as_json, headers={**YAML, "Content-Type": "application/json"})
    assert again.status_code == 200 and again.json() == record
    # A different document under the same version: 409, the stored one is kept.
    other = faster_tier1_text(version, target="20m")
    conflict = await http.post("/v1/policies", content=other, headers=YAML)
    assert conflict.status_code == 409 and version in conflict.json()["detail"]
    assert (await http.get(f"/v1/policies/{version}")).json()["document"] == text
    unsupported = await http.post("/v1/policies", content=text, headers={**YAML, "Content-Type": "text/csv"})
    assert unsupported.status_code == 415

    diff = (await http.get(f"/v1/policies/{DEFAULT_VERSION}/diff/{version}")).json()
    assert {(c["path"], c["old"], c["new"]) for c in diff["changes"]} == {
        ("version", DEFAULT_VERSION, version),
        ("windows.sdr_response.tier1.target", "5m", "10m"),
        ("windows.sdr_response.tier1.breach", "2h", "3h")}
    markdown = await http.get(f"/v1/policies/{version}/document")
    assert markdown.headers["content-type"].startswith("text/markdown") and version in markdown.text
    html = await http.get(f"/v1/policies/{version}/document", headers={**auth("sdr-1"), "Accept": "text/html"})
    assert html.headers["content-type"].startswith("text/html") and "<html" in html.text.lower()
    assert (await http.get(f"/v1/policies/{version}/document?format=html")).text == html.text
    assert (await http.get("/v1/policies/nope/document")).status_code == 404


async def test_activating_a_version_affects_only_leads_ingested_afterwards(http):
    version = unique_version()
    assert (await http.post("/v1/policies", content=faster_tier1_text(version), headers=YAML)).status_code == 201
    before = await ingest(http)
    assert before["policy_version"] == DEFAULT_VERSION
    assert (await http.post(f"/v1/policies/{version}/activate")).status_code == 403  # integration
    await sign_release(http, version)
    activated = await http.post(f"/v1/policies/{version}/activate", headers=auth("ops"))
    assert activated.status_code == 200, activated.text
    assert (activated.json()["status"], activated.json()["activated_by"]) == ("active", "ops")
    statuses = {p["version"]: p["status"] for p in (await http.get("/v1/policies")).json()}
    assert statuses[version] == "active" and statuses[DEFAULT_VERSION] == "retired"
    assert list(statuses.values()).count("active") == 1

    after = await ingest(http)
    assert after["policy_version"] == version
    old_response = next(c for c in before["sla"] if c["item"] == "sdr_response.tier1")
    # The lead ingested before keeps its version and its clocks.
    again = (await http.get(f"/v1/leads/{before['lead_id']}")).json()
    assert again["policy_version"] == DEFAULT_VERSION
    assert next(c for c in again["sla"] if c["item"] == "sdr_response.tier1") == old_response
    assert (await http.post(f"/v1/policies/{DEFAULT_VERSION}/activate", headers=auth("ops"))).status_code == 200
    assert (await http.post("/v1/policies/nope/activate", headers=auth("ops"))).status_code == 404


async def test_cli_deploys_activates_and_diffs_through_the_api(http, tmp_path):
    from typer.testing import CliRunner

    from handoff.cli import app

    version = unique_version()
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text(faster_tier1_text(version))
    bad.write_text(faster_tier1_text(unique_version(), target="banana"))
    env = {"HANDOFF_API_URL": str(http.base_url), "HANDOFF_TOKEN": "ops-token"}

    def run(*args: str):
        # The API serves on this event loop: the blocking CLI runs in a thread.
        return asyncio.to_thread(CliRunner().invoke, app, ["policy", *args], env=env)

    refused = await run("deploy", str(bad))
    assert refused.exit_code == 1 and "windows.sdr_response.tier1.target: invalid span 'banana'" in refused.output
    deployed = await run("deploy", str(good))
    assert deployed.exit_code == 0 and f"policy {version} deployed: status draft" in deployed.output
    assert "already deployed (identical)" in (await run("deploy", str(good))).output
    changes = await run("diff", DEFAULT_VERSION, version)
    assert changes.exit_code == 0 and "windows.sdr_response.tier1.breach: '2h' -> '3h'" in changes.output
    await sign_release(http, version)
    activated = await run("activate", version)
    assert activated.exit_code == 0 and f"policy {version} is active" in activated.output
    assert (await run("activate", DEFAULT_VERSION)).exit_code == 0
    forbidden = await asyncio.to_thread(CliRunner().invoke, app, ["policy", "activate", version],
                                        env={**env, "HANDOFF_TOKEN": "sdr-1-token"})
    assert forbidden.exit_code == 1 and "HTTP 403" in forbidden.output


async def test_migrating_open_leads_shows_in_their_history(stack):
    env, http = stack
    old, new = unique_version(), unique_version()
    for version, target in ((old, "10m"), (new, "20m")):
        deployed = await http.post("/v1/policies", content=faster_tier1_text(version, target=target), headers=YAML)
        assert deployed.status_code == 201, deployed.text
    await sign_release(http, old)
    await http.post(f"/v1/policies/{old}/activate", headers=auth("ops"))
    pinned = [await ingest(http), await ingest(http)]
    # A lead first seen through an engagement webhook (signal-with-start) is pinned too.
    webhook_lead = f"webhook-{new}"
    seen = await http.post(f"/v1/leads/{webhook_lead}/events", json={"events": [
        {"type": "webinar_attended", "occurred_at": "2026-11-20T15:00:00Z"}]})
    assert seen.status_code == 202, seen.text
    await poll(lambda: _json(http.get(f"/v1/leads/{webhook_lead}")), lambda s: s.get("stage") == "data_hold")
    await http.post(f"/v1/policies/{DEFAULT_VERSION}/activate", headers=auth("ops"))
    other = await ingest(http)
    assert [s["policy_version"] for s in pinned] == [old, old] and other["policy_version"] == DEFAULT_VERSION
    # Visibility (where "all open leads of a version" comes from) is eventually consistent.
    await poll(lambda: env.client.count_workflows(f"HandoffPolicyVersion = '{old}'"), lambda c: c.count == 3)

    body = {"from_version": old, "stages": ["mql"], "recompute_clocks": True}
    assert (await http.post(f"/v1/policies/{new}/migrate", json=body, headers=auth("sdrm-1"))).status_code == 403
    assert (await http.post("/v1/policies/nope/migrate", json=body, headers=auth("ops"))).status_code == 404
    unselected = await http.post(f"/v1/policies/{new}/migrate", json={"recompute_clocks": True}, headers=auth("ops"))
    assert unselected.status_code == 422 and "from_version" in unselected.json()["detail"]

    report = await http.post(f"/v1/policies/{new}/migrate", json=body, headers=auth("ops"))
    assert report.status_code == 200, report.text
    ids = sorted(s["lead_id"] for s in pinned)
    assert report.json() == {"version": new, "recompute_clocks": True, "count": 2, "migrated": ids,
                             "skipped": [{"lead_id": webhook_lead, "reason": "in stage data_hold"}]}
    for lead_id in ids:
        state = (await http.get(f"/v1/leads/{lead_id}")).json()
        assert state["policy_version"] == new
        history = (await http.get(f"/v1/leads/{lead_id}/history", headers=auth("ops"))).json()
        migrated = [e for e in history if "policy migrated" in e["summary"]]
        assert len(migrated) == 1 and migrated[0]["actor"] == "ops" and migrated[0]["kind"] == "stage"
        assert f"policy migrated {old} -> {new}; running clocks recomputed: " in migrated[0]["summary"]
    assert (await http.get(f"/v1/leads/{other['lead_id']}")).json()["policy_version"] == DEFAULT_VERSION

    rest = (await http.post(f"/v1/policies/{new}/migrate", json={"from_version": old}, headers=auth("ops"))).json()
    assert (rest["count"], rest["migrated"]) == (1, [webhook_lead])
    assert (await http.get(f"/v1/leads/{webhook_lead}")).json()["policy_version"] == new

    # Again: nothing left to migrate. By id: only that lead, clocks kept.
    again = (await http.post(f"/v1/policies/{new}/migrate", json={"lead_ids": ids}, headers=auth("ops"))).json()
    assert again["count"] == 0 and {s["reason"] for s in again["skipped"]} == {f"already on policy {new}"}
    by_id = (await http.post(f"/v1/policies/{new}/migrate", json={"lead_ids": [other["lead_id"]]},
                             headers=auth("ops"))).json()
    assert (by_id["count"], by_id["migrated"]) == (1, [other["lead_id"]])
    history = (await http.get(f"/v1/leads/{other['lead_id']}/history", headers=auth("ops"))).json()
    assert any(f"policy migrated {DEFAULT_VERSION} -> {new}; running clocks keep their instants" in e["summary"]
               for e in history)
