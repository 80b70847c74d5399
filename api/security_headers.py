"""Headers that keep the pages out of other sites' frames and scripts out of the pages.

The pages are server-rendered HTML without any script and with inline styles only, so
the Content-Security-Policy allows no script at all, forms only back to this site, and no
framing (`frame-ancestors 'none'`, and X-Frame-Options for older browsers). Referrer-Policy
keeps lead ids in our URLs from leaking to other sites. `/docs` and `/redoc` (Swagger UI
and ReDoc run scripts) get every header but the CSP.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
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
