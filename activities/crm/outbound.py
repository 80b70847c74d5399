"""The write-back of stage, owner and disposition to the CRM record a lead came from.
Planned from the read model (never from the SLA path: the lead workflow does not wait
for, or even know of, the CRM), pushed one record at a time with Temporal's retries,
`Retry-After` honoured, and recorded per lead in `crm_sync` (pending, done, failed with
the reason). A push is idempotent: it sets fields to values, and the Salesforce
opportunity is upserted on its External Id."""

from __future__ import annotations

import asyncio
import logging

from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool
from temporalio import activity

from activities.crm.errors import PermanentCrmError
from activities.crm.hubspot import HubSpotClient
from activities.crm.salesforce import SalesforceClient
from activities.crm.types import CrmConfig, SyncFailure, SyncItem
from sla_policies.crm import desired_update, snapshot

log = logging.getLogger("handoff.connectors")

PLAN_LIMIT = 500


class CrmSyncActivities:
    def __init__(self, pool: AsyncConnectionPool, config: CrmConfig):
        self._pool = pool
        self._config = config
        self._sf: SalesforceClient | None = None  # one session: its API-usage reading carries across pushes

    @activity.defn
    async def plan_crm_sync(self) -> list[SyncItem]:
        """Every linked lead whose CRM fields should change: its row becomes `pending` with
        the fields wanted, and it is returned for a push."""
        async with self._pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(
                "SELECT s.lead_id, s.crm, s.object_id, s.desired_hash, s.synced_hash, s.status, l.state, l.last_seq,"
                " r.crm_users FROM crm_sync s JOIN leads l USING (lead_id) LEFT JOIN reps r ON r.rep_id = l.owner"
                " WHERE s.status = 'pending' OR l.last_seq > s.planned_seq OR r.updated_at >= s.updated_at"
                " ORDER BY l.updated_at LIMIT %s", (PLAN_LIMIT,))
            rows = await cur.fetchall()
        items: list[SyncItem] = []
        for row in rows:
            crm = row["crm"]
            mapping = self._config.mapping.hubspot_out if crm == "hubspot" else self._config.mapping.salesforce_out
            owner = (row["crm_users"] or {}).get(crm)
            update = desired_update(mapping, snapshot(row["state"], owner))
            digest = update.digest()
            if digest == row["synced_hash"] and row["status"] == "done":
                continue
            if digest == row["synced_hash"] and row["status"] == "failed":
                continue  # the same fields already failed for good; a change of the lead retries
            items.append(SyncItem(lead_id=row["lead_id"], crm=crm, object_id=row["object_id"], update=update,
                                  digest=digest))
        async with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            # Every row looked at remembers the projection it saw: the next plan skips it
            # until the lead (or its owner's roster entry) changes again.
            await cur.executemany(
                "UPDATE crm_sync SET planned_seq = greatest(planned_seq, %s), updated_at = now()"
                " WHERE lead_id = %s AND crm = %s", [(r["last_seq"], r["lead_id"], r["crm"]) for r in rows])
            for item in items:
                await cur.execute(
                    "UPDATE crm_sync SET status = 'pending', desired = %s, desired_hash = %s, reason = NULL"
                    " WHERE lead_id = %s AND crm = %s",
                    (Jsonb(item.update.model_dump()), item.digest, item.lead_id, item.crm))
        return items

    @activity.defn
    async def push_crm_update(self, item: SyncItem) -> str:
        """Write the fields; `done` when the CRM took them, `failed` with the reason when it
        refused for good. A rate limit or an outage raises, and Temporal retries."""
        async with self._pool.connection() as conn:
            await conn.execute("UPDATE crm_sync SET attempts = attempts + 1 WHERE lead_id = %s AND crm = %s",
                               (item.lead_id, item.crm))
        try:
            await asyncio.to_thread(self._push, item)
        except PermanentCrmError as exc:
            await self.record_sync_failure(SyncFailure(item=item, reason=str(exc)))
            return "failed"
        async with self._pool.connection() as conn:
            # Only the fields this push carried: a newer plan made meanwhile stays pending.
            await conn.execute(
                "UPDATE crm_sync SET status = 'done', synced_hash = %s, reason = NULL, synced_at = now(),"
                " updated_at = now() WHERE lead_id = %s AND crm = %s AND desired_hash = %s",
                (item.digest, item.lead_id, item.crm, item.digest))
        return "done"

    def _push(self, item: SyncItem) -> None:
        c = self._config
        if item.crm == "hubspot":
            if not c.hubspot:
                raise PermanentCrmError("HubSpot is not configured (HANDOFF_HUBSPOT_TOKEN)")
            if item.update.fields:
                HubSpotClient(c.hubspot_token or "", c.hubspot_api_url).update_contact(item.object_id,
                                                                                     item.update.fields)
            return
        if not c.salesforce:
            raise PermanentCrmError("Salesforce is not configured (HANDOFF_SALESFORCE_INSTANCE_URL, _TOKEN)")
        if self._sf is None:
            self._sf = SalesforceClient(c.salesforce_instance_url or "", c.salesforce_token or "",
                                        c.salesforce_api_version, c.salesforce_ca_bundle, c.salesforce_usage_ceiling)
        if item.update.fields:
            self._sf.update_lead(item.object_id, item.update.fields)
        if item.update.opportunity:
            self._sf.upsert_opportunity(item.lead_id, item.update.opportunity)

    @activity.defn
    async def record_sync_failure(self, failure: SyncFailure) -> None:
        item = failure.item
        log.error("CRM sync of lead %s to %s failed: %s", item.lead_id, item.crm, failure.reason)
        async with self._pool.connection() as conn:
            await conn.execute(
                "UPDATE crm_sync SET status = 'failed', synced_hash = %s, reason = %s, updated_at = now()"
                " WHERE lead_id = %s AND crm = %s AND desired_hash = %s",
                (item.digest, failure.reason[:1000], item.lead_id, item.crm, item.digest))
