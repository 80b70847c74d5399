"""Processing one inbox event: fetch the CRM record when the delivery only names it
(HubSpot), map it (`sla_policies.crm`), ingest it through the one ingest path, link the
lead to its CRM record for the write-back, and record the outcome. Every step is
idempotent, so the activity is simply retried (and the sweep may run it again).

Which submission of its record an event is follows the inbox's order of receipt, never
how far the earlier events have got: an earlier event's lead is running before its row
says 'ingested', and a retried attempt must decide as the first one did. One form fill
fires several events of one record (HubSpot: a creation and a change of each watched
property), each fetching the same record: a later event that submits what the record's
previous event did (`submission_digest`) is ignored, not a second submission."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from datetime import UTC, datetime, timedelta

from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool
from temporalio import activity
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory

from activities.crm.errors import CrmNotFound, PermanentCrmError
from activities.crm.hubspot import HubSpotClient
from activities.crm.ingest import IngestRefused, ingest
from activities.crm.salesforce import SalesforceClient
from activities.crm.types import CrmConfig, InboxOutcome
from readmodel.connector_inbox import (
    NO_EARLIER,
    Earlier,
    earlier_events,
    keep_submission_digest,
    pending_keys,
    record_events,
)
from readmodel.lookups import open_lead_of_person
from sla_policies.crm import InboundMapping, InboxEvent, InboxKey, MappedLead, map_record, submission_digest
from sla_policies.lead import LeadIntake

log = logging.getLogger("handoff.connectors")

SWEEP_AGE = timedelta(minutes=2)  # a pending event older than this lost its workflow start: the sweep runs it
SALESFORCE_WATERMARK = "salesforce_leads"
EARLIER_UNSETTLED = "earlier_event_unsettled"  # the error type of a later event's (retried) wait
SAME_AS_PREVIOUS = "same as the record's previous event"  # the reason a repeated submission is ignored


def _crm(source: str) -> str | None:
    return source if source in ("hubspot", "salesforce") else None


def _unsettled(event: InboxEvent, why: str) -> ApplicationError:
    """The (retried, benign) wait of a later event on an earlier one of its record."""
    return ApplicationError(f"{event.source} record {event.object_id}: {why}", type=EARLIER_UNSETTLED,
                            category=ApplicationErrorCategory.BENIGN)


def _lead_id(event: InboxEvent, earlier: Earlier) -> str:
    """The record's first submission is lead `<source>-<object>`; a later one (a form
    conversion, a changed lead source) gets its own submission id, which the ingest
    merges into the person's open lead (R7) or starts as a new lead if none is open.
    A crm_sync link is not asked: only an ingested event of the record makes one, so it
    adds nothing to the order, and one made by a later event would turn a retried first
    event into a submission merged into its own lead."""
    base = f"{event.source.replace(':', '-')}-{event.object_id or event.event_id}"
    if earlier.payload is None:
        return base[:200]
    digest = hashlib.sha256(event.event_id.encode()).hexdigest()[:16]
    return f"{base}-{digest}"[:200]


def _watched_changed(before: dict, fields: dict, mapping: InboundMapping) -> bool:
    """A Salesforce message carries the whole record on every update (including the
    ones Handoff's own write-back causes); only a change to a watched field (LeadSource
    by default, the form a person came through) since the record's previous message is
    a new submission."""
    previous = before.get("fields") or {}
    return any(previous.get(p) != fields.get(p) for p in mapping.watched())


class ConnectorActivities:
    def __init__(self, pool: AsyncConnectionPool, config: CrmConfig):
        self._pool = pool
        self._config = config

    # ------------------------------------------------------------------ process
    @activity.defn
    async def process_inbox_event(self, key: InboxKey) -> InboxOutcome:
        async with self._pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(
                "UPDATE connector_inbox SET attempts = attempts + 1 WHERE source = %s AND event_id = %s"
                " RETURNING source, event_id, kind, object_id, payload, status, reason, lead_id",
                (key.source, key.event_id))
            row = await cur.fetchone()
        if row is None:
            return InboxOutcome(key=key, status="ignored", reason="no such inbox event")
        if row["status"] != "pending":  # done by an earlier attempt, or by the sweep
            return InboxOutcome(key=key, status=row["status"], lead_id=row["lead_id"], reason=row["reason"])
        event = InboxEvent(**{k: row[k] for k in ("source", "event_id", "kind", "object_id", "payload")})
        try:
            outcome = await self._resolve_and_ingest(event)
        except (PermanentCrmError, IngestRefused) as exc:
            outcome = InboxOutcome(key=key, status="unmappable", reason=str(exc))
        await self._finish(event, outcome)
        if outcome.status == "unmappable":
            log.warning("connector event %s/%s unmappable: %s", key.source, key.event_id, outcome.reason)
        return outcome

    async def _resolve_and_ingest(self, event: InboxEvent) -> InboxOutcome:
        key = InboxKey(source=event.source, event_id=event.event_id)
        earlier = await self._earlier(event, key)
        mapping, record, company = await self._record(event, earlier)
        if record is None:
            return InboxOutcome(key=key, status="ignored", reason="no change to a watched property")
        mapped = map_record(mapping, _lead_id(event, earlier), record, company)
        if not isinstance(mapped, MappedLead):
            return InboxOutcome(key=key, status="unmappable", reason=mapped.reason)
        if await self._repeats_previous(event, key, earlier, submission_digest(mapping, mapped.intake, record)):
            return InboxOutcome(key=key, status="ignored", reason=SAME_AS_PREVIOUS)
        if not (self._config.api_url and self._config.api_token):
            raise ApplicationError("HANDOFF_CONNECTOR_API_URL / HANDOFF_CONNECTOR_TOKEN are not set: "
                                   "mapped leads cannot be ingested (retried until they are)")
        if earlier.unsettled:
            await self._wait_for_earlier_lead(event, mapped.intake)
        body = mapped.intake.model_dump_json(exclude_none=True).encode()
        idem = f"crm:{event.source}:{event.event_id}:{hashlib.sha256(body).hexdigest()[:12]}"[:255]
        done = await ingest(self._config.api_url, self._config.api_token, mapped.intake, idem)
        reason = "; ".join(mapped.dropped) or None
        return InboxOutcome(key=key, status="ingested", lead_id=done.lead_id, reason=reason)

    async def _earlier(self, event: InboxEvent, key: InboxKey) -> Earlier:
        if event.object_id is None:  # a form webhook: every delivery is a submission of its own
            return NO_EARLIER
        return await earlier_events(self._pool, key, event.object_id)

    async def _record(self, event: InboxEvent, earlier: Earlier
                      ) -> tuple[InboundMapping, dict | None, dict | None]:
        """The record's properties (and its company's), or None when there is nothing to ingest."""
        mappings = self._config.mapping
        if event.source == "hubspot":
            if not self._config.hubspot:
                raise ApplicationError("HANDOFF_HUBSPOT_TOKEN is not set: HubSpot contacts cannot be fetched")
            m = mappings.hubspot
            client = HubSpotClient(self._config.hubspot_token or "", self._config.hubspot_api_url)
            # The watched ones too: they are part of what an event submits (`submission_digest`).
            props = sorted({*m.contact.values(), *m.account.values(), *m.watched(),
                            *([m.lead_type_property] if m.lead_type_property else [])})
            try:
                record, company = await asyncio.to_thread(client.contact_with_company, event.object_id or "", props,
                                                          sorted(m.account.values()))
            except CrmNotFound as exc:
                raise PermanentCrmError(str(exc)) from None
            return m, record, company
        if event.source == "salesforce":
            m = mappings.salesforce
            record = event.payload.get("fields") or {}
            if earlier.payload is not None and not _watched_changed(earlier.payload, record, m):
                return m, None, None
            return m, record, None
        return mappings.webhook, event.payload.get("data") or {}, None

    async def _repeats_previous(self, event: InboxEvent, key: InboxKey, earlier: Earlier, digest: str) -> bool:
        """Whether the event submits what the record's previous live event did. Asked only
        once that one is mapped (retried, benign, until then); the digest is kept before any
        ingest, and the first attempt's stays, so a retry or the sweep decides the same."""
        if earlier.unmapped:
            raise _unsettled(event, "an earlier event is not mapped yet")
        kept = await keep_submission_digest(self._pool, key, digest)
        return earlier.payload is not None and kept == earlier.submission_digest

    async def _wait_for_earlier_lead(self, event: InboxEvent, intake: LeadIntake) -> None:
        """A later submission merges into the person's open lead (R7) only if the read model
        shows it; an earlier event of the record still pending, or ingested a moment ago, may
        be starting that lead right now, and this one would start a second. Retried (benign)
        until the lead shows, or the earlier events are done and theirs are in the read model."""
        email = intake.contact.email
        if email and await open_lead_of_person(self._pool, email, intake.lead_id) is None:
            raise _unsettled(event, "an earlier event's lead is not in the read model yet")

    async def _finish(self, event: InboxEvent, outcome: InboxOutcome) -> None:
        async with self._pool.connection() as conn, conn.transaction():
            await conn.execute(
                "UPDATE connector_inbox SET status = %s, reason = %s, lead_id = %s, processed_at = now()"
                " WHERE source = %s AND event_id = %s AND status = 'pending'",
                (outcome.status, outcome.reason, outcome.lead_id, event.source, event.event_id))
            crm = _crm(event.source)
            if outcome.status == "ingested" and crm and event.object_id and outcome.lead_id:
                # The lead's CRM record, for the write-back; the first link of a lead stays.
                await conn.execute(
                    "INSERT INTO crm_sync (lead_id, crm, object_id) VALUES (%s, %s, %s)"
                    " ON CONFLICT (lead_id, crm) DO NOTHING", (outcome.lead_id, crm, event.object_id))

    # ------------------------------------------------------------------ sweep and polling
    @activity.defn
    async def pending_inbox_events(self) -> list[InboxKey]:
        """Events recorded but not processed after `SWEEP_AGE`: their workflow could not be
        started (Temporal was down when the webhook was answered)."""
        async with self._pool.connection() as conn, conn.cursor() as cur:
            await cur.execute(
                "SELECT source, event_id FROM connector_inbox WHERE status = 'pending' AND received_at < %s"
                " ORDER BY received_at LIMIT 500", (datetime.now(UTC) - SWEEP_AGE,))
            return [InboxKey(source=s, event_id=e) for s, e in await cur.fetchall()]

    @activity.defn
    async def poll_salesforce(self) -> list[InboxKey]:
        """Polling mode: Salesforce leads changed since the stored watermark become inbox
        events (keyed by record id and SystemModstamp, so a re-poll adds nothing twice);
        the watermark moves only after they are recorded."""
        if not self._config.salesforce:
            return []
        async with self._pool.connection() as conn, conn.cursor() as cur:
            await cur.execute("SELECT watermark FROM connector_watermarks WHERE name = %s", (SALESFORCE_WATERMARK,))
            row = await cur.fetchone()
        since = row[0] if row else datetime.now(UTC) - timedelta(days=1)
        client = self._salesforce()
        records = await asyncio.to_thread(client.changed_leads, since)
        events = [InboxEvent(source="salesforce", event_id=f"poll:{r['Id']}:{r.get('SystemModstamp')}",
                             kind="lead.polled", object_id=r["Id"], payload={"fields": r}) for r in records]
        if not records:
            return []
        newest = max(datetime.fromisoformat(str(r["SystemModstamp"]).replace("Z", "+00:00").replace("+0000", "+00:00"))
                     for r in records)
        fresh = pending_keys(await record_events(self._pool, events))
        async with self._pool.connection() as conn:
            await conn.execute(
                "INSERT INTO connector_watermarks (name, watermark) VALUES (%s, %s) ON CONFLICT (name)"
                " DO UPDATE SET watermark = greatest(connector_watermarks.watermark, EXCLUDED.watermark),"
                " updated_at = now()", (SALESFORCE_WATERMARK, newest))
        return fresh

    def _salesforce(self) -> SalesforceClient:
        c = self._config
        return SalesforceClient(c.salesforce_instance_url or "", c.salesforce_token or "", c.salesforce_api_version,
                                c.salesforce_ca_bundle, c.salesforce_usage_ceiling)

