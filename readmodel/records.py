"""Reading the read model back for reports: `LeadRecord`s (the scorecard and friends in
`sla_policies` are pure and take these records, never a connection) and the facts of
the daily SLA flash."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool
from pydantic import ValidationError

from sla_policies.digests import BreachLine, DailyFlash, OwnerBreaches, PriorityLead
from sla_policies.records import ClockRecord, EscalationRecord, LeadRecord, TouchRecord, TransitionRecord
from sla_policies.state import LeadState


async def load_lead_records(pool: AsyncConnectionPool, *, since: datetime, until: datetime,
                            policy_version: str | None = None,
                            scope: tuple[list[str], dict] | None = None) -> list[LeadRecord]:
    """Every lead alive during [since, until): created before `until` and changed at or
    after `since`, with all its clocks, transitions and touches (reports decide which of
    those fall in the period). Ordered by creation. `scope`: conditions on `leads` and their
    arguments that keep a reader to its leads (`api.visibility.sql_filter`)."""
    where = ["created_at < %(until)s", "updated_at >= %(since)s", *(scope[0] if scope else [])]
    args: dict = {"since": since, "until": until, **(scope[1] if scope else {})}
    if policy_version is not None:
        where.append("policy_version = %(policy_version)s")
        args["policy_version"] = policy_version
    async with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        leads = await (await cur.execute(
            "SELECT lead_id, lead_type, state->'intake'->>'source' AS source, policy_version, stage, tier,"
            " acv_tier, owner, coalesce(state->>'sdr', CASE WHEN state->>'owner_role' = 'sdr' THEN owner END) AS sdr,"
            " CASE WHEN state->>'owner_role' = 'ae' THEN owner END AS ae,"
            " state->'intake'->'account'->>'region' AS region, state->'intake'->'account'->>'industry' AS industry,"
            " (state->'intake'->'account'->>'employees')::int AS employees,"
            " (state->'intake'->'account'->>'annual_revenue')::float8 AS annual_revenue,"
            " (state->>'meeting_at')::timestamptz AS meeting_at,"
            " coalesce((state->'opportunity'->>'discovery_held')::boolean, false) AS meeting_held,"
            " (state->'opportunity'->>'acv')::float8 AS acv,"
            " created_at, updated_at FROM leads WHERE " + " AND ".join(where)
            + " ORDER BY created_at, lead_id", args)).fetchall()
        ids = [row["lead_id"] for row in leads]
        clocks = await (await cur.execute(
            "SELECT lead_id, item, tier, owner_role, owner, started_at, due_at, breach_at, met_at,"
            " breached_at, voided_at, escalated_to FROM sla_clocks WHERE lead_id = ANY(%s)"
            " ORDER BY lead_id, clock_seq", (ids,))).fetchall()
        transitions = await (await cur.execute(
            "SELECT lead_id, at, from_stage, to_stage, event, actor, reason_code, note FROM transitions"
            " WHERE lead_id = ANY(%s) ORDER BY lead_id, seq", (ids,))).fetchall()
        touches = await (await cur.execute(
            "SELECT lead_id, at, actor, channel, outcome FROM touches WHERE lead_id = ANY(%s)"
            " ORDER BY lead_id, touch_no", (ids,))).fetchall()
    by_lead: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for row in clocks:
        escalations = [EscalationRecord.model_validate(e) for e in row.pop("escalated_to")]
        by_lead[row["lead_id"]]["clocks"].append(ClockRecord(**row, escalated_to=escalations))
    for row in transitions:
        by_lead[row["lead_id"]]["transitions"].append(TransitionRecord(**row))
    for row in touches:
        by_lead[row["lead_id"]]["touches"].append(TouchRecord(**row))
    return [LeadRecord(**row, **by_lead[row["lead_id"]]) for row in leads]


async def load_daily_flash(pool: AsyncConnectionPool, day: date, tz: ZoneInfo, *,
                           priority_limit: int = 20) -> DailyFlash:
    """The facts of the SLA flash for `day` (local to `tz`): every clock breached that day,
    grouped by owner, and the open tier-1 leads with their next due clock. Compliance
    lines are the scorecard's and are left to it."""
    start = datetime.combine(day, time(), tz)
    args = {"start": start, "end": start + timedelta(days=1), "limit": priority_limit}
    async with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        breaches = await (await cur.execute(
            "SELECT lead_id, item, owner, owner_role, breached_at, escalated_to FROM sla_clocks"
            " WHERE breached_at >= %(start)s AND breached_at < %(end)s"
            " ORDER BY owner NULLS LAST, breached_at, lead_id", args)).fetchall()
        priority = await (await cur.execute(
            """
            SELECT * FROM (
                SELECT DISTINCT ON (c.lead_id) c.lead_id, l.tier, l.owner, c.item,
                       coalesce(c.due_at, c.breach_at) AS due_at
                FROM sla_clocks c JOIN leads l USING (lead_id)
                WHERE l.tier = 1 AND c.met_at IS NULL AND c.voided_at IS NULL AND c.breached_at IS NULL
                  AND coalesce(c.due_at, c.breach_at) IS NOT NULL
                ORDER BY c.lead_id, coalesce(c.due_at, c.breach_at), c.item
            ) soonest ORDER BY due_at, lead_id LIMIT %(limit)s
            """, args)).fetchall()
    owners: dict[str | None, OwnerBreaches] = {}
    for row in breaches:
        group = owners.setdefault(row["owner"], OwnerBreaches(owner=row["owner"], owner_role=row["owner_role"],
                                                              breaches=[]))
        group.breaches.append(BreachLine(lead_id=row["lead_id"], item=row["item"], breached_at=row["breached_at"],
                                         escalated_to=[e["role"] for e in row["escalated_to"]]))
    return DailyFlash(day=day, owners=list(owners.values()), open_priority=[PriorityLead(**r) for r in priority])


async def load_lead_states(pool: AsyncConnectionPool, *, since: datetime,
                           until: datetime) -> tuple[list[LeadState], int]:
    """The whole stored state of every lead created in [since, until), in arrival order (the
    recalibration's what-if replays them), and how many of them have no usable state (a row
    written without one, or by a version whose state no longer reads)."""
    async with pool.connection() as conn, conn.cursor() as cur:
        rows = await (await cur.execute(
            "SELECT state FROM leads WHERE created_at >= %s AND created_at < %s ORDER BY created_at, lead_id",
            (since, until))).fetchall()
    states, skipped = [], 0
    for (state,) in rows:
        try:
            states.append(LeadState.model_validate(state))
        except ValidationError:
            skipped += 1
    return states, skipped
