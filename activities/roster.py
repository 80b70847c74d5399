"""Routing: capacity-capped round robin over the roster (docs/domain.md T11, Q26).

Safe under concurrent ingest: assignments for one role take a transaction-level advisory
lock, so they run one after another and each sees the previous one's counts. Two leads
routed at once never both take a rep's last slot, the rotation stays fair, and no lead is
left unrouted merely because another assignment held the free reps (which FOR UPDATE
SKIP LOCKED did: under contention it reported "nobody covers the lead").
"""

from __future__ import annotations

from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool
from temporalio import activity
from temporalio.common import Priority

from infra.priority import is_lowered, raise_to_default
from readmodel.roster import waits_for_rep
from sla_policies.state import Assignment, AssignmentRequest, Released, Unassigned

_ROSTER_LOCK = 0x524F5354  # "ROST": advisory-lock namespace of the per-role assignment lock

# Reps who staff the request's territory and tier, whether or not they have room now (the
# hold's "why"): at capacity or out of office (an absence with an end) still staff it; a
# rep switched off (`available` false) does not, so a territory left to such reps is not
# covered (territory_hold, RevOps), not merely full.
_COVERING = """
    SELECT count(*) AS eligible, coalesce(array_agg(DISTINCT manager_id)
                                          FILTER (WHERE manager_id IS NOT NULL), '{}') AS managers
    FROM reps
    WHERE role = %(role)s AND available
      AND (cardinality(territories) = 0 OR %(country)s = ANY (territories))
      AND (cardinality(acv_tiers) = 0 OR %(acv)s = ANY (acv_tiers))
      AND NOT (rep_id = ANY (%(exclude)s))
"""


def raised_when_routed(priority: Priority | None) -> bool:
    """Does routing raise a lead that started at this priority? A lead still at a bulk
    ingest's low priority: once routed it is a live lead whose SLA instants go first
    (infra/priority.py). (The workflow asks here: workflow code does not import infra.)"""
    return is_lowered(priority)


# The next rep in rotation who has room now and is not away (locked: the role's lock holder
# updates its counts).
_NEXT_REP = """
    SELECT rep_id, role, manager_id, timezone FROM reps
    WHERE role = %(role)s AND available AND open_leads < capacity
      AND (cardinality(territories) = 0 OR %(country)s = ANY (territories))
      AND (cardinality(acv_tiers) = 0 OR %(acv)s = ANY (acv_tiers))
      AND NOT (rep_id = ANY (%(exclude)s))
      AND NOT (away_from IS NOT NULL AND away_from <= %(now)s AND %(now)s < away_until)
    ORDER BY last_assigned_at NULLS FIRST, rep_id
    LIMIT 1
    FOR UPDATE
"""


class RosterActivities:
    def __init__(self, pool: AsyncConnectionPool):
        self._pool = pool

    @activity.defn(name="assign_lead")
    async def assign_lead(self, request: AssignmentRequest) -> Assignment | Unassigned | None:
        """The next eligible rep in rotation, or why nobody takes the lead: `territory` when
        no available rep of the role covers its territory and ACV tier, `capacity` when some
        do but every one is at capacity or out of office (the lead is then recorded as waiting). A rep
        out of office at the workflow's instant of asking (`at`; for an activity, the instant
        Temporal scheduled this attempt) is skipped; the absence ends by itself at `until`.
        A lead of a bulk ingest is raised here from the bulk priority to the default: from now
        on it is a live lead whose SLA instants go first (infra/priority.py). It is raised
        before it is assigned, so a retry raises it again. (None is never answered now; the
        type keeps the answers of earlier builds, which meant `territory`, readable on replay.)"""
        info = activity.info()
        # A local activity has no priority of its own to read: the workflow says whether its
        # lead is still lowered. (An activity of an earlier build ran at the lead's priority.)
        if (request.raise_priority or is_lowered(info.priority)) and info.workflow_id:
            await raise_to_default(activity.client(), info.workflow_id)
        now = request.at or info.current_attempt_scheduled_time
        asked = {"role": request.role, "country": request.country, "acv": request.acv_tier,
                 "exclude": request.exclude, "now": now}
        # Two round trips while the role's lock is held: the lock, the retry check and the
        # choice leave together, then the writes with the COMMIT. (The lead waits for its
        # turn inside its own workflow task: the shorter the lock is held, the shorter
        # every routing behind it waits.)
        async with self._pool.connection() as conn, conn.pipeline(), conn.transaction(), \
                conn.cursor(row_factory=dict_row) as retried, conn.cursor(row_factory=dict_row) as cur:
            await conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (_ROSTER_LOCK, request.role))
            await retried.execute(
                "SELECT r.rep_id, r.role, r.manager_id, r.timezone FROM assignments a"
                " JOIN reps r USING (rep_id) WHERE a.lead_id = %s AND a.seq = %s",
                (request.lead_id, request.seq),
            )
            await cur.execute(_NEXT_REP, asked)
            done = await retried.fetchone()
            if done:  # a retry of an assignment that already happened
                return Assignment(**done)
            rep = await cur.fetchone()
            if rep is None:
                covering = await (await cur.execute(_COVERING, asked)).fetchone()
                assert covering is not None
                if covering["eligible"] == 0:
                    await cur.execute("DELETE FROM capacity_waits WHERE lead_id = %s", (request.lead_id,))
                    return Unassigned(reason="territory", role=request.role)
                await cur.execute(
                    "INSERT INTO capacity_waits (lead_id, role, country, acv_tier, since) VALUES (%s, %s, %s, %s, %s)"
                    " ON CONFLICT (lead_id) DO UPDATE SET role = excluded.role, country = excluded.country,"
                    " acv_tier = excluded.acv_tier",
                    (request.lead_id, request.role, request.country, request.acv_tier, now))
                return Unassigned(reason="capacity", role=request.role, eligible=covering["eligible"],
                                  managers=sorted(covering["managers"]))
            await cur.execute("DELETE FROM capacity_waits WHERE lead_id = %s", (request.lead_id,))
            await cur.execute(
                "UPDATE reps SET open_leads = open_leads + 1, last_assigned_at = clock_timestamp()"
                " WHERE rep_id = %s", (rep["rep_id"],))
            await cur.execute(
                "INSERT INTO assignments (lead_id, seq, rep_id, role) VALUES (%s, %s, %s, %s)",
                (request.lead_id, request.seq, rep["rep_id"], request.role))
            return Assignment(**rep)

    @activity.defn(name="release_lead")
    async def release_lead(self, rep_id: str) -> Released | None:
        """Give the rep's slot back, and name the capacity-held leads that rep could take
        now, oldest first, as many as the rep has room for: the releasing workflow wakes
        them (docs/domain.md T11). Waits of leads the read model shows out of the hold are
        dropped. (None: what earlier builds answered, readable on replay.)"""
        now = activity.info().current_attempt_scheduled_time
        async with self._pool.connection() as conn, conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
            rep = await (await cur.execute(
                "UPDATE reps SET open_leads = greatest(open_leads - 1, 0) WHERE rep_id = %s RETURNING role",
                (rep_id,))).fetchone()
            if rep is None:
                return Released(rep_id=rep_id)
            await cur.execute(
                "DELETE FROM capacity_waits w USING leads l WHERE l.lead_id = w.lead_id"
                " AND l.stage NOT IN ('mql', 'capacity_hold') AND w.role = %s", (rep["role"],))
            return Released(rep_id=rep_id, wake=await waits_for_rep(cur, rep_id, now))
