"""Headers that keep the pages out of other sites' frames and scripts out of the pages.

The pages are server-rendered HTML with inline styles and one script of the app's own
(`api/static/handoff.js`: the at-risk list refreshing itself, times in the viewer's zone),
so the Content-Security-Policy allows scripts and fetches from this site only (nothing
inline, nothing from elsewhere), forms only back to this site, and no framing
(`frame-ancestors 'none'`, and X-Frame-Options for older browsers). Referrer-Policy
keeps lead ids in our URLs from leaking to other sites. `/docs` and `/redoc` (Swagger UI
and ReDoc run scripts) get every header but the CSP.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = ("default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; "
       "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
COMMON = {"X-Frame-Options": "DENY", "Referrer-Policy": "same-origin", "X-Content-Type-Options": "nosniff"}
_SCRIPTED = ("/docs", "/redoc")


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scripted = scope["path"].startswith(_SCRIPTED)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in COMMON.items():
                    headers.setdefault(name, value)
                if not scripted:
                    headers.setdefault("Content-Security-Policy", CSP)
            await send(message)

        await self.app(scope, receive, send_with_headers)
