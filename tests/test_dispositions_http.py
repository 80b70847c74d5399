"""Dispositions over HTTP against the real Temporal dev server behave as in the workflow
tests, refusals carry the right status and reason, and the history shows it all."""

from __future__ import annotations

import pytest
from temporalio.client import WorkflowExecutionStatus

from tests.lifecycle import demo_request, ingest, live_api, local_activities
from tests.stack import auth, poll

pytestmark = pytest.mark.asyncio


@pytest.fixture(scope="module")
async def http(postgres_url):
    async with live_api(postgres_url) as client:
        yield client


async def test_a_lead_ingested_over_http_routes_without_asking_for_its_calendar(http):
    # The API resolved it at ingest (arrival_calendar): the lead's first task asks only
    # the read model (committee signal) and the roster, then commits.
    state = await ingest(http)
    assert state["owner"] and state["clocks"], state
    handle = http.temporal.get_workflow_handle(f"lead-{state['lead_id']}")

    async def ran():
        return local_activities((await handle.fetch_history()).events)

    assert await poll(ran, lambda types: "project_lead" in types) == [
        "account_engagement", "assign_lead", "project_lead"]


async def test_sdr_to_opportunity_over_http_with_history(http):
    state = await ingest(http)
    lead, sdr = state["lead_id"], state["owner"]
    other = "sdr-2" if sdr == "sdr-1" else "sdr-1"

    # Someone else's lead: 403 with the reason; nothing changes.
    refused = await http.post(f"/v1/leads/{lead}/accept", json={}, headers=auth(other))
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "not yours" in refused.json()["detail"]  # a stranger learns neither owner nor stage

    # Wrong stage: 409. Unknown code: 422 naming the field.
    assert (await http.post(f"/v1/leads/{lead}/handoff", json={}, headers=auth(sdr))).status_code == 409
    bad_code = await http.post(f"/v1/leads/{lead}/reject", json={"reason_code": "R9"}, headers=auth(sdr))
    assert bad_code.status_code == 422 and bad_code.json()["errors"][0]["path"] == "reason_code"
    # A body field that does not exist: 422 naming it.
    unknown = await http.post(f"/v1/leads/{lead}/touches", json={"channel": "fax", "outcome": "sent"},
                              headers=auth(sdr))
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["path"] == "channel"

    touched = await http.post(f"/v1/leads/{lead}/touches", json={"channel": "phone", "outcome": "connected"},
                              headers=auth(sdr))
    assert touched.status_code == 200, touched.text
    accepted = await http.post(f"/v1/leads/{lead}/accept", json={}, headers=auth(sdr))
    assert accepted.json()["stage"] == "sal"

    # The gate lists every missing item.
    gate = await http.post(f"/v1/leads/{lead}/handoff", json={"pain_statement": "slow routing"}, headers=auth(sdr))
    assert gate.status_code == 422
    for item in ("meeting_booked", "timeline", "meeting_link", "meddpic.metrics", "meddpic.implicate_pain"):
        assert item in gate.json()["detail"]

    handoff = {
        "meddpic": {"metrics": True, "decision_process": True, "implicate_pain": True},
        "meeting_at": "2030-01-08T15:00:00Z", "meeting_link": "https://meet.example/x",
        "pain_statement": "slow routing", "timeline_months": 4,
        "briefing": {"confirmed_pain": "yes", "timeline": "Q2", "stakeholders": ["CFO"], "meeting_context": "demo"},
    }
    sql = await http.post(f"/v1/leads/{lead}/handoff", json=handoff, headers=auth(sdr))
    assert sql.json()["stage"] == "sql", sql.text
    state = (await http.get(f"/v1/leads/{lead}")).json()
    ae = state["owner"]
    assert state["owner_role"] == "ae" and state["handoff_flags"] == ["economic_buyer", "decision_criteria"]

    # The SDR may still read the lead it handed over; an AE-REJ code from the SDR is refused.
    assert (await http.get(f"/v1/leads/{lead}", headers=auth(sdr))).status_code == 200
    opp = await http.post(f"/v1/leads/{lead}/accept", json={"briefing_read": True}, headers=auth(ae))
    assert opp.json()["stage"] == "opportunity"

    # Q28 at ingest: once the read model shows the opportunity, a colleague's demo request
    # from the same account is routed out in the ingest answer itself (T09), never to an SDR.
    await poll(lambda: http.get("/v1/leads", params={"stage": "opportunity"}),
               lambda r: lead in [row["lead_id"] for row in r.json()["items"]])
    domain = state["intake"]["contact"]["email"].split("@")[1]
    colleague = demo_request(contact={"first_name": "Cy", "last_name": "K", "email": f"cy@{domain}",
                                      "phone": "+1 555 0109", "title": "CFO", "timezone": "America/New_York",
                                      "country": "US"})
    routed_out = await http.post("/v1/leads", json=colleague.model_dump(mode="json", exclude_none=True))
    assert routed_out.status_code == 201
    assert (routed_out.json()["stage"], routed_out.json()["transitions"][-1]["note"]) == (
        "routed_out", f"account has an open opportunity (lead {lead})")
    vague = await http.post(f"/v1/leads/{lead}/opportunity", json={"next_step": "follow up"}, headers=auth(ae))
    assert vague.status_code == 422

    timeline = (await http.get(f"/v1/leads/{lead}/history")).json()
    summaries = [e["summary"] for e in timeline]
    assert any(s.startswith("mql → sal") for s in summaries)
    assert any(s.startswith("sal → sql") for s in summaries)
    assert any(s.startswith("sql → opportunity") for s in summaries)
    dispositions = [(e["summary"].split(" ")[0], e["actor"]) for e in timeline if e["kind"] == "disposition"]
    assert dispositions == [("touch", sdr), ("accept", sdr), ("handoff", sdr), ("accept", ae)]
    assert any(e["kind"] == "notification" and e["summary"].startswith("routed") for e in timeline)
    assert any(e["summary"].startswith("sdr_response.tier1 met") for e in timeline)


