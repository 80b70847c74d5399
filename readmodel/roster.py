"""Who waits for room on the roster (docs/domain.md T11): the capacity-held leads a rep
could take now, oldest first. The `release_lead` activity asks it after giving a slot
back, the API after a roster change (capacity raised, a rep added or back); each wakes
those leads, which then ask the roster again."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from psycopg import AsyncCursor

MAX_WAKE = 5  # leads woken by one change at most; the others retry on their own timers

_WAITS_FOR_REP = """
    SELECT w.lead_id FROM reps r
    JOIN capacity_waits w ON w.role = r.role
      AND (cardinality(r.territories) = 0 OR w.country = ANY (r.territories))
      AND (cardinality(r.acv_tiers) = 0 OR w.acv_tier = ANY (r.acv_tiers))
    WHERE r.rep_id = %(rep)s AND r.available AND r.open_leads < r.capacity
      AND NOT (r.away_from IS NOT NULL AND r.away_from <= %(now)s AND %(now)s < r.away_until)
      AND NOT EXISTS (SELECT 1 FROM leads l WHERE l.lead_id = w.lead_id
                      AND l.stage NOT IN ('mql', 'capacity_hold'))
    ORDER BY w.since, w.lead_id
    LIMIT least(%(most)s, (SELECT greatest(capacity - open_leads, 0) FROM reps WHERE rep_id = %(rep)s))
"""


async def waits_for_rep(cur: AsyncCursor[Any], rep_id: str, now: datetime, most: int = MAX_WAKE) -> list[str]:
    """The held leads `rep_id` covers, oldest first, as many as it has room for at `now`
    (none when it is switched off, away or full). Leads the read model already shows out of
    the hold are left out."""
    rows = await (await cur.execute(_WAITS_FOR_REP, {"rep": rep_id, "now": now, "most": most})).fetchall()
    return [row[0] if isinstance(row, tuple) else row["lead_id"] for row in rows]
