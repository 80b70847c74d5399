"""CRM connectors end to end on the real stack: Temporal dev server, embedded PostgreSQL,
the API and a worker, with local HubSpot and Salesforce stand-ins (tests/crm_servers.py)
that the official clients talk to. Every wait is for a condition, never a fixed time."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool
from standardwebhooks.webhooks import Webhook
from temporalio.exceptions import ApplicationError

from activities.crm.inbound import EARLIER_UNSETTLED, SAME_AS_PREVIOUS, SWEEP_AGE, ConnectorActivities
from activities.crm.types import CrmConfig, InboxOutcome
from api.app import create_app
from api.auth import Principal, TokenRecord, TokenStore, hash_token
from api.connector_payloads import salesforce_events, sign_hubspot
from handoff.worker import build_worker
from infra.settings import Settings
from readmodel.connector_inbox import record_events
from sla_policies.crm import DEFAULT_MAPPING, InboxEvent, InboxKey
from tests.crm_servers import HubSpotState, SalesforceState, hubspot_app, make_tls, salesforce_app, serve
from tests.stack import PRINCIPALS, auth, dev_server, poll
from workflows.connectors import ConnectorSweepWorkflow, CrmSyncWorkflow

SECRET = "hubspot-app-secret"
ORG = "00D000000000001AAA"
WEBHOOK_SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
CRM_USERS = {"sdr-1": {"hubspot": "701", "salesforce": "005000000000001AAA"},
             "sdr-2": {"hubspot": "702", "salesforce": "005000000000002AAA"}}
tag = uuid.uuid4().hex[:6]  # this run's contacts: the session database is shared


class Stack:
    def __init__(self, http, client, hubspot: HubSpotState, salesforce: SalesforceState, database_url: str,
                 pool: AsyncConnectionPool, connector: ConnectorActivities):
        self.http, self.client, self.hubspot, self.salesforce = http, client, hubspot, salesforce
        self.database_url, self.pool = database_url, pool
        self.connector = connector  # the worker's activities, called directly to stage a race step by step


def _tokens(database_url: str) -> TokenStore:
    """The test principals plus every rep of the shared roster, so whoever routing picks can act."""
    with psycopg.connect(database_url) as conn:
        reps = conn.execute("SELECT rep_id, role FROM reps WHERE role IN ('sdr', 'ae')").fetchall()
    principals = {p.id: p for p in PRINCIPALS} | {r: Principal(id=r, role=role) for r, role in reps}
    return TokenStore([TokenRecord(sha256=hash_token(f"{p.id}-token"), principal=p) for p in principals.values()])


@pytest.fixture(scope="module")
async def stack(postgres_url, tmp_path_factory):
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        for rep, users in CRM_USERS.items():
            conn.execute(
                "INSERT INTO reps (rep_id, name, role, manager_id, territories, capacity, crm_users)"
                " VALUES (%s, %s, 'sdr', 'sdrm-1', '{US,CA}', 1000, %s) ON CONFLICT (rep_id) DO UPDATE"
                " SET crm_users = EXCLUDED.crm_users", (rep, rep.upper(), json.dumps(users)))
        for rep, role in (("ae-1", "ae"), ("ae-2", "ae")):
            conn.execute("INSERT INTO reps (rep_id, name, role, manager_id, territories, capacity) VALUES"
                         " (%s, %s, %s, 'aem-1', '{US,CA}', 1000) ON CONFLICT (rep_id) DO NOTHING",
                         (rep, rep.upper(), role))
        # Other modules' reps get CRM users too, so the owner written back is always mapped.
        conn.execute("UPDATE reps SET crm_users = jsonb_build_object('hubspot', 'hs-' || rep_id, 'salesforce',"
                     " 'sf-' || rep_id) WHERE crm_users = '{}'")
    hubspot, salesforce = HubSpotState(), SalesforceState()
    tls = make_tls(tmp_path_factory.mktemp("tls"))
    async with dev_server() as env, serve(hubspot_app(hubspot)) as hubspot_url, \
            serve(salesforce_app(salesforce), tls) as salesforce_url:
        settings = Settings(TEMPORAL_ADDRESS="unused", DATABASE_URL=postgres_url, HANDOFF_HUBSPOT_APP_SECRET=SECRET,
                            HANDOFF_SALESFORCE_ORG_ID=ORG, HANDOFF_WEBHOOK_SECRETS={"forms": WEBHOOK_SECRET})
        app = create_app(settings, temporal=env.client, tokens=_tokens(postgres_url))
        async with serve(app) as api_url:
            crm = CrmConfig(api_url=api_url, api_token="crm-token", hubspot_token="pat-na1-test",
                            hubspot_api_url=hubspot_url, salesforce_instance_url=salesforce_url,
                            salesforce_token="00D!session", salesforce_ca_bundle=str(tls[0]))
            pool = AsyncConnectionPool(postgres_url, min_size=1, max_size=4, open=False)
            await pool.open()
            try:
                async with build_worker(env.client, "handoff", pool, crm=crm), \
                        httpx.AsyncClient(base_url=api_url, timeout=30, headers=auth("crm")) as http:
                    yield Stack(http, env.client, hubspot, salesforce, postgres_url, pool,
                                ConnectorActivities(pool, crm))
            finally:
                await pool.close()


# ------------------------------------------------------------------ helpers
def add_contact(hubspot: HubSpotState, contact_id: str, form: str | None, email: bool = True) -> None:
    props = {"firstname": "Ada", "lastname": f"L{contact_id}", "jobtitle": "VP Sales", "phone": "+1 555 0100",
             "hs_country_region_code": "US"}
    if email:
        props["email"] = f"ada.{contact_id}@hs-{tag}-{contact_id}.example.com"
    if form:
        props |= {"recent_conversion_event_name": form, "num_conversion_events": "1"}
    hubspot.contacts[contact_id] = props
    hubspot.companies[f"9{contact_id}"] = {"name": f"Acme {contact_id}", "domain": f"hs-{tag}-{contact_id}.example.com",
                                           "numberofemployees": "300", "industry": "software", "hs_country_code": "US"}
    hubspot.contact_company[contact_id] = f"9{contact_id}"


def convert(hubspot: HubSpotState, contact_id: str, form: str) -> list[tuple[str, str]]:
    """The contact fills in `form` (again, or another one): HubSpot sets its last form and
    counts the conversion; returns each watched property's change (property, value)."""
    props = hubspot.contacts[contact_id]
    count = str(int(props.get("num_conversion_events", "0")) + 1)
    props |= {"recent_conversion_event_name": form, "num_conversion_events": count}
    return [(p, props[p]) for p in DEFAULT_MAPPING.hubspot.watched_properties]


