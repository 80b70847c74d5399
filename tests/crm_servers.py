"""Local stand-ins for HubSpot's CRM v3 API and Salesforce's REST API, speaking their
documented endpoints and payload shapes (the examples of developers.hubspot.com's
contacts/companies/associations pages and of Salesforce's REST API Developer Guide), so
the official clients (`hubspot-api-client`, `simple-salesforce`) talk to them unchanged.
Each records the writes it received. Served by uvicorn in the test's event loop;
Salesforce over TLS with a throwaway CA (simple-salesforce only speaks https)."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from tests.stack import free_port

STAMP = "2026-11-02T15:04:05.000Z"


@dataclass
class Received:
    at: float  # time.monotonic() on arrival
    method: str
    path: str
    body: dict | None
    status: int


@dataclass
class HubSpotState:
    contacts: dict[str, dict] = field(default_factory=dict)  # id -> properties
    companies: dict[str, dict] = field(default_factory=dict)
    contact_company: dict[str, str] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    rate_limit_next: dict[str, list[int]] = field(default_factory=dict)  # contact -> Retry-After of PATCHes refused


def hubspot_app(state: HubSpotState) -> FastAPI:
    app = FastAPI()

    def obj(object_id: str, properties: dict, associations: dict | None = None) -> dict:
        body = {"id": object_id, "properties": {**properties, "hs_object_id": object_id}, "createdAt": STAMP,
                "updatedAt": STAMP, "archived": False}
        if associations:
            body["associations"] = associations
        return body

    def not_found(kind: str, object_id: str) -> JSONResponse:
        return JSONResponse({"status": "error", "message": f"resource not found: {kind} {object_id}",
                             "correlationId": "c0ffee", "category": "OBJECT_NOT_FOUND"}, status_code=404)

    @app.get("/crm/v3/objects/contacts")
    async def page(limit: int = 10):
        results = [obj(i, p) for i, p in list(state.contacts.items())[:limit]]
        return {"results": results}

    @app.get("/crm/v3/objects/contacts/{contact_id}")
    async def contact(contact_id: str, request: Request):
        if contact_id not in state.contacts:
            return not_found("contact", contact_id)
        wanted = set(",".join(request.query_params.getlist("properties")).split(","))
        props = {k: v for k, v in state.contacts[contact_id].items() if k in wanted}
        associations = None
        if "companies" in request.query_params.get("associations", "") and contact_id in state.contact_company:
            associations = {"companies": {"results": [{"id": state.contact_company[contact_id],
                                                       "type": "contact_to_company"}]}}
        return obj(contact_id, props, associations)

    @app.get("/crm/v3/objects/companies/{company_id}")
    async def company(company_id: str):
        if company_id not in state.companies:
            return not_found("company", company_id)
        return obj(company_id, state.companies[company_id])

    @app.patch("/crm/v3/objects/contacts/{contact_id}")
    async def update(contact_id: str, request: Request):
        body = await request.json()
        if state.rate_limit_next.get(contact_id):
            seconds = state.rate_limit_next[contact_id].pop(0)
            state.received.append(Received(time.monotonic(), "PATCH", request.url.path, body, 429))
            return JSONResponse({"status": "error", "message": "You have reached your secondly limit.",
                                 "errorType": "RATE_LIMIT", "policyName": "SECONDLY"}, status_code=429,
                                headers={"Retry-After": str(seconds)})
        if contact_id not in state.contacts:
            return not_found("contact", contact_id)
        state.received.append(Received(time.monotonic(), "PATCH", request.url.path, body, 200))
        state.contacts[contact_id].update(body["properties"])
        return obj(contact_id, state.contacts[contact_id])

    return app


@dataclass
class SalesforceState:
    version: str = "59.0"
    leads: dict[str, dict] = field(default_factory=dict)  # Id -> fields (with SystemModstamp)
    received: list[Received] = field(default_factory=list)
    queries: list[str] = field(default_factory=list)


def salesforce_app(state: SalesforceState) -> FastAPI:
    app = FastAPI()
    base = f"/services/data/v{state.version}"
    limit_info = {"Sforce-Limit-Info": "api-usage=25/15000"}

    @app.get(base + "/limits/")
    async def limits():
        return JSONResponse({"DailyApiRequests": {"Max": 15000, "Remaining": 14975}}, headers=limit_info)

    @app.get(base + "/query/")
    async def query(q: str):
        state.queries.append(q)
        since = q.split("SystemModstamp > ", 1)[1].split(" ", 1)[0] if "SystemModstamp > " in q else ""
        records = sorted((r for r in state.leads.values() if r["SystemModstamp"] > since),
                         key=lambda r: r["SystemModstamp"])
        return JSONResponse({"totalSize": len(records), "done": True, "records": [
            {"attributes": {"type": "Lead", "url": f"{base}/sobjects/Lead/{r['Id']}"}, **r} for r in records]},
            headers=limit_info)

    @app.patch(base + "/sobjects/Lead/{lead_id}")
    async def update_lead(lead_id: str, request: Request):
        body = await request.json()
        if lead_id not in state.leads:
            state.received.append(Received(time.monotonic(), "PATCH", request.url.path, body, 404))
            return JSONResponse([{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}],
                                status_code=404)
        state.received.append(Received(time.monotonic(), "PATCH", request.url.path, body, 204))
        state.leads[lead_id].update(body)
        return Response(status_code=204, headers=limit_info)

    @app.patch(base + "/sobjects/Opportunity/Handoff_Lead_Id__c/{key}")
    async def upsert_opportunity(key: str, request: Request):
        body = await request.json()
        state.received.append(Received(time.monotonic(), "PATCH", request.url.path, body, 201))
        return JSONResponse({"id": "006000000000001AAA", "success": True, "errors": [], "created": True},
                            status_code=201, headers=limit_info)

    return app


def make_tls(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (its own CA): (certificate, key)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "salesforce stand-in")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=7))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "sf.crt", folder / "sf.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@asynccontextmanager
async def serve(app: FastAPI, tls: tuple[Path, Path] | None = None):
    """The app on a free loopback port; yields its base URL."""
    port = free_port()
    # A request still in flight at the end of a module (a connector's ingest whose state read
    # waits on a worker already stopped) must not hold its teardown for the read's 30 s.
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=2,
                            ssl_certfile=str(tls[0]) if tls else None, ssl_keyfile=str(tls[1]) if tls else None)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.05)
        yield f"{'https' if tls else 'http'}://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
