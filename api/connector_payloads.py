"""What the connector endpoints accept: the vendors' signatures and payloads, checked
before anything is recorded. A bad signature or a stale timestamp is a 401; a body that
is not the vendor's documented shape is a 400 naming the place."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import unquote
from xml.etree import ElementTree

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from api.problems import FieldError, ProblemError
from sla_policies.crm import InboundMapping, InboxEvent

MAX_SKEW_MS = 5 * 60 * 1000  # HubSpot: refuse a request timestamped more than 5 minutes ago
HUBSPOT_TYPES = ("contact.creation", "contact.propertyChange")


def _unauthorized(detail: str) -> ProblemError:
    return ProblemError(401, "Unauthorized", detail)


def _malformed(path: str, message: str) -> ProblemError:
    return ProblemError(400, "Malformed body", f"{path}: {message}", errors=[FieldError(path=path, message=message)])


# ---------------------------------------------------------------------------- HubSpot
def verify_hubspot(secret: str, method: str, uri: str, body: bytes, signature: str | None,
                   timestamp: str | None, now_ms: int | None = None) -> None:
    """X-HubSpot-Signature-v3: base64(HMAC-SHA256(secret, method + uri + body + timestamp))."""
    if not signature or not timestamp:
        raise _unauthorized("X-HubSpot-Signature-v3 and X-HubSpot-Request-Timestamp are required")
    try:
        stamp = int(timestamp)
    except ValueError:
        raise _unauthorized("X-HubSpot-Request-Timestamp is not a timestamp in milliseconds") from None
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    if now_ms - stamp > MAX_SKEW_MS:
        raise _unauthorized("X-HubSpot-Request-Timestamp is more than 5 minutes old")
    source = method.encode() + unquote(uri).encode() + body + timestamp.encode()
    expected = base64.b64encode(hmac.new(secret.encode(), source, hashlib.sha256).digest()).decode()
    if not hmac.compare_digest(expected, signature):
        raise _unauthorized("X-HubSpot-Signature-v3 does not match")


def sign_hubspot(secret: str, method: str, uri: str, body: bytes, timestamp: str) -> str:
    source = method.encode() + unquote(uri).encode() + body + timestamp.encode()
    return base64.b64encode(hmac.new(secret.encode(), source, hashlib.sha256).digest()).decode()


def hubspot_events(body: bytes, mapping: InboundMapping) -> list[InboxEvent]:
    """The batched event array; the events Handoff acts on are pending, the rest are
    recorded as ignored (with the reason) so a redelivery is still recognised."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise _malformed("$", "not JSON") from None
    if not isinstance(data, list) or not data:
        raise _malformed("$", "must be a non-empty array of events")
    events = []
    for i, raw in enumerate(data):
        if not isinstance(raw, dict):
            raise _malformed(f"[{i}]", "must be an object")
        for name, kinds in (("eventId", (int, str)), ("subscriptionType", (str,)), ("objectId", (int, str)),
                            ("occurredAt", (int,))):
            if not isinstance(raw.get(name), kinds) or isinstance(raw.get(name), bool):
                raise _malformed(f"[{i}].{name}", "missing or of the wrong type")
        kind = raw["subscriptionType"]
        status, reason = "pending", None
        if kind not in HUBSPOT_TYPES:
            status, reason = "ignored", f"subscription {kind} is not handled"
        elif kind == "contact.propertyChange" and raw.get("propertyName") not in mapping.watched_properties:
            status, reason = "ignored", f"property {raw.get('propertyName')!r} is not watched"
        events.append(InboxEvent(source="hubspot", event_id=str(raw["eventId"]), kind=kind,
                                 object_id=str(raw["objectId"]), payload=raw, status=status, reason=reason))
    return events


# ---------------------------------------------------------------------------- Salesforce
_SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
_OUT = "http://soap.sforce.com/2005/09/outbound"
_XSI = "http://www.w3.org/2001/XMLSchema-instance"

SOAP_ACK = (b'<?xml version="1.0" encoding="UTF-8"?>'
            b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>'
            b'<notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound"><Ack>true</Ack>'
            b'</notificationsResponse></soapenv:Body></soapenv:Envelope>')


def _same_org(a: str, b: str) -> bool:
    # An org id is written with 15 or 18 characters; the first 15 are the id.
    return a.strip()[:15] == b.strip()[:15]


def salesforce_events(body: bytes, org_id: str) -> list[InboxEvent]:
    """An Outbound Message (SOAP): checks the organization, returns one event per
    notification (keyed by its notification Id, which Salesforce keeps on redelivery)."""
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        raise _malformed("$", "document type declarations are not accepted")
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError as exc:
        raise _malformed("$", f"not XML ({exc})") from None
    note = root.find(f"{{{_SOAP}}}Body/{{{_OUT}}}notifications")
    if note is None:
        raise _malformed("Envelope.Body.notifications", "missing")
    org = note.findtext(f"{{{_OUT}}}OrganizationId")
    if not org:
        raise _malformed("notifications.OrganizationId", "missing")
    if not _same_org(org, org_id):
        raise _unauthorized(f"OrganizationId {org} is not the configured organization")
    events = []
    for i, notification in enumerate(note.findall(f"{{{_OUT}}}Notification")):
        event_id = notification.findtext(f"{{{_OUT}}}Id")
        record = notification.find(f"{{{_OUT}}}sObject")
        if not event_id or record is None:
            raise _malformed(f"notifications.Notification[{i}]", "Id and sObject are required")
        fields: dict[str, Any] = {}
        for child in record:
            name = child.tag.rsplit("}", 1)[-1]
            fields[name] = None if child.get(f"{{{_XSI}}}nil") == "true" else (child.text or "")
        object_type = (record.get(f"{{{_XSI}}}type") or "").rsplit(":", 1)[-1]
        status, reason = "pending", None
        if object_type != "Lead":
            status, reason = "ignored", f"sObject type {object_type or '?'} is not handled"
        elif not fields.get("Id"):
            raise _malformed(f"notifications.Notification[{i}].sObject.Id", "missing")
        events.append(InboxEvent(source="salesforce", event_id=event_id, kind="lead.outbound_message",
                                 object_id=fields.get("Id"), payload={"fields": fields}, status=status, reason=reason))
    if not events:
        raise _malformed("notifications.Notification", "at least one notification is required")
    return events


# ---------------------------------------------------------------------------- Standard Webhooks
def webhook_event(source: str, secret: str, body: bytes, headers: dict[str, str]) -> InboxEvent:
    """A Standard Webhooks delivery: `webhook-id`, `webhook-timestamp` (5 minutes'
    tolerance), `webhook-signature`; the body `{"type": ..., "data": {...}}`."""
    try:
        Webhook(secret).verify(body, headers)
    except WebhookVerificationError as exc:
        raise _unauthorized(f"webhook signature: {exc}") from None
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise _malformed("$", "not JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise _malformed("type", "a string event type is required")
    if not isinstance(data.get("data"), dict):
        raise _malformed("data", "an object of lead properties is required")
    record_id = data["data"].get("id")
    return InboxEvent(source=f"webhook:{source}", event_id=headers.get("webhook-id", ""), kind=data["type"],
                      object_id=str(record_id) if record_id is not None else None, payload=data)
