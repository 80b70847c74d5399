"""Sign-in for the pages. Browsers cannot send bearer headers, so the login form takes
the same API token and keeps it in an HttpOnly, SameSite=Strict cookie scoped to /ui:
scripts cannot read it and no other site can make the browser send it. The principal
behind it is the API's, with the API's role scoping."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request, Response

from api.auth import Principal
from api.viewer import load_settings

COOKIE = "handoff_session"


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


async def _ui_principal(request: Request) -> Principal:
    token = request.cookies.get(COOKIE)
    principal = request.app.state.tokens.lookup(token) if token else None
    if principal is None:
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(path)
    # The viewer's own time zone for every time on the page (api/ui_time.py).
    request.state.viewer_tz = (await load_settings(request.app.state.pool, principal.id)).timezone
    return principal


UiPrincipalDep = Annotated[Principal, Depends(_ui_principal)]


def set_session(response: Response, token: str, *, secure: bool) -> None:
    response.set_cookie(COOKIE, token, httponly=True, samesite="strict", secure=secure, path="/ui",
                        max_age=12 * 3600)


def clear_session(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/ui", httponly=True, samesite="strict")
