"""Routing: capacity-capped round robin over the roster (DOMAIN T11, Q26).

Safe under concurrent ingest: candidates are locked with FOR UPDATE SKIP LOCKED inside
one transaction, so two leads routed at once never both take a rep's last slot.
"""

from __future__ import annotations

from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool
from temporalio import activity

from workflows.state import Assignment, AssignmentRequest


class RosterActivities:
    def __init__(self, pool: AsyncConnectionPool):
        self._pool = pool

    @activity.defn(name="assign_lead")
    async def assign_lead(self, request: AssignmentRequest) -> Assignment | None:
        """The next eligible rep in rotation, or None when nobody covers the lead."""
        async with self._pool.connection() as conn, conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
            done = await (await cur.execute(
                "SELECT r.rep_id, r.role, r.manager_id, r.timezone FROM assignments a"
                " JOIN reps r USING (rep_id) WHERE a.lead_id = %s AND a.seq = %s",
                (request.lead_id, request.seq),
            )).fetchone()
            if done:  # a retry of an assignment that already happened
                return Assignment(**done)
            rep = await (await cur.execute(
                """
                SELECT rep_id, role, manager_id, timezone FROM reps
                WHERE role = %(role)s AND available AND open_leads < capacity
                  AND (cardinality(territories) = 0 OR %(country)s = ANY (territories))
                  AND (cardinality(acv_tiers) = 0 OR %(acv)s = ANY (acv_tiers))
                  AND NOT (rep_id = ANY (%(exclude)s))
                ORDER BY last_assigned_at NULLS FIRST, rep_id
                LIMIT 1
                FOR UPDATE SKIP LOCKED
                """,
                {"role": request.role, "country": request.country, "acv": request.acv_tier,
                 "exclude": request.exclude},
            )).fetchone()
            if rep is None:
                return None
            await cur.execute(
                "UPDATE reps SET open_leads = open_leads + 1, last_assigned_at = clock_timestamp()"
                " WHERE rep_id = %s", (rep["rep_id"],))
            await cur.execute(
                "INSERT INTO assignments (lead_id, seq, rep_id, role) VALUES (%s, %s, %s, %s)",
                (request.lead_id, request.seq, rep["rep_id"], request.role))
            return Assignment(**rep)

    @activity.defn(name="release_lead")
    async def release_lead(self, rep_id: str) -> None:
        async with self._pool.connection() as conn:
            await conn.execute(
                "UPDATE reps SET open_leads = greatest(open_leads - 1, 0) WHERE rep_id = %s", (rep_id,))
