"""A lead's recorded notifications, for its timeline: since they travel with the read-model
projection (activities/notification_outbox.py), the arrival's are in no workflow event
the timeline could read them from."""

from __future__ import annotations

from datetime import datetime

from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel


class RecordedNotification(BaseModel):
    dedup_key: str
    at: datetime
    kind: str
    item: str | None
    recipient_role: str
    recipient: str | None
    pending: bool  # recorded, not yet accepted by every sink


async def lead_notifications(pool: AsyncConnectionPool, lead_id: str, workflow_id: str) -> list[RecordedNotification]:
    """The notifications the lead's workflow recorded, oldest first."""
    async with pool.connection() as conn:
        rows = await (await conn.execute(
            "SELECT dedup_key, at, kind, item, recipient_role, recipient, pending FROM notifications"
            " WHERE lead_id = %s AND dedup_key LIKE %s ORDER BY at, dedup_key",
            (lead_id, workflow_id.replace("%", r"\%").replace("_", r"\_") + ":%"))).fetchall()
    return [RecordedNotification(dedup_key=r[0], at=r[1], kind=r[2], item=r[3], recipient_role=r[4], recipient=r[5],
                                 pending=r[6]) for r in rows]