def cid(n: int) -> str:
    return f"{int(tag, 16) % 100000}{n:03d}"


def event(contact_id: str, kind: str = "contact.creation", prop: str | None = None, value: str | None = None) -> dict:
    # The shape of HubSpot's documented webhook payload (one element of the batched array).
    e = {"eventId": uuid.uuid4().int % 10**10, "subscriptionId": 25, "portalId": 33, "appId": 1160452,
         "occurredAt": int(time.time() * 1000), "subscriptionType": kind, "attemptNumber": 0,
         "objectId": int(contact_id), "changeSource": "CRM"}
    if prop:
        e |= {"propertyName": prop, "propertyValue": value}
    return e


async def post_hubspot(http, events: list[dict] | bytes, *, age_ms: int = 0, secret: str = SECRET):
    body = events if isinstance(events, bytes) else json.dumps(events).encode()
    ts = str(int(time.time() * 1000) - age_ms)
    uri = f"{http.base_url}/v1/connectors/hubspot/webhook".replace("//v1", "/v1")
    headers = {"content-type": "application/json", "X-HubSpot-Request-Timestamp": ts,
               "X-HubSpot-Signature-v3": sign_hubspot(secret, "POST", uri, body, ts)}
    return await http.post("/v1/connectors/hubspot/webhook", content=body, headers=headers)


async def lead_when(http, lead_id: str, predicate, timeout: float = 60) -> dict:
    async def fetch():
        r = await http.get(f"/v1/leads/{lead_id}")
        return r.json() if r.status_code == 200 else {"status": r.status_code}

    return await poll(fetch, lambda s: "stage" in s and predicate(s), timeout=timeout)


async def inbox(http, **params) -> list[dict]:
    return (await http.get("/v1/connectors/events", params={"limit": 1000, **params}, headers=auth("ops"))).json()


async def inbox_row(http, source: str, event_id) -> dict | None:
    return next((r for r in await inbox(http, source=source) if r["event_id"] == str(event_id)), None)


async def record_rows(http, source: str, object_id: str) -> list[dict]:
    """The inbox rows of one CRM record."""
    return [r for r in await inbox(http, source=source) if r["object_id"] == object_id]


def all_done(rows: list[dict]) -> bool:
    return bool(rows) and all(r["status"] != "pending" for r in rows)


def leads_of(database_url: str, email: str) -> list[str]:
    with psycopg.connect(database_url) as conn:
        return [r[0] for r in conn.execute("SELECT lead_id FROM leads WHERE email = %s", (email,)).fetchall()]


def soap(notification_id: str, lead_id: str, org: str = ORG, **fields) -> bytes:
    # The envelope of Salesforce's documented Outbound Message (enterprise sObject namespace).
    values = {"Id": lead_id, "FirstName": "Grace", "LastName": "H",
              "Email": f"grace.{lead_id.lower()}@sf-{tag}.example.com", "Company": "Initech", "Title": "CTO",
              "Phone": "+1 555 0101", "CountryCode": "US", "NumberOfEmployees": "250",
              "LeadSource": "Demo Request", **fields}
    body = "".join(f"<sf:{k}>{v}</sf:{k}>" for k, v in values.items())
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"
  xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <soapenv:Body>
  <notifications xmlns="http://soap.sforce.com/2005/09/outbound">
   <OrganizationId>{org}</OrganizationId>
   <ActionId>04k000000000001AAA</ActionId>
   <SessionId xsi:nil="true"/>
   <EnterpriseUrl>https://example.my.salesforce.com/services/Soap/c/59.0/00D000000000001</EnterpriseUrl>
   <PartnerUrl>https://example.my.salesforce.com/services/Soap/u/59.0/00D000000000001</PartnerUrl>
   <Notification>
    <Id>{notification_id}</Id>
    <sObject xsi:type="sf:Lead" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">{body}
      <sf:Rating xsi:nil="true"/></sObject>
   </Notification>
  </notifications>
 </soapenv:Body>
