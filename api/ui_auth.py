"""Sign-in for the pages. Browsers cannot send bearer headers, so the login form takes the
API token once and opens a server-side session: the cookie holds a random session id
(HttpOnly, SameSite=Strict, scoped to /ui), PostgreSQL holds only its SHA-256 with the
principal and the token it was opened with (`ui_sessions`). Signing out, the session's
expiry or revoking the token (`handoff token revoke`) ends it; the raw API token never
travels again after the login form.

Every state-changing form post must come from our own pages (`same_origin`): the
browser's `Origin` (or, failing that, `Referer`) must name this site.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import Depends, Request, Response
from psycopg_pool import AsyncConnectionPool

from api.auth import Principal, hash_token
from api.problems import ProblemError
from api.viewer import load_settings

COOKIE = "handoff_session"
LIFETIME = timedelta(hours=12)


class LoginRequired(Exception):
    def __init__(self, next_path: str):
        self.next_path = next_path


def login_url(next_path: str) -> str:
    return f"/ui/login?next={quote(next_path, safe='')}"


def safe_next(next_path: str | None) -> str:
    """Only our own pages: a login link must not redirect anywhere else."""
    if next_path and next_path.startswith("/ui") and not next_path.startswith("//"):
        return next_path
    return "/ui/"


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


async def open_session(pool: AsyncConnectionPool, token: str, principal: Principal) -> str:
    """A new session for a valid token; returns the id the cookie carries (shown once)."""
    session_id = secrets.token_urlsafe(32)
    async with pool.connection() as conn:
        await conn.execute(
            "INSERT INTO ui_sessions (id_sha256, token_sha256, principal_id, expires_at) VALUES (%s, %s, %s, %s)",
            (_digest(session_id), hash_token(token), principal.id, datetime.now(UTC) + LIFETIME))
    return session_id


async def close_session(pool: AsyncConnectionPool, session_id: str) -> None:
    async with pool.connection() as conn:
        await conn.execute("UPDATE ui_sessions SET revoked_at = now() WHERE id_sha256 = %s AND revoked_at IS NULL",
                           (_digest(session_id),))


async def session_principal(request: Request, session_id: str) -> Principal | None:
    """The principal of a live session whose token is still valid, else None."""
    pool = request.app.state.pool
    if pool is None:
        return None
    async with pool.connection() as conn:
        row = await (await conn.execute(
            "SELECT token_sha256 FROM ui_sessions WHERE id_sha256 = %s AND revoked_at IS NULL AND expires_at > now()",
            (_digest(session_id),))).fetchone()
    return request.app.state.tokens.lookup_hash(row[0]) if row else None


async def _ui_principal(request: Request) -> Principal:
    session_id = request.cookies.get(COOKIE)
    principal = await session_principal(request, session_id) if session_id else None
    if principal is None:
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(path)
    # The viewer's own time zone for every time on the page (api/ui_time.py).
    request.state.viewer_tz = (await load_settings(request.app.state.pool, principal.id)).timezone
    return principal


UiPrincipalDep = Annotated[Principal, Depends(_ui_principal)]


async def same_origin(request: Request) -> None:
    """A form post from another site (CSRF) is refused: the browser names the page that
    sent it in `Origin`, or at least in `Referer`; a post naming neither is refused too."""
    claimed = request.headers.get("origin") or request.headers.get("referer")
    ours = f"{request.url.scheme}://{request.url.netloc}"
    if claimed and claimed != "null":
        parts = urlsplit(claimed)
        if f"{parts.scheme}://{parts.netloc}" == ours:
            return
    raise ProblemError(403, "Forbidden", "a form post must come from this site's own pages (Origin)")


def set_session(response: Response, session_id: str, *, secure: bool) -> None:
    response.set_cookie(COOKIE, session_id, httponly=True, samesite="strict", secure=secure, path="/ui",
                        max_age=int(LIFETIME.total_seconds()))


def clear_session(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/ui", httponly=True, samesite="strict")
