"""CRM connector endpoints (issue 13). Each delivery is authenticated by the vendor's
signature (not a bearer token), checked, and recorded in the durable inbox before it is
answered 2xx; the work continues in Temporal (`workflows/connectors.py`). If PostgreSQL
cannot record it, the answer is 503 and the vendor retries; if Temporal cannot be reached
to start the work, the answer is still 2xx (the event is recorded) and the sweep
schedule starts it later. RevOps reads the inbox (unmappable records) and the sync state."""

from __future__ import annotations

import hashlib
import logging
from typing import Annotated, Literal

import psycopg
from fastapi import APIRouter, Path, Query, Request, Response
from psycopg_pool import PoolTimeout
from pydantic import BaseModel

from api import connector_payloads as payloads
from api.auth import PrincipalDep, require
from api.deps import OptionalPoolDep, PoolDep, SettingsDep, TemporalDep
from api.problems import ProblemError
from infra.connector_mapping import load_mapping
from readmodel.connector_inbox import list_events, pending_keys, record_events
from sla_policies.crm import InboxEvent, InboxKey
from workflows.connectors import ConnectorInboxWorkflow

router = APIRouter(prefix="/v1/connectors", tags=["connectors"])
log = logging.getLogger("handoff.connectors")


class Received(BaseModel):
    received: int
    new: int  # recorded now (pending or ignored)
    duplicates: int  # already recorded: a redelivery or a replay, not processed again


def _not_configured(what: str) -> ProblemError:
    # A connector without its secret does not exist here (a 404, like an unknown webhook source).
    return ProblemError(404, "Not found", f"this connector is not configured: {what} is not set")


async def _record(events: list[InboxEvent], pool, temporal, task_queue: str) -> Received:
    if pool is None:
        raise ProblemError(503, "Service unavailable", "the read model (PostgreSQL) is not configured")
    try:
        fresh = await record_events(pool, events)
    except (psycopg.Error, PoolTimeout):
        # Not recorded, so not acknowledged: the vendor retries the delivery.
        raise ProblemError(503, "Service unavailable", "the connector inbox (PostgreSQL) cannot be written; "
                           "the delivery is safe to retry", headers={"Retry-After": "5"}) from None
    if keys := pending_keys(fresh):
        await _start(keys, temporal, task_queue)
    return Received(received=len(events), new=len(fresh), duplicates=len(events) - len(fresh))


async def _start(keys: list[InboxKey], temporal, task_queue: str) -> None:
    digest = hashlib.sha256("\n".join(f"{k.source}/{k.event_id}" for k in keys).encode()).hexdigest()[:24]
    try:
        await temporal.start_workflow(ConnectorInboxWorkflow.run, keys, id=f"connector-inbox-{digest}",
                                      task_queue=task_queue)
    except Exception as exc:  # noqa: BLE001 - recorded already: the sweep starts what could not be started
        log.warning("connector events recorded, their workflow not started (the sweep will): %s", exc)


@router.post("/hubspot/webhook", response_model=Received)
async def hubspot_webhook(request: Request, temporal: TemporalDep, settings: SettingsDep,
                          pool: OptionalPoolDep) -> Received:
    """HubSpot webhook subscriptions (v3 signature): `contact.creation` and
    `contact.propertyChange` of the watched properties become leads; other events are
    recorded as ignored. Deduplicated on `eventId`."""
    if not settings.hubspot_app_secret:
        raise _not_configured("HANDOFF_HUBSPOT_APP_SECRET")
    body = await request.body()
    uri = str(request.url)
    if settings.public_url:  # behind a proxy: the address HubSpot called
        query = f"?{request.url.query}" if request.url.query else ""
        uri = settings.public_url.rstrip("/") + request.url.path + query
    payloads.verify_hubspot(settings.hubspot_app_secret, request.method, uri, body,
                            request.headers.get("X-HubSpot-Signature-v3"),
                            request.headers.get("X-HubSpot-Request-Timestamp"))
    events = payloads.hubspot_events(body, load_mapping(settings).hubspot)
    return await _record(events, pool, temporal, settings.task_queue)


@router.post("/salesforce/outbound-message", response_class=Response,
             responses={200: {"content": {"text/xml": {}}, "description": "the SOAP acknowledgement"}})
async def salesforce_outbound_message(request: Request, temporal: TemporalDep, settings: SettingsDep,
                                      pool: OptionalPoolDep) -> Response:
    """A Salesforce Outbound Message (SOAP, sent by a Flow on Lead create/update) from the
    configured organization: recorded, then acknowledged (`<Ack>true</Ack>`)."""
    if not settings.salesforce_org_id:
        raise _not_configured("HANDOFF_SALESFORCE_ORG_ID")
    events = payloads.salesforce_events(await request.body(), settings.salesforce_org_id)
    await _record(events, pool, temporal, settings.task_queue)
    return Response(payloads.SOAP_ACK, media_type="text/xml")


@router.post("/webhooks/{source}", response_model=Received)
async def standard_webhook(source: Annotated[str, Path(pattern=r"^[a-z0-9_-]{1,40}$")], request: Request,
                           temporal: TemporalDep, settings: SettingsDep, pool: OptionalPoolDep) -> Received:
    """Any form or marketing tool signing by the Standard Webhooks specification, one
    secret per source (`HANDOFF_WEBHOOK_SECRETS`). Deduplicated on `webhook-id`."""
    secret = settings.webhook_secrets.get(source)
    if secret is None:
        raise ProblemError(404, "Not found", f"no webhook source {source!r} is configured")
    event = payloads.webhook_event(source, secret, await request.body(), dict(request.headers))
    return await _record([event], pool, temporal, settings.task_queue)


class InboxEntry(BaseModel):
    source: str
    event_id: str
    kind: str
    object_id: str | None
    status: str
    reason: str | None
    lead_id: str | None
    attempts: int
    received_at: str
    processed_at: str | None


@router.get("/events", response_model=list[InboxEntry])
async def events(principal: PrincipalDep, pool: PoolDep,
                 status: Literal["pending", "ingested", "unmappable", "ignored"] | None = None,
                 source: str | None = None, limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[InboxEntry]:
    """The connector inbox, newest first: `?status=unmappable` lists the CRM records that
    could not become leads, with the reason (RevOps fixes them in the CRM)."""
    require(principal, "revops", "integration")
    rows = await list_events(pool, status, source, limit)
    return [InboxEntry(**{**r, "received_at": r["received_at"].isoformat(),
                          "processed_at": r["processed_at"].isoformat() if r["processed_at"] else None})
            for r in rows]
