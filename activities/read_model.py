"""Projection of workflow state into the PostgreSQL read model.

Idempotency key: (lead_id, seq), the workflow id plus the workflow's own sequence number,
enforced by the primary key of `lead_events`; the `leads` row only moves forward in seq.
An activity retry therefore never duplicates a row or moves a lead backwards. The report
rows follow the same rule: `transitions` are keyed by the change's seq, `touches` by their
ordinal, `sla_clocks` by the clock's seq and only rewritten by a later batch.
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool
from temporalio import activity

from activities.notification_outbox import record_pending
from activities.notify import template_environment
from readmodel import lookups
from sla_policies import projection
from sla_policies.model.transitions import OPEN_STAGES
from sla_policies.state import (
    AccountEngagement,
    AccountEngagementQuery,
    AccountLeadsQuery,
    AccountStatus,
    AccountStatusQuery,
    LoggedTouch,
    ProjectionBatch,
    SlaClock,
    Suppression,
)

# The open clocks (`LeadState.sla`), derived from `clocks` by the read model itself.
_SLA = "jsonb_path_query_array(({0})->'clocks', '$[*] ? (@.met_at == null && @.voided_at == null)')"


def _with_sla(state: str) -> str:
    # A batch without `clocks` (an update's partial row) keeps its state as it is.
    return f"coalesce(jsonb_set({state}, '{{sla}}', {_SLA.format(state)}), {state})"


class ReadModelActivities:
    def __init__(self, pool: AsyncConnectionPool, templates: Environment | None = None):
        self._pool = pool
        self._templates = templates or template_environment()

    @activity.defn(name="project_lead")
    async def project_lead(self, batch: ProjectionBatch) -> None:
        """The lead's changes and the notifications they caused, in one transaction (a batch
        of notifications alone changes nothing of the lead)."""
        workflow_id = activity.info().workflow_id or ""
        # One pipeline: every statement of the batch, its BEGIN and its COMMIT leave in one
        # round trip instead of one each (a batch is up to seven statements).
        async with self._pool.connection() as conn, conn.pipeline(), conn.transaction():
            if batch.events:
                await _project_changes(conn, workflow_id, batch)
            await record_pending(conn, self._templates, workflow_id, batch.notifications)


async def _project_changes(conn, workflow_id: str, batch: ProjectionBatch) -> None:
    if batch.state is not None:  # the older form: the whole state
        row, changes, patches = projection.columns(batch.state), projection.state_json(batch.state), {}
    elif batch.columns is not None:
        row, changes, patches = batch.columns, batch.changes, batch.patches
    else:
        raise ValueError("a projection batch carries its columns and changes, or the whole state")
    clocks = projection.shipped_clocks(changes, patches)
    last_seq = max(e.seq for e in batch.events)
    # `state` takes the changed fields (jsonb ||), then the changed list elements, each
    # set at its index (an index past the end appends), in order; then `sla`.
    merged = "leads.state || EXCLUDED.state"
    params = {**row.model_dump(), "workflow_id": workflow_id, "state": Jsonb(changes),
              "seq": last_seq}
    elements = [(field, index, value) for field, items in patches.items() for index, value in sorted(items.items())]
    for n, (field, index, value) in enumerate(elements):
        merged = f"jsonb_set({merged}, %(path{n})s::text[], %(value{n})s::jsonb)"
        params[f"path{n}"], params[f"value{n}"] = [field, str(index)], Jsonb(value)
    async with conn.cursor() as cur:
        await cur.executemany(
            "INSERT INTO lead_events (lead_id, seq, at, kind, payload) VALUES (%s, %s, %s, %s, %s)"
            " ON CONFLICT (lead_id, seq) DO NOTHING",
            [(row.lead_id, e.seq, e.at, e.kind, Jsonb(clocks[e.clock_seq] if e.clock_seq is not None
                                                      else _detail(e)))
             for e in batch.events],
        )
    await conn.execute(
        f"""
        INSERT INTO leads (lead_id, workflow_id, stage, score, tier, acv_tier, owner,
            policy_version, breached, lead_type, company, email, state, readers, last_seq,
            created_at, updated_at, next_due_at)
        VALUES (%(lead_id)s, %(workflow_id)s, %(stage)s, %(score)s, %(tier)s, %(acv_tier)s,
            %(owner)s, %(policy_version)s, %(breached)s, %(lead_type)s, %(company)s,
            %(email)s, {_with_sla("%(state)s::jsonb")}, %(readers)s, %(seq)s, %(created_at)s,
            %(updated_at)s, %(next_due_at)s)
        ON CONFLICT (lead_id) DO UPDATE SET
            stage = EXCLUDED.stage, score = EXCLUDED.score, tier = EXCLUDED.tier,
            acv_tier = EXCLUDED.acv_tier, owner = EXCLUDED.owner,
            policy_version = EXCLUDED.policy_version, breached = EXCLUDED.breached,
            company = EXCLUDED.company, email = EXCLUDED.email, state = {_with_sla(merged)},
            readers = EXCLUDED.readers, last_seq = EXCLUDED.last_seq, updated_at = EXCLUDED.updated_at,
            next_due_at = EXCLUDED.next_due_at
        WHERE leads.last_seq < EXCLUDED.last_seq
        """,  # only placeholders and fixed SQL are formatted in
        params,
    )
    touches = dict(enumerate(changes["touches"])) if "touches" in changes else patches.get("touches", {})
    await _project_report_rows(conn, row.lead_id, batch, touches, clocks, last_seq)


async def _project_report_rows(conn, lead_id: str, batch: ProjectionBatch, touches: dict[int, Any],
                               clocks: dict[int, dict[str, Any]], last_seq: int) -> None:
    # Touches and clocks are written when the batch carries them (changed): the others
    # are already in their rows.
    async with conn.cursor() as cur:
        transitions = [(lead_id, e.seq, e.transition) for e in batch.events if e.transition is not None]
        if transitions:
            await cur.executemany(
                "INSERT INTO transitions (lead_id, seq, at, from_stage, to_stage, event, actor, reason_code, note)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (lead_id, seq) DO NOTHING",
                [(lead, seq, t.at, t.from_stage, t.to_stage, t.event, t.actor, t.reason_code, t.note)
                 for lead, seq, t in transitions],
            )
        if touches:
            logged = [(index + 1, LoggedTouch.model_validate(t)) for index, t in sorted(touches.items())]
            await cur.executemany(
                "INSERT INTO touches (lead_id, touch_no, at, actor, channel, outcome)"
                " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (lead_id, touch_no) DO NOTHING",
                [(lead_id, no, t.at, t.actor, t.channel, t.outcome) for no, t in logged],
            )
        if clocks:
            parsed = [SlaClock.model_validate(c) for c in clocks.values()]
            await cur.executemany(
                """
                INSERT INTO sla_clocks (lead_id, clock_seq, item, tier, owner_role, owner, status,
                    started_at, due_at, warning_at, breach_at, met_at, target_missed, breached_at,
                    voided_at, escalated_to, last_seq)
                VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
                ON CONFLICT (lead_id, clock_seq) DO UPDATE SET
                    owner_role = EXCLUDED.owner_role, owner = EXCLUDED.owner, status = EXCLUDED.status,
                    due_at = EXCLUDED.due_at, warning_at = EXCLUDED.warning_at,
                    breach_at = EXCLUDED.breach_at, met_at = EXCLUDED.met_at,
                    target_missed = EXCLUDED.target_missed, breached_at = EXCLUDED.breached_at,
                    voided_at = EXCLUDED.voided_at, escalated_to = EXCLUDED.escalated_to,
                    last_seq = EXCLUDED.last_seq
                WHERE sla_clocks.last_seq < EXCLUDED.last_seq
                """,
                [(lead_id, c.seq, c.item, c.tier, c.owner_role, c.owner, c.status,
                  c.started_at, c.due_at, c.warning_at, c.breach_at, c.met_at, c.target_missed,
                  c.breached_at, c.voided_at,
                  Jsonb([e.model_dump(mode="json") for e in c.escalated_to]), last_seq)
                 for c in parsed],
            )


def _detail(event) -> dict:
    detail = event.transition or event.clock
    return detail.model_dump(mode="json", by_alias=True) if detail is not None else {}


# Both read one account's leads through the email-domain index (migration 0016), not
# every lead: each new lead asks the first.
ENGAGEMENT_SQL = """
    SELECT count(DISTINCT email),
           coalesce(bool_or(state->'intake'->'contact'->>'title' ~* %(senior)s), false)
    FROM leads
    WHERE split_part(email, '@', 2) = %(domain)s AND updated_at >= %(since)s
      AND lead_id <> %(exclude)s AND email IS DISTINCT FROM %(own_email)s
