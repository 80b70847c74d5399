"""Trust over HTTP on the real stack (dev server, worker, embedded PostgreSQL): who may do
what, exactly-once POSTs with Idempotency-Key, serialized dispositions, and body limits."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import psycopg
import pytest

from api.auth import Principal, create_token
from tests.lifecycle import demo_request, ingest
from tests.stack import PRINCIPALS, auth, poll, stack_with_tokens, write_tokens

pytestmark = pytest.mark.asyncio

# Beside the shared test principals: a manager of another team, and a deputy whose token
# names sdrm-1's team explicitly.
EXTRA = [Principal(id="sdrm-9", role="sdr_manager"), Principal(id="deputy-1", role="sdr_manager", team="sdrm-1")]


@pytest.fixture(scope="module")
def tokens_file(tmp_path_factory):
    return write_tokens(tmp_path_factory.mktemp("tokens") / "tokens.json", PRINCIPALS + EXTRA)


@pytest.fixture(scope="module")
async def http(postgres_url, tokens_file):
    async with stack_with_tokens(postgres_url, tokens_file) as client:
        yield client


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return response.json()


async def _dispositions(http, lead_id: str) -> list[tuple[str, str]]:
    timeline = (await http.get(f"/v1/leads/{lead_id}/history")).json()
    return [(e["summary"].split(" ")[0], e["actor"]) for e in timeline if e["kind"] == "disposition"]


# ----------------------------------------------------------------------------- authorization

async def test_reps_and_managers_act_only_on_their_own_leads(http):
    state = await ingest(http)
    lead, sdr = state["lead_id"], state["owner"]
    other = "sdr-2" if sdr == "sdr-1" else "sdr-1"
    assert state["owner_manager"] == "sdrm-1"

    # Another rep: cannot read, see the history, or act.
    _problem(await http.get(f"/v1/leads/{lead}", headers=auth(other)), 403)
    _problem(await http.get(f"/v1/leads/{lead}/history", headers=auth(other)), 403)
    _problem(await http.post(f"/v1/leads/{lead}/accept", json={}, headers=auth(other)), 403)
    # A manager of another team: the same, and the lead is not in their list.
    _problem(await http.get(f"/v1/leads/{lead}", headers=auth("sdrm-9")), 403)
    refused = _problem(await http.post(f"/v1/leads/{lead}/accept", json={}, headers=auth("sdrm-9")), 403)
    assert "not on sdrm-9's team" in refused["detail"]
    listed = (await http.get("/v1/leads", headers=auth("sdrm-9"))).json()["items"]
    assert lead not in {i["lead_id"] for i in listed}
    # An integration ingests and reads, never disposes.
    _problem(await http.post(f"/v1/leads/{lead}/accept", json={}, headers=auth("crm")), 403)
    # The deputy's token names sdrm-1's team: it reads the lead and finds it in its list.
    assert (await http.get(f"/v1/leads/{lead}", headers=auth("deputy-1"))).status_code == 200

    async def deputy_list():
        return (await http.get("/v1/leads", headers=auth("deputy-1"))).json()["items"]

    await poll(deputy_list, lambda items: lead in {i["lead_id"] for i in items})

    # The team's manager acts for the rep; the history says who did it.
    accepted = await http.post(f"/v1/leads/{lead}/accept", json={"note": "covering"}, headers=auth("sdrm-1"))
    assert accepted.status_code == 200, accepted.text
    assert await _dispositions(http, lead) == [("accept", "sdrm-1")]
    state = (await http.get(f"/v1/leads/{lead}")).json()
    assert state["transitions"][-1]["actor"] == "sdrm-1"
    # Nothing the refused principals sent left a trace.
    assert [t["to"] for t in state["transitions"]].count("sal") == 1


async def test_only_revops_changes_the_roster(http):
    rep = {"name": "Benched", "role": "sdr", "available": False, "capacity": 0}
    for who in ("sdr-1", "sdrm-1", "crm"):
        _problem(await http.put("/v1/reps/trust-bench-1", json=rep, headers=auth(who)), 403)
    _problem(await http.get("/v1/reps", headers=auth("sdr-1")), 403)
    assert (await http.put("/v1/reps/trust-bench-1", json=rep, headers=auth("ops"))).status_code == 200


def _cli(tokens_file, *args) -> subprocess.CompletedProcess:
    env = {**os.environ, "HANDOFF_API_TOKENS_FILE": str(tokens_file)}
    return subprocess.run([sys.executable, "-m", "handoff.cli", "token", *args], capture_output=True, text=True,
                          timeout=60, env=env)


async def test_a_revoked_token_is_refused_by_the_running_api(http, tokens_file):
    token = create_token(tokens_file, Principal(id="sdr-revoke-1", role="sdr"))
    headers = {"Authorization": f"Bearer {token}"}
    assert (await http.get("/v1/leads/ghost-revoke", headers=headers)).status_code == 404  # authenticated

    listed = _cli(tokens_file, "list")
    assert listed.returncode == 0, listed.stderr
    line = next(ln for ln in listed.stdout.splitlines() if "\tsdr-revoke-1\t" in ln)
    token_id = line.split("\t")[0]
    assert line.endswith("active") and token not in listed.stdout

    revoked = _cli(tokens_file, "revoke", token_id)
    assert revoked.returncode == 0 and token_id in revoked.stdout, revoked.stderr
    refused = _problem(await http.get("/v1/leads/ghost-revoke", headers=headers), 401)
    assert "revoked" in refused["detail"]
    assert next(ln for ln in _cli(tokens_file, "list").stdout.splitlines() if ln.startswith(token_id)) \
        .split("\t")[-1].startswith("revoked")
    # Revoking again matches nothing; other principals' tokens still work.
    assert _cli(tokens_file, "revoke", "--principal", "sdr-revoke-1").returncode == 1
    assert (await http.get("/v1/leads/ghost-revoke", headers=auth("sdr-1"))).status_code == 404


# ----------------------------------------------------------------------------- exactly once

async def test_a_repeated_post_with_one_key_answers_the_first_response(http):
    intake = demo_request().model_dump(mode="json", exclude_none=True)
    key = {"Idempotency-Key": f"ingest-{intake['lead_id']}"}
    first = await http.post("/v1/leads", json=intake, headers=key)
    assert first.status_code == 201, first.text
    again = await http.post("/v1/leads", json=intake, headers=key)
    assert again.status_code == 201 and again.json() == first.json()  # the stored answer, not a 200
    assert again.headers["idempotent-replayed"] == "true"
    # The same key for another request is refused, naming the header.
    other = _problem(await http.post("/v1/leads", json={**intake, "lead_type": "webinar"}, headers=key), 422)
    assert other["errors"][0]["path"] == "Idempotency-Key" and "different request" in other["detail"]
    # Keys belong to a principal: another principal's same key is its own request.
    assert (await http.post("/v1/leads", json=intake, headers={**key, **auth("ops")})).status_code == 200
    bad = _problem(await http.post("/v1/leads", json=intake, headers={"Idempotency-Key": "k" * 300}), 422)
    assert bad["errors"][0]["path"] == "Idempotency-Key"


async def test_a_repeated_disposition_is_applied_once(http):
    state = await ingest(http)
    lead, sdr = state["lead_id"], state["owner"]
    body = {"channel": "phone", "outcome": "no_answer"}
    headers = {**auth(sdr), "Idempotency-Key": f"touch-{lead}"}
    # Ten copies of one request at once: one executes, every one answers its result.
    answers = await asyncio.gather(*(http.post(f"/v1/leads/{lead}/touches", json=body, headers=headers)
                                     for _ in range(10)))
    assert {a.status_code for a in answers} == {200}, [a.text for a in answers]
    assert len({a.text for a in answers}) == 1
    assert sum(a.headers.get("idempotent-replayed") == "true" for a in answers) == 9
    assert await _dispositions(http, lead) == [("touch", sdr)]


async def test_temporal_dedups_a_disposition_retried_after_the_api_lost_its_answer(http, postgres_url):
    state = await ingest(http)
    lead, sdr = state["lead_id"], state["owner"]
    headers = {**auth(sdr), "Idempotency-Key": f"accept-{lead}"}
    first = await http.post(f"/v1/leads/{lead}/accept", json={}, headers=headers)
    assert first.status_code == 200, first.text
    # As if the API died after Temporal applied the Update and before PostgreSQL stored it.
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        deleted = conn.execute("DELETE FROM idempotency_keys WHERE principal_id = %s AND key = %s",
                               (sdr, f"accept-{lead}")).rowcount
    assert deleted == 1
    retried = await http.post(f"/v1/leads/{lead}/accept", json={}, headers=headers)
    assert retried.status_code == 200 and "idempotent-replayed" not in retried.headers
    assert retried.json() == first.json()  # the first Update's result, same instant: not applied twice
    assert await _dispositions(http, lead) == [("accept", sdr)]
    # Without the key, the same request is a second accept on a SAL: refused.
    assert (await http.post(f"/v1/leads/{lead}/accept", json={}, headers=auth(sdr))).status_code == 409


async def test_concurrent_accepts_on_one_lead_are_serialized(http):
    state = await ingest(http)
    lead, sdr = state["lead_id"], state["owner"]
    answers = await asyncio.gather(*(http.post(f"/v1/leads/{lead}/accept", json={}, headers=auth(sdr))
                                     for _ in range(10)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] + [409] * 9, [a.text for a in answers]
    for refused in (a for a in answers if a.status_code == 409):
        assert refused.headers["content-type"].startswith("application/problem+json")
    state = (await http.get(f"/v1/leads/{lead}")).json()
    assert state["stage"] == "sal"
    assert [(t["from"], t["to"]) for t in state["transitions"]].count(("mql", "sal")) == 1


# ----------------------------------------------------------------------------- bad input

async def test_an_oversized_body_is_413_problem(http):
    big = {"lead_id": "big-1", "lead_type": "demo_request", "note": "x" * (1024 * 1024)}
    _problem(await http.post("/v1/leads", json=big), 413)

    async def chunks():  # no Content-Length: the limit holds for a streamed body too
        for _ in range(33):
            yield b"x" * 32768

    streamed = _problem(await http.post("/v1/leads", content=chunks(),
                                        headers={"content-type": "application/json"}), 413)
    assert "1048576 bytes" in streamed["detail"]
    # Nothing was started.
    _problem(await http.get("/v1/leads/big-1"), 404)


async def test_bad_input_gets_a_precise_problem(http):
    intake = demo_request().model_dump(mode="json", exclude_none=True)
    # An unknown field, anywhere in the body, is named.
    unknown = _problem(await http.post("/v1/leads", json={**intake, "priority": "high"}), 422)
    assert [e["path"] for e in unknown["errors"]] == ["priority"]
    nested = _problem(await http.post("/v1/leads", json={**intake, "contact": {**intake["contact"], "fax": "1"}}), 422)
    assert [e["path"] for e in nested["errors"]] == ["contact.fax"]
    # A timezone that does not exist.
    tz = _problem(await http.post("/v1/leads", json={**intake, "contact": {**intake["contact"],
                                                                            "timezone": "Mars/Olympus"}}), 422)
    assert [e["path"] for e in tz["errors"]] == ["contact.timezone"] and "Mars/Olympus" in tz["detail"]
    # A body that is not JSON at all.
    garbled = _problem(await http.post("/v1/leads", content=b"{not json", headers={"content-type": "application/json"}),
                       422)
    assert garbled["errors"][0]["path"] == "$" and "not valid JSON (at character 1" in garbled["detail"]
    # An unknown reason code on a real lead names the field and lists the policy's codes.
    state = await ingest(http)
    code = _problem(await http.post(f"/v1/leads/{state['lead_id']}/reject", json={"reason_code": "REJ-99"},
                                    headers=auth(state["owner"])), 422)
    assert code["errors"][0]["path"] == "reason_code" and "REJ-01" in code["detail"]
    # A lead id ingest would refuse is refused for engagement too (never a 500).
    webinar = {"events": [{"type": "webinar", "occurred_at": "2026-11-23T10:00:00Z"}]}
    bad_id = _problem(await http.post("/v1/leads/bad%20id/events", json=webinar), 422)
    assert bad_id["errors"][0]["path"] == "lead_id"
    # Nothing of it started a workflow.
    assert (await http.get(f"/v1/leads/{intake['lead_id']}")).status_code == 404