</soapenv:Envelope>""".encode()


# ------------------------------------------------------------------ inbound
async def test_a_signed_hubspot_batch_becomes_routed_leads(stack):
    for n, form in ((1, "Demo request"), (2, "Contact sales")):
        add_contact(stack.hubspot, cid(n), form)
    batch = [event(cid(1)), event(cid(2)), event(cid(1), "contact.propertyChange", "firstname", "Ada")]
    answer = await post_hubspot(stack.http, batch)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"received": 3, "new": 3, "duplicates": 0}
    for n in (1, 2):
        state = await lead_when(stack.http, f"hubspot-{cid(n)}", lambda s: s["owner"] is not None)
        assert state["tier"] == 1 and state["intake"]["account"]["company"] == f"Acme {cid(n)}"
        assert state["intake"]["source"] == "hubspot"
    ignored = await inbox_row(stack.http, "hubspot", batch[2]["eventId"])
    assert ignored["status"] == "ignored" and "firstname" in ignored["reason"]


async def test_bad_signature_stale_timestamp_and_replay_get_their_answers(stack):
    add_contact(stack.hubspot, cid(5), "Pricing")
    batch = [event(cid(5))]
    forged = await post_hubspot(stack.http, batch, secret="not-the-secret")
    stale = await post_hubspot(stack.http, batch, age_ms=6 * 60 * 1000)
    for refused in (forged, stale):
        assert refused.status_code == 401 and refused.headers["content-type"] == "application/problem+json"
    assert "5 minutes" in stale.json()["detail"]
    assert await inbox_row(stack.http, "hubspot", batch[0]["eventId"]) is None  # nothing recorded
    malformed = await post_hubspot(stack.http, b'[{"eventId": "x", "subscriptionType": "contact.creation"}]')
    assert malformed.status_code == 400 and malformed.json()["errors"][0]["path"] == "[0].objectId"

    first = await post_hubspot(stack.http, batch)
    assert first.json() == {"received": 1, "new": 1, "duplicates": 0}
    state = await lead_when(stack.http, f"hubspot-{cid(5)}", lambda s: s["owner"] is not None)
    await poll(lambda: inbox_row(stack.http, "hubspot", batch[0]["eventId"]), lambda r: r["status"] != "pending")
    replayed = await post_hubspot(stack.http, batch)  # HubSpot's retry, or a replay with a fresh signature
    assert replayed.status_code == 200 and replayed.json() == {"received": 1, "new": 0, "duplicates": 1}
    row = await inbox_row(stack.http, "hubspot", batch[0]["eventId"])
    assert row["status"] == "ingested" and row["lead_id"] == f"hubspot-{cid(5)}" and row["attempts"] == 1
    assert leads_of(stack.database_url, stack.hubspot.contacts[cid(5)]["email"]) == [f"hubspot-{cid(5)}"]
    again = await lead_when(stack.http, f"hubspot-{cid(5)}", lambda s: True)
    assert again["merged_leads"] == state["merged_leads"] == []


async def test_a_property_change_requalifies_a_lead(stack):
    add_contact(stack.hubspot, cid(3), "Ebook")  # gated content: not enough intent for an SDR yet
    created = event(cid(3))
    await post_hubspot(stack.http, [created])
    lead_id = f"hubspot-{cid(3)}"
    state = await lead_when(stack.http, lead_id, lambda s: True)
    assert state["stage"] == "inquiry" and state["owner"] is None
    # Sent at once: the first event's row may still be pending and its lead not yet in the
    # read model the person match reads; the change is a later submission all the same,
    # and waits for that lead (activities/crm/inbound.py).
    convert(stack.hubspot, cid(3), "Demo request")
    change = event(cid(3), "contact.propertyChange", "recent_conversion_event_name", "Demo request")
    assert (await post_hubspot(stack.http, [change])).status_code == 200
    state = await lead_when(stack.http, lead_id, lambda s: s["owner"] is not None)
    assert state["tier"] == 1 and len(state["merged_leads"]) == 1
    events = [t["event"] for t in state["transitions"]]
    assert events.index("T01 duplicate_merged") < events.index("T05 mql_threshold_reached")
    row = await poll(lambda: inbox_row(stack.http, "hubspot", change["eventId"]), lambda r: r["status"] != "pending")
    assert row["status"] == "ingested" and row["lead_id"] == lead_id


# ------------------------------------------------------------------ a record's later events, step by step
# The connector's activity is called directly, one step at a time, so the order the race
# needs is the order of the calls (the worker's own workflows never see these events).
def hubspot_inbox(contact_id: str, *change: str) -> InboxEvent:
    """An event as the webhook records it; `change` = (property, value) for a propertyChange."""
    raw = event(contact_id, "contact.propertyChange", *change) if change else event(contact_id)
    return InboxEvent(source="hubspot", event_id=str(raw["eventId"]), kind=raw["subscriptionType"],
                      object_id=contact_id, payload=raw)


def salesforce_inbox(sf_id: str, **fields) -> InboxEvent:
    return salesforce_events(soap(f"04l{uuid.uuid4().hex[:15]}", sf_id, **fields), ORG)[0]


def submission_id(e: InboxEvent) -> str:
    """A later event's own lead id (`<source>-<object>-<sha16 of its event id>`)."""
    return f"{e.source}-{e.object_id}-{hashlib.sha256(e.event_id.encode()).hexdigest()[:16]}"