"""
OPEN_LEADS_SQL = """
    SELECT workflow_id FROM leads
    WHERE split_part(email, '@', 2) = %(domain)s AND lead_id <> %(exclude)s
      AND stage = ANY(%(open)s)
      AND (NOT coalesce((state->>'committee_engaged')::boolean, false)
           OR (state->>'committee_engaged_at')::timestamptz < %(before)s)
    ORDER BY lead_id
"""


class AccountEngagementActivities:
    """Committee-Engaged (docs/domain.md §3.6, Q13) is an account-level signal: distinct people of
    one account with tracked engagement in a rolling window. It is a read across leads,
    so it is answered from the read model rather than by an account workflow."""

    def __init__(self, pool: AsyncConnectionPool):
        self._pool = pool

    @activity.defn(name="account_engagement")
    async def account_engagement(self, query: AccountEngagementQuery) -> AccountEngagement:
        async with self._pool.connection() as conn, conn.cursor() as cur:
            await cur.execute(
                ENGAGEMENT_SQL,
                {"domain": query.domain, "since": query.since, "senior": query.director_plus_pattern,
                 "exclude": query.exclude_lead_id, "own_email": query.own_email},
            )
            row = await cur.fetchone()
        # An aggregate without GROUP BY always answers one row.
        contacts, director_plus = row if row is not None else (0, False)
        return AccountEngagement(contacts=contacts, director_plus=director_plus)

    @activity.defn(name="account_open_leads")
    async def account_open_leads(self, query: AccountLeadsQuery) -> list[str]:
        """The workflow ids of the account's other open leads (the ids the projection stored)
        that do not carry the signal yet, to which it is sent (docs/domain.md §3.6): a large
        account is told once per lead, not once per lead per new lead."""
        async with self._pool.connection() as conn, conn.cursor() as cur:
            await cur.execute(
                OPEN_LEADS_SQL,
                {"domain": query.domain, "exclude": query.exclude_lead_id, "open": list(OPEN_STAGES),
                 "before": query.engaged_before},
            )
            return [row[0] for row in await cur.fetchall()]

    @activity.defn(name="account_status")
    async def account_status(self, query: AccountStatusQuery) -> AccountStatus:
        return await lookups.account_status(self._pool, query)


class SuppressionActivities:
    def __init__(self, pool: AsyncConnectionPool):
        self._pool = pool

    @activity.defn(name="suppress")
    async def suppress(self, entry: Suppression) -> None:
        """Idempotent: the same entry twice changes nothing; a permanent entry stays permanent
        and a time-boxed one keeps the later end."""
        async with self._pool.connection() as conn:
            await conn.execute(
                """
                INSERT INTO suppressions (scope, value, permanent, until, reason_code, lead_id, at)
                VALUES (%(scope)s, %(value)s, %(permanent)s, %(until)s, %(reason_code)s, %(lead_id)s, %(at)s)
                ON CONFLICT (scope, value) DO UPDATE SET
                    permanent = suppressions.permanent OR EXCLUDED.permanent,
                    until = CASE WHEN suppressions.permanent OR EXCLUDED.permanent THEN NULL
                                 ELSE greatest(suppressions.until, EXCLUDED.until) END
                """,
                entry.model_dump(),
            )
