"""Co-signed policy releases over HTTP on the real stack (issue 16): RevOps activates only
a fully signed version; each signature is a principal of the needed role, bound to the
content hash it read; a major change needs the CEO too; the SLA document shows the change
list and the signatures."""

from __future__ import annotations

import pytest

from tests.policy_variants import DEFAULT_VERSION, faster_tier1_text, routing_change_text, unique_version
from tests.stack import api_server, auth, dev_server

pytestmark = pytest.mark.asyncio

YAML = {"Content-Type": "application/yaml", **auth("ops")}


@pytest.fixture(scope="module")
async def http(postgres_url):
    async with dev_server() as env, api_server(env.client, postgres_url) as client:
        yield client
        await client.post(f"/v1/policies/{DEFAULT_VERSION}/activate", headers=auth("ops"))


async def deploy(http, text: str) -> dict:
    deployed = await http.post("/v1/policies", content=text, headers=YAML)
    assert deployed.status_code == 201, deployed.text
    return (await http.get(f"/v1/policies/{deployed.json()['version']}/signoffs")).json()


async def sign(http, version: str, principal: str, content_hash: str):
    return await http.post(f"/v1/policies/{version}/signoffs", json={"content_hash": content_hash},
                           headers=auth(principal))


async def test_activation_waits_for_both_vps_each_signing_this_content(http):
    version = unique_version()
    status = await deploy(http, faster_tier1_text(version))
    assert (status["compared_with"], status["exempt"], status["missing"]) == (DEFAULT_VERSION, False,
                                                                              ["vp_marketing", "vp_sales"])
    refused = await http.post(f"/v1/policies/{version}/activate", headers=auth("ops"))
    assert refused.status_code == 409
    assert refused.json()["detail"].endswith("missing vp_marketing, vp_sales")
    assert [e["path"] for e in refused.json()["errors"]] == ["signoffs.vp_marketing", "signoffs.vp_sales"]

    digest = status["content_hash"]
    assert (await sign(http, version, "sdr-1", digest)).status_code == 403  # not a signing role
    assert (await sign(http, version, "ops", digest)).status_code == 403  # RevOps deploys, it does not sign
    stale = await sign(http, version, "vpm", "0" * 64)
    assert stale.status_code == 409 and stale.json()["errors"][0]["path"] == "content_hash"
    first = await sign(http, version, "vpm", digest)
    assert first.status_code == 201 and first.json()["missing"] == ["vp_sales"]
    signed = first.json()["signatures"][0]
    assert (signed["role"], signed["principal_id"], signed["content_hash"], signed["counts"]) == \
        ("vp_marketing", "vpm", digest, True)
    assert (await sign(http, version, "vpm", digest)).status_code == 200  # once per role, kept
    still = await http.post(f"/v1/policies/{version}/activate", headers=auth("ops"))
    assert still.status_code == 409 and still.json()["detail"].endswith("missing vp_sales")

    assert (await sign(http, version, "vps", digest)).json()["missing"] == []
    activated = await http.post(f"/v1/policies/{version}/activate", headers=auth("ops"))
    assert activated.status_code == 200, activated.text
    assert (await http.post(f"/v1/policies/{DEFAULT_VERSION}/activate", headers=auth("ops"))).status_code == 200


async def test_a_major_change_needs_the_ceo_and_the_document_shows_changes_and_signatures(http):
    version = unique_version()
    status = await deploy(http, routing_change_text(version))
    assert [r["role"] for r in status["required"]] == ["vp_marketing", "vp_sales", "ceo"]
    assert status["required"][-1]["reason"] == "endorses a major change (routing.segment_keys)"
    for principal in ("vpm", "vps"):
        assert (await sign(http, version, principal, status["content_hash"])).status_code == 201
    refused = await http.post(f"/v1/policies/{version}/activate", headers=auth("ops"))
    assert refused.status_code == 409 and refused.json()["detail"].endswith("missing ceo")
    assert (await sign(http, version, "ceo", status["content_hash"])).status_code == 201

    document = (await http.get(f"/v1/policies/{version}/document", headers=auth("ops"))).text
    assert all(change in document for change in status["changes"])
    assert "Sign-offs on this version's content" in document
    assert all(who in document for who in ("vpm", "vps", "ceo"))
    assert (await http.post(f"/v1/policies/{version}/activate", headers=auth("ops"))).status_code == 200
    assert (await http.post(f"/v1/policies/{DEFAULT_VERSION}/activate", headers=auth("ops"))).status_code == 200


async def test_a_version_without_a_change_list_cannot_be_signed(http):
    version = unique_version()
    text = faster_tier1_text(version)
    start, end = text.index("changes:\n"), text.index("signoff:\n")
    status = await deploy(http, text[:start] + text[end:])
    assert status["changes"] == []
    refused = await sign(http, version, "vpm", status["content_hash"])
    assert refused.status_code == 409 and "no change list" in refused.json()["detail"]


async def test_the_bundled_version_is_exempt(http):
    status = (await http.get(f"/v1/policies/{DEFAULT_VERSION}/signoffs")).json()
    assert (status["exempt"], status["missing"]) == (True, [])


async def test_the_cli_signs_in_the_token_holders_role(http):
    import asyncio

    from typer.testing import CliRunner

    from handoff.cli import app

    version = unique_version()
    await deploy(http, faster_tier1_text(version))
    env = {"HANDOFF_API_URL": str(http.base_url)}

    def run(token: str):
        return asyncio.to_thread(CliRunner().invoke, app, ["policy", "sign", version],
                                 env={**env, "HANDOFF_TOKEN": token})

    first = await run("vpm-token")
    assert first.exit_code == 0 and "still missing: vp_sales" in first.output, first.output
    assert "fully signed, ready to activate" in (await run("vps-token")).output
    refused = await run("sdr-1-token")
    assert refused.exit_code == 1 and "HTTP 403" in refused.output