async def attempt(stack, e: InboxEvent) -> InboxOutcome | None:
    """One attempt of the activity; None when it waits for an earlier event (Temporal retries it)."""
    try:
        return await stack.connector.process_inbox_event(InboxKey(source=e.source, event_id=e.event_id))
    except ApplicationError as exc:
        if exc.type != EARLIER_UNSETTLED:
            raise
        return None


async def in_read_model(stack, lead_id: str) -> bool:
    async with stack.pool.connection() as conn:
        return await (await conn.execute("SELECT 1 FROM leads WHERE lead_id = %s", (lead_id,))).fetchone() is not None


async def ingested_but_pending(stack, first: InboxEvent) -> str:
    """The first event's ingest without the step that then marks its row: its lead runs,
    and is in the read model, while the row still says pending (the race's moment). The
    test finishes the row (`attempt`): one left pending would be the sweep test's."""
    await record_events(stack.pool, [first])
    lead_id = (await stack.connector._resolve_and_ingest(first)).lead_id
    assert lead_id == f"{first.source}-{first.object_id}"
    await poll(lambda: in_read_model(stack, lead_id), bool)
    assert (await inbox_row(stack.http, first.source, first.event_id))["status"] == "pending"
    return lead_id


async def converted_while_pending(stack, contact_id: str) -> tuple[InboxEvent, InboxEvent, str]:
    """A contact's creation ingested (its inbox row still pending), then converted on a
    demo request: the creation event, the change event (recorded) and the lead."""
    add_contact(stack.hubspot, contact_id, "Ebook")
    created = hubspot_inbox(contact_id)
    lead_id = await ingested_but_pending(stack, created)
    convert(stack.hubspot, contact_id, "Demo request")
    change = hubspot_inbox(contact_id, "recent_conversion_event_name", "Demo request")
    await record_events(stack.pool, [change])
    return created, change, lead_id


def merges(state: dict) -> int:
    return [t["event"] for t in state["transitions"]].count("T01 duplicate_merged")


async def test_a_change_while_the_first_event_is_still_pending_requalifies_the_lead(stack):
    created, change, lead_id = await converted_while_pending(stack, cid(6))
    outcome = await attempt(stack, change)  # the person's lead is in the read model: no wait
    assert outcome is not None and (outcome.status, outcome.lead_id) == ("ingested", lead_id)
    state = await lead_when(stack.http, lead_id, lambda s: s["owner"] is not None)
    assert state["tier"] == 1 and state["merged_leads"] == [submission_id(change)]
    finished = await attempt(stack, created)
    assert finished is not None and (finished.status, finished.lead_id) == ("ingested", lead_id)


async def test_a_retried_first_event_keeps_its_lead_id_and_changes_nothing(stack):
    created, change, lead_id = await converted_while_pending(stack, cid(7))
    assert await attempt(stack, change) is not None  # merged, and the record linked to the lead
    for _ in range(2):  # the first event's retry, then the sweep running it once more
        retried = await attempt(stack, created)
        assert retried is not None and (retried.status, retried.lead_id) == ("ingested", lead_id)
        state = await lead_when(stack.http, lead_id, lambda s: s["merged_leads"] != [])
        assert state["merged_leads"] == [submission_id(change)] and merges(state) == 1, state["merged_leads"]
    rows = await record_rows(stack.http, "hubspot", cid(7))
    assert {(r["status"], r["lead_id"]) for r in rows} == {("ingested", lead_id)} and len(rows) == 2