async def test_rejection_with_a_code_follows_its_path(http):
    state = await ingest(http)
    lead, sdr = state["lead_id"], state["owner"]
    rejected = await http.post(f"/v1/leads/{lead}/reject", json={"reason_code": "REJ-07", "note": "EMEA"},
                               headers=auth(sdr))
    assert rejected.json()["stage"] == "territory_hold"
    state = (await http.get(f"/v1/leads/{lead}")).json()
    assert state["transitions"][-1]["reason_code"] == "REJ-07"
    # The SDR's clocks are settled; routing is owed again, and RevOps owns that clock now.
    assert [c["item"] for c in state["sla"]] == ["routing.high_intent"]
    assert all(c["status"] in ("met", "voided") for c in state["clocks"] if c["owner_role"] == "sdr")


async def test_unauthenticated_and_wrong_role_requests_are_refused(http):
    assert (await http.get("/v1/leads/x", headers={"Authorization": ""})).status_code == 401
    assert (await http.get("/v1/leads/x", headers={"Authorization": "Bearer nope"})).status_code == 401
    denied = await http.post("/v1/leads", json=demo_request().model_dump(mode="json"), headers=auth("sdr-1"))
    assert denied.status_code == 403


async def test_unknown_lead_disposition_is_404(http):
    response = await http.post("/v1/leads/ghost/accept", json={}, headers=auth("sdr-1"))
    assert response.status_code == 404


async def test_list_filters_and_pages_from_the_read_model(http):
    created = [await ingest(http) for _ in range(3)]
    ids = {s["lead_id"] for s in created}

    async def listed():
        return (await http.get("/v1/leads", params={"stage": "mql", "limit": 2})).json()

    first = await poll(listed, lambda p: len(p["items"]) == 2 and p["next_cursor"])
    seen = [i["lead_id"] for i in first["items"]]
    cursor = first["next_cursor"]
    while cursor:
        page = (await http.get("/v1/leads", params={"stage": "mql", "limit": 2, "cursor": cursor})).json()
        seen += [i["lead_id"] for i in page["items"]]
        cursor = page["next_cursor"]
    assert ids <= set(seen) and len(seen) == len(set(seen))
    owner = created[0]["owner"]
    mine = (await http.get("/v1/leads", headers=auth(owner))).json()["items"]
    # Its own leads, and those it owned before (api/visibility.py): each one it may read.
    assert any(i["owner"] == owner for i in mine)
    # (The session's shared read model also holds rows other modules wrote without a workflow.)
    ours = {c["lead_id"] for c in created}
    for item in mine:
        if item["lead_id"] in ours:
            assert (await http.get(f"/v1/leads/{item['lead_id']}", headers=auth(owner))).status_code == 200
    assert (await http.get("/v1/leads", params={"cursor": "garbage"})).status_code == 422
    assert (await http.get("/v1/leads", params={"tier": 7})).json()["errors"][0]["path"] == "tier"


