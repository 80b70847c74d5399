"""Times on the pages in the viewer's own time zone, with the UTC instant on hover.

Every instant is a `<time datetime="...Z" title="... UTC">`: the server writes it in the
zone the viewer chose (api/viewer.py); with no choice it writes UTC and the page script
(api/static/handoff.js) rewrites it in the browser's zone, the default."""

from __future__ import annotations

from contextvars import ContextVar
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape

# The zone of the page being rendered (None: the browser's, filled in by the script).
VIEWER_TZ: ContextVar[str | None] = ContextVar("viewer_tz", default=None)


def local_text(value: datetime, zone: str | None) -> str:
    local = value.astimezone(ZoneInfo(zone)) if zone else value.astimezone(UTC)
    return local.strftime("%Y-%m-%d %H:%M ") + (local.tzname() or "UTC")


def when(value: datetime | None, css: str = "") -> Markup:
    if value is None:
        return Markup("")
    instant = value.astimezone(UTC)
    iso = instant.strftime("%Y-%m-%dT%H:%M:%SZ")
    utc = instant.strftime("%Y-%m-%d %H:%M:%S UTC")
    cls = f' class="{escape(css)}"' if css else ""
    return Markup(f'<time datetime="{iso}" title="{utc}"{cls}>{escape(local_text(instant, VIEWER_TZ.get()))}</time>')