async def test_a_later_event_processed_first_waits_for_the_earlier_events_lead(stack):
    add_contact(stack.hubspot, cid(8), "Ebook")
    created = hubspot_inbox(cid(8))
    change = hubspot_inbox(cid(8), "recent_conversion_event_name", "Demo request")
    for e in (created, change):  # two deliveries: received in this order
        await record_events(stack.pool, [e])
    # Started now, it could race the first event's ingest past R7 (the read model shows a
    # new lead a moment after the ingest answers) and leave the person two leads; nor can
    # it tell yet whether it submits anything the first event does not.
    assert await attempt(stack, change) is None
    lead_id = f"hubspot-{cid(8)}"
    for nothing in (lead_id, submission_id(change)):
        assert (await stack.http.get(f"/v1/leads/{nothing}")).status_code == 404
    first = await attempt(stack, created)
    assert first is not None and first.lead_id == lead_id
    # The first event fetched the contact before the conversion its change reports (had
    # both fetches seen it, the change would repeat the first event's submission).
    convert(stack.hubspot, cid(8), "Demo request")
    later = await poll(lambda: attempt(stack, change), lambda o: o is not None)  # as Temporal retries it
    assert later is not None and (later.status, later.lead_id) == ("ingested", lead_id)
    state = await lead_when(stack.http, lead_id, lambda s: s["merged_leads"] != [])
    assert state["merged_leads"] == [submission_id(change)] and state["owner"] is not None
    assert leads_of(stack.database_url, stack.hubspot.contacts[cid(8)]["email"]) == [lead_id]


async def test_a_salesforce_update_while_the_first_message_is_pending_is_compared_with_it(stack):
    sf_id = f"00Q{tag}00003AAA"
    stack.salesforce.leads[sf_id] = {"Id": sf_id, "Status": "Open - Not Contacted",
                                     "SystemModstamp": "2000-01-01T00:00:00.000+0000"}
    first = salesforce_inbox(sf_id)
    lead_id = await ingested_but_pending(stack, first)
    retitled = salesforce_inbox(sf_id, Title="CEO")  # an unwatched field: not a submission
    resourced = salesforce_inbox(sf_id, Title="CEO", LeadSource="Free trial")  # the form changed: one
    outcomes = []
    for e in (retitled, resourced):
        await record_events(stack.pool, [e])
        outcomes.append(await attempt(stack, e))
    assert [(o.status, o.lead_id) for o in outcomes if o] == [("ignored", None), ("ingested", lead_id)]
    state = await lead_when(stack.http, lead_id, lambda s: s["merged_leads"] != [])
    assert state["merged_leads"] == [submission_id(resourced)]
    finished = await attempt(stack, first)
    assert finished is not None and (finished.status, finished.lead_id) == ("ingested", lead_id)


# ------------------------------------------------------------------ one form fill, several events
def form_fill(contact_id: str, changes: list[tuple[str, str]], created: bool = False) -> list[dict]:
    """The webhook events of one form fill: a creation for a new contact, and a change of
    each watched property (`convert`)."""
    return ([event(contact_id)] if created else []) + [
        event(contact_id, "contact.propertyChange", prop, value) for prop, value in changes]


def watched_values(hubspot: HubSpotState, contact_id: str) -> list[tuple[str, str]]:
    """A new contact's watched properties, as the changes its creating form fill fires."""
    return [(p, hubspot.contacts[contact_id][p]) for p in DEFAULT_MAPPING.hubspot.watched_properties]


def form_signals(state: dict) -> list[str]:
    """The scoring signals the lead's later submissions added (a merged one adds its form's)."""
    return [e["type"] for e in state["intake"]["events"]]


def outcomes(rows: list[dict], events: list[dict] | None = None) -> list[tuple]:
    """(status, lead id, reason) of the rows (of `events` only, if given), sorted."""
    ids = None if events is None else {str(e["eventId"]) for e in events}
    return sorted((r["status"], r["lead_id"], r["reason"]) for r in rows if ids is None or r["event_id"] in ids)


async def one_submission(stack, contact_id: str, events: int, signal: str) -> dict:
    """The record's `events` rows, once done, are one submission: one ingested as the
    record's lead, the others ignored as repeats of it, and its form's `signal` scored
    once; returns the lead once routed."""
    lead_id = f"hubspot-{contact_id}"
    rows = await poll(lambda: record_rows(stack.http, "hubspot", contact_id),
                      lambda r: len(r) == events and all_done(r))
    assert outcomes(rows) == [("ignored", None, SAME_AS_PREVIOUS)] * (events - 1) + [("ingested", lead_id, None)]
    state = await lead_when(stack.http, lead_id, lambda s: s["owner"] is not None)
    assert state["merged_leads"] == [] and merges(state) == 0 and form_signals(state) == []
    assert [line["signal"] for line in state["score_lines"]].count(signal) == 1
    assert leads_of(stack.database_url, stack.hubspot.contacts[contact_id]["email"]) == [lead_id]
    return state


async def test_one_form_fill_in_one_delivery_is_one_submission(stack):
    """A form fill that creates a contact fires a creation and a change of each watched
    property at once; processed concurrently, each fetches the same contact: one lead,
    its form scored once, the owner not told the person submitted again."""
    add_contact(stack.hubspot, cid(9), "Demo request")
    batch = form_fill(cid(9), watched_values(stack.hubspot, cid(9)), created=True)
    assert (await post_hubspot(stack.http, batch)).status_code == 200
    state = await one_submission(stack, cid(9), len(batch), "demo_request")
    assert state["tier"] == 1


async def test_one_form_fill_in_separate_deliveries_is_one_submission(stack):
    add_contact(stack.hubspot, cid(10), "Demo request")
    fill = form_fill(cid(10), watched_values(stack.hubspot, cid(10)), created=True)
    for e in fill:  # HubSpot may batch a fill's events or not: one delivery each here
        assert (await post_hubspot(stack.http, [e])).status_code == 200
    await one_submission(stack, cid(10), len(fill), "demo_request")


