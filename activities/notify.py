"""Notifications: rendered with Jinja2, logged, and recorded once per dedup key.

The dedup key is the workflow id plus the lead's sequence number, so an activity retry
never double-posts. Sinks beyond the log (chat webhook, SMTP) plug in here.
"""

from __future__ import annotations

import logging
from jinja2 import Environment, PackageLoader, StrictUndefined
from psycopg_pool import AsyncConnectionPool
from temporalio import activity

from workflows.state import Notification

log = logging.getLogger("handoff.notify")


class NotificationActivities:
    def __init__(self, pool: AsyncConnectionPool, templates: Environment | None = None):
        self._pool = pool
        self._templates = templates or Environment(
            loader=PackageLoader("activities", "templates"), undefined=StrictUndefined,
            trim_blocks=True, lstrip_blocks=True, autoescape=False,
        )

    @activity.defn(name="notify")
    async def notify(self, n: Notification) -> bool:
        """Returns True when delivered now, False when this key was already delivered."""
        key = f"{activity.info().workflow_id}:{n.seq}"
        template = self._templates.get_template(f"{n.kind}.txt.j2")
        subject, _, body = template.render(n=n).partition("\n")
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                "INSERT INTO notifications (dedup_key, lead_id, kind, recipient_role, recipient, subject, body, at)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (dedup_key) DO NOTHING",
                (key, n.lead_id, n.kind, n.recipient_role, n.recipient, subject.strip(), body.strip(), n.at),
            )
            fresh = cur.rowcount == 1
        if fresh:
            log.info("notify %s %s: %s", n.recipient_role, n.recipient or "", subject.strip())
        return fresh