async def test_a_competitor_rejected_with_rej06_is_never_routed_again(http):
    # Its own domain: REJ-06 puts the domain on the global suppression list for good.
    state = await ingest(http, contact={"first_name": "Zed", "last_name": "Q", "email": "zed@rival-one.io",
                                        "phone": "+1 555 0102", "title": "VP Sales", "country": "US"})
    lead, sdr = state["lead_id"], state["owner"]
    rejected = await http.post(f"/v1/leads/{lead}/reject", json={"reason_code": "REJ-06"}, headers=auth(sdr))
    assert rejected.json()["stage"] == "disqualified"

    async def closed():
        return (await http.temporal.get_workflow_handle(f"lead-{lead}").describe()).status

    # A lead disqualified for good ends its workflow once its last effects are out.
    await poll(closed, lambda status: status == WorkflowExecutionStatus.COMPLETED)
    again = await http.post("/v1/leads", json={"lead_id": lead, "lead_type": "demo_request"})
    assert again.status_code == 200 and again.json()["stage"] == "disqualified"
    assert again.json()["owner"] is None and again.json()["transitions"][-1]["reason_code"] == "REJ-06"
    events = await http.post(f"/v1/leads/{lead}/events",
                             json={"events": [{"type": "demo_request", "occurred_at": "2026-11-23T10:00:00Z"}]})
    assert events.status_code == 409


async def test_rej06_puts_the_domain_on_the_global_suppression_list(http):
    contact = {"first_name": "Eve", "last_name": "S", "email": "eve@sneaky-rival.io", "phone": "+1 555 0666",
               "title": "VP Sales", "timezone": "America/New_York", "country": "US"}
    state = await ingest(http, contact=contact)
    await http.post(f"/v1/leads/{state['lead_id']}/reject", json={"reason_code": "REJ-06"},
                    headers=auth(state["owner"]))

    colleague = demo_request(contact={**contact, "first_name": "Mallory", "email": "mallory@sneaky-rival.io"})

    async def ingest_colleague():
        response = await http.post("/v1/leads", json=colleague.model_dump(mode="json", exclude_none=True))
        return response.json()

    # The rejection answered only after the domain was on the list, so the next lead from it
    # is never worked.
    first = await ingest_colleague()
    assert first["stage"] == "disqualified" and first["permanent"] and first["owner"] is None
    assert first["transitions"][-1]["event"] == "T26 suppressed_domain"
    assert first["transitions"][-1]["reason_code"] == "REJ-06"


async def test_a_second_submission_by_the_same_person_merges_into_the_open_lead(http):
    """T01 / R7 / Q27: no second workflow for one person; the submission is an event."""
    first = demo_request("gated_content")
    created = await http.post("/v1/leads", json=first.model_dump(mode="json", exclude_none=True))
    assert created.status_code == 201 and created.json()["stage"] == "inquiry"  # nurture: not enough intent
    # The person match reads the read model, which follows the workflow within moments.
    await poll(lambda: http.get("/v1/leads", params={"stage": "inquiry"}),
               lambda r: first.lead_id in [row["lead_id"] for row in r.json()["items"]])
    again = demo_request(contact=first.contact.model_dump())  # a demo request under a new id
    merged = await http.post("/v1/leads", json=again.model_dump(mode="json", exclude_none=True))
    assert merged.status_code == 200 and merged.headers["content-location"] == f"/v1/leads/{first.lead_id}"
    assert merged.json()["lead_id"] == first.lead_id
    state = await poll(lambda: http.get(f"/v1/leads/{first.lead_id}"), lambda r: r.json()["owner"] is not None)
    state = state.json()
    # The demo request counted on the first lead: it re-qualified as a tier-1 MQL and was routed.
    assert state["merged_leads"] == [again.lead_id] and state["tier"] == 1
    assert [t["event"] for t in state["transitions"]][1:4] == [
        "T01 duplicate_merged", "T05 mql_threshold_reached", "T11 assigned"]
    # The submission's own id has no lead, and a retried submission merges once.
    assert (await http.get(f"/v1/leads/{again.lead_id}")).status_code == 404
    retried = await http.post("/v1/leads", json=again.model_dump(mode="json", exclude_none=True))
    assert retried.status_code == 200
    state = (await http.get(f"/v1/leads/{first.lead_id}")).json()
    assert state["merged_leads"] == [again.lead_id]
    assert [t["event"] for t in state["transitions"]].count("T01 duplicate_merged") == 1