async def test_a_later_conversion_is_one_submission_that_requalifies(stack):
    add_contact(stack.hubspot, cid(11), "Ebook")  # gated content: not enough intent for an SDR yet
    fill = form_fill(cid(11), watched_values(stack.hubspot, cid(11)), created=True)
    assert (await post_hubspot(stack.http, fill)).status_code == 200
    lead_id = f"hubspot-{cid(11)}"
    rows = await poll(lambda: record_rows(stack.http, "hubspot", cid(11)), lambda r: len(r) == 3 and all_done(r))
    assert outcomes(rows) == [("ignored", None, SAME_AS_PREVIOUS)] * 2 + [("ingested", lead_id, None)]
    state = await lead_when(stack.http, lead_id, lambda s: True)
    assert state["stage"] == "inquiry" and state["owner"] is None and merges(state) == 0
    later = form_fill(cid(11), convert(stack.hubspot, cid(11), "Demo request"))
    assert (await post_hubspot(stack.http, later)).status_code == 200
    rows = await poll(lambda: record_rows(stack.http, "hubspot", cid(11)), lambda r: len(r) == 5 and all_done(r))
    assert outcomes(rows, later) == [("ignored", None, SAME_AS_PREVIOUS), ("ingested", lead_id, None)]
    state = await lead_when(stack.http, lead_id, lambda s: s["owner"] is not None)
    assert state["tier"] == 1 and merges(state) == 1 and form_signals(state) == ["demo_request"]
    # The same form once more: only the conversion count changed, and it is a submission too.
    again = form_fill(cid(11), convert(stack.hubspot, cid(11), "Demo request"))
    assert (await post_hubspot(stack.http, again)).status_code == 200
    rows = await poll(lambda: record_rows(stack.http, "hubspot", cid(11)), lambda r: len(r) == 7 and all_done(r))
    assert outcomes(rows, again) == [("ignored", None, SAME_AS_PREVIOUS), ("ingested", lead_id, None)]
    state = await lead_when(stack.http, lead_id, lambda s: len(s["merged_leads"]) == 2)
    assert merges(state) == 2 and form_signals(state) == ["demo_request"] * 2


async def test_a_retried_or_swept_event_of_a_form_fill_decides_as_its_first_attempt(stack):
    """Each attempt below stops after deciding, before its row is marked (a crash); the
    contact changes before the retries, which must still decide as the first attempts did."""
    add_contact(stack.hubspot, cid(12), "Ebook")
    created = hubspot_inbox(cid(12))
    await record_events(stack.pool, [created])
    done = await attempt(stack, created)
    assert done is not None and done.lead_id is not None
    lead_id = done.lead_id
    await poll(lambda: in_read_model(stack, lead_id), bool)  # the R7 merge below finds it at once
    changed, counted = (hubspot_inbox(cid(12), *c) for c in convert(stack.hubspot, cid(12), "Demo request"))
    for e in (changed, counted):  # two deliveries: received in this order
        await record_events(stack.pool, [e])
    first = [await stack.connector._resolve_and_ingest(e) for e in (changed, counted)]
    assert [(o.status, o.lead_id) for o in first] == [("ingested", lead_id), ("ignored", None)]
    convert(stack.hubspot, cid(12), "Pricing")  # a later fill, its own events not here yet
    retried = await attempt(stack, counted)  # Temporal's retry, the change it repeats still pending
    assert retried is not None and (retried.status, retried.reason) == ("ignored", SAME_AS_PREVIOUS)
    async with stack.pool.connection() as conn:  # left for the sweep, as if its workflow never started
        await conn.execute("UPDATE connector_inbox SET received_at = received_at - %s WHERE source = 'hubspot'"
                           " AND object_id = %s", (SWEEP_AGE * 2, cid(12)))
    swept = [o for o in await _sweep(stack, False) if o.key.event_id == changed.event_id]
    assert [(o.status, o.lead_id) for o in swept] == [("ingested", lead_id)]
    state = await lead_when(stack.http, lead_id, lambda s: s["owner"] is not None)
    assert state["merged_leads"] == [submission_id(changed)] and form_signals(state) == ["demo_request"]


async def test_an_unmappable_record_is_recorded_for_revops_and_answered_2xx(stack):
    add_contact(stack.hubspot, cid(4), "Demo request", email=False)
    batch = [event(cid(4)), event(cid(999))]  # no email; a contact HubSpot does not have
    assert (await post_hubspot(stack.http, batch)).status_code == 200
    rows = await poll(lambda: inbox(stack.http, status="unmappable", source="hubspot"),
                      lambda rows: {str(e["eventId"]) for e in batch} <= {r["event_id"] for r in rows})
    reasons = {r["event_id"]: r["reason"] for r in rows}
    assert "no 'email'" in reasons[str(batch[0]["eventId"])]
    assert "HubSpot has no contact" in reasons[str(batch[1]["eventId"])]
    assert (await stack.http.get(f"/v1/leads/hubspot-{cid(4)}")).status_code == 404
    listed = await stack.http.get("/v1/connectors/events", headers=auth("sdr-1"))
    assert listed.status_code == 403


