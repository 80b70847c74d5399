"""Rendering the server-side pages (Jinja2): one environment with the labels and the
viewer's time zone, a page, and an error page. Every page router uses these."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from api.auth import Principal
from api.problems import ProblemError
from api.ui_time import VIEWER_TZ, when
from sla_policies.labels import metric_label, stage_label, window_label

_pages = Environment(loader=PackageLoader("api", "templates/ui"), autoescape=select_autoescape(["j2", "html"]),
                     trim_blocks=True, lstrip_blocks=True)


_pages.globals.update(when=when, window_label=window_label, metric_label=metric_label, stage_label=stage_label)


def page(name: str, request: Request, principal: Principal | None, status: int = 200, **context) -> HTMLResponse:
    viewer_tz = getattr(request.state, "viewer_tz", None)
    token = VIEWER_TZ.set(viewer_tz)
    try:
        html = _pages.get_template(name).render(request=request, principal=principal, viewer_tz=viewer_tz,
                                                **context)
    finally:
        VIEWER_TZ.reset(token)
    return HTMLResponse(html, status_code=status)


def error_page(request: Request, principal: Principal | None, exc: ProblemError) -> HTMLResponse:
    return page("error.html.j2", request, principal, status=exc.problem.status, problem=exc.problem)