async def test_a_salesforce_outbound_message_is_acknowledged_and_ingested(stack):
    sf_id = f"00Q{tag}00001AAA"
    stack.salesforce.leads[sf_id] = {"Id": sf_id, "Status": "Open - Not Contacted",
                                     "SystemModstamp": "2000-01-01T00:00:00.000+0000"}
    wrong_org = await stack.http.post("/v1/connectors/salesforce/outbound-message",
                                      content=soap("04l1", sf_id, org="00D000000000999AAA"),
                                      headers={"content-type": "text/xml"})
    assert wrong_org.status_code == 401
    malformed = await stack.http.post("/v1/connectors/salesforce/outbound-message", content=b"<soapenv:Envelope",
                                      headers={"content-type": "text/xml"})
    assert malformed.status_code == 400 and malformed.headers["content-type"] == "application/problem+json"
    notification = f"04l{tag}00001AAA"
    for _ in range(2):  # Salesforce redelivers until it reads the ack: the second is a duplicate
        ack = await stack.http.post("/v1/connectors/salesforce/outbound-message", content=soap(notification, sf_id),
                                    headers={"content-type": "text/xml"})
        assert ack.status_code == 200 and ack.headers["content-type"].startswith("text/xml")
        assert b"<Ack>true</Ack>" in ack.content
    state = await lead_when(stack.http, f"salesforce-{sf_id}", lambda s: s["owner"] is not None)
    assert state["intake"]["lead_type"] == "demo_request" and state["intake"]["account"]["company"] == "Initech"
    # The lead can be routed before its inbox row is marked (two steps of the connector's
    # workflow): wait for the row to leave `pending`, as the HubSpot test does.
    rows = await poll(lambda: record_rows(stack.http, "salesforce", sf_id), all_done)
    assert [(r["event_id"], r["status"]) for r in rows] == [(notification, "ingested")]


async def test_a_standard_webhook_is_verified_deduplicated_and_ingested(stack):
    body = json.dumps({"type": "lead.submitted", "timestamp": datetime.now(UTC).isoformat(),
                       "data": {"email": f"lin@wh-{tag}.example.com", "first_name": "Lin", "last_name": "W",
                                "company": "Hooli",
                                "phone": "+1 555 0103", "title": "VP Sales",
                                "country": "US", "employees": 500, "lead_type": "contact_sales"}})
    msg_id = f"msg_{tag}"

    def headers(at: datetime, secret: str = WEBHOOK_SECRET) -> dict[str, str]:
        return {"webhook-id": msg_id, "webhook-timestamp": str(int(at.timestamp())),
                "webhook-signature": Webhook(secret).sign(msg_id, at, body), "content-type": "application/json"}

    now = datetime.now(UTC)
    url = "/v1/connectors/webhooks/forms"
    forged = await stack.http.post(url, content=body, headers=headers(now, "whsec_" + "QUJDREVGR0hJSktMTU5PUA=="))
    stale = await stack.http.post(url, content=body, headers=headers(now - timedelta(minutes=6)))
    assert forged.status_code == stale.status_code == 401
    assert (await stack.http.post("/v1/connectors/webhooks/unknown", content=body, headers=headers(now))
            ).status_code == 404
    assert (await stack.http.post(url, content=body, headers=headers(now))).json()["new"] == 1
    assert (await stack.http.post(url, content=body, headers=headers(now))).json()["duplicates"] == 1
    state = await lead_when(stack.http, f"webhook-forms-{msg_id}", lambda s: s["owner"] is not None)
    assert state["intake"]["lead_type"] == "contact_sales" and state["intake"]["source"] == "webhook"


# ------------------------------------------------------------------ outbound, polling, sweep
async def _sync(stack) -> dict:
    return await stack.client.execute_workflow(CrmSyncWorkflow.run, id=f"crm-sync-test-{uuid.uuid4().hex[:8]}",
                                               task_queue="handoff")


async def _sweep(stack, poll_salesforce: bool) -> list:
    return await stack.client.execute_workflow(ConnectorSweepWorkflow.run, poll_salesforce,
                                               id=f"sweep-test-{uuid.uuid4().hex[:8]}", task_queue="handoff")


async def test_a_disposition_reaches_the_crm_and_a_429_waits_for_its_retry_after(stack):
    lead_id = f"hubspot-{cid(1)}"
    state = await lead_when(stack.http, lead_id, lambda s: s["owner"] is not None)
    owner = state["owner"]
    touched = await stack.http.post(f"/v1/leads/{lead_id}/touches", json={"channel": "phone", "outcome": "connected"},
                                    headers=auth(owner))
    assert touched.status_code == 200, touched.text
    assert (await stack.http.post(f"/v1/leads/{lead_id}/accept", json={}, headers=auth(owner))).status_code == 200
    # The write-back reads the read model: wait until it shows the SAL.
    await poll(lambda: stack.http.get("/v1/leads", params={"stage": "sal", "limit": 500}),
               lambda r: lead_id in [row["lead_id"] for row in r.json()["items"]])
    path = f"/crm/v3/objects/contacts/{cid(1)}"
    stack.hubspot.rate_limit_next[cid(1)] = [2]
    await _sync(stack)
    writes = [r for r in stack.hubspot.received if r.path == path]
    refused = next(r for r in writes if r.status == 429)
    accepted = [r for r in writes if r.status == 200 and r.body["properties"].get("hs_lead_status") == "IN_PROGRESS"]
    assert accepted, writes
    with psycopg.connect(stack.database_url) as conn:
        owner_user = conn.execute("SELECT crm_users->>'hubspot' FROM reps WHERE rep_id = %s", (owner,)).fetchone()[0]
    assert accepted[-1].body["properties"] == {"lifecyclestage": "marketingqualifiedlead",
                                               "hs_lead_status": "IN_PROGRESS", "hubspot_owner_id": owner_user}
    retried = next(r for r in writes if r.at > refused.at)
    assert retried.at - refused.at >= 1.9, "the retry came before Retry-After"
    with psycopg.connect(stack.database_url) as conn:
        status = conn.execute("SELECT status, reason FROM crm_sync WHERE lead_id = %s AND crm = 'hubspot'",
                              (lead_id,)).fetchone()
    assert status == ("done", None)
    metrics = (await stack.http.get("/metrics")).text
    assert 'handoff_crm_sync_leads{crm="hubspot",status="done"}' in metrics
    assert 'handoff_connector_events{source="hubspot",status="ingested"}' in metrics
    # Nothing changed since: a second run writes nothing (idempotent, no echo).
    before = len(stack.hubspot.received)
    await _sync(stack)
    assert len([r for r in stack.hubspot.received[before:] if r.path == path]) == 0


async def test_salesforce_leads_get_status_and_owner_written_back(stack):
    sf_id = f"00Q{tag}00001AAA"
    state = await lead_when(stack.http, f"salesforce-{sf_id}", lambda s: s["owner"] is not None)
    await poll(lambda: _sync(stack), lambda _: any(
        r.path.endswith(f"/sobjects/Lead/{sf_id}") and r.status == 204 for r in stack.salesforce.received))
    write = [r for r in stack.salesforce.received if r.path.endswith(f"/sobjects/Lead/{sf_id}")][-1]
    with psycopg.connect(stack.database_url) as conn:
        owner_user = conn.execute("SELECT crm_users->>'salesforce' FROM reps WHERE rep_id = %s",
                                  (state["owner"],)).fetchone()[0]
    assert write.body == {"Status": "Open - Not Contacted", "OwnerId": owner_user}


async def test_salesforce_polling_ingests_changed_leads_once(stack):
    sf_id = f"00Q{tag}00002AAA"
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    stack.salesforce.leads[sf_id] = {
        "Id": sf_id, "FirstName": "Kim", "LastName": "P", "Title": "VP Sales", "Email": f"kim@sfp-{tag}.example.com",
        "Company": "Umbrella",
        "CountryCode": "US", "Phone": "+1 555 0102", "NumberOfEmployees": 400, "LeadSource": "Free trial",
        "Status": "Open - Not Contacted", "SystemModstamp": stamp}
    first = await _sweep(stack, True)
    assert [o.lead_id for o in first if o.status == "ingested"] == [f"salesforce-{sf_id}"]
    state = await lead_when(stack.http, f"salesforce-{sf_id}", lambda s: s["owner"] is not None)
    assert state["intake"]["lead_type"] == "free_trial"
    again = await _sweep(stack, True)
    assert [o for o in again if o.key.source == "salesforce"] == []  # the watermark moved past it
    assert "SystemModstamp >" in stack.salesforce.queries[-1]


async def test_an_event_recorded_while_temporal_was_unreachable_is_processed_by_the_sweep(stack):
    """The API records before it answers 2xx; when the workflow start then fails, the row
    stays pending and the sweep schedule's run processes it."""
    payload = {"type": "lead.submitted", "data": {"email": f"sam@sweep-{tag}.example.com", "company": "Globex",
                                                  "first_name": "Sam",
                                                  "last_name": "S",
                                                  "phone": "+1 555 0104", "title": "CEO", "employees": 300,
                                                  "country": "US", "lead_type": "demo_request"}}
    with psycopg.connect(stack.database_url, autocommit=True) as conn:
        conn.execute("INSERT INTO connector_inbox (source, event_id, kind, payload, received_at) VALUES"
                     " ('webhook:forms', %s, 'lead.submitted', %s, now() - interval '5 minutes')",
                     (f"stranded-{tag}", json.dumps(payload)))
    outcomes = await _sweep(stack, False)
    assert any(o.key.event_id == f"stranded-{tag}" and o.status == "ingested" for o in outcomes)
    await lead_when(stack.http, f"webhook-forms-stranded-{tag}", lambda s: s["owner"] is not None)
