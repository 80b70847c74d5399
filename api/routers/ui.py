"""Server-rendered pages for managers (Jinja2, no build step): the dashboard, the lead
list with filters, a lead's timeline with its SLA clocks, and the SLA document. Each page
reuses the API's own read path; errors come back as pages, not problem documents."""

from __future__ import annotations

from datetime import date
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, PackageLoader, select_autoescape
from pydantic import ValidationError

from api.auth import Principal
from api.dashboard import load_dashboard
from api.deps import PoliciesDep, PoolDep, TemporalDep
from api.history import timeline
from api.problems import ProblemError
from api.routers.lead_list import LeadFilters, query_leads
from api.routers.reports import current_scorecard, days_period
from api.routers.leads import _may_read, _state, workflow_id
from api.ui_auth import LoginRequired, UiPrincipalDep, clear_session, login_url, safe_next, set_session
from sla_policies.document import render_policy
from sla_policies.scorecard import iso_week
from sla_policies.model.transitions import ALL_STAGES

router = APIRouter(prefix="/ui", include_in_schema=False)

_pages = Environment(loader=PackageLoader("api", "templates/ui"), autoescape=select_autoescape(["j2", "html"]),
                     trim_blocks=True, lstrip_blocks=True)
_FILTERS = ("stage", "owner", "tier", "breached", "policy_version")


def _page(name: str, request: Request, principal: Principal | None, status: int = 200, **context) -> HTMLResponse:
    html = _pages.get_template(name).render(request=request, principal=principal, **context)
    return HTMLResponse(html, status_code=status)


def _error(request: Request, principal: Principal | None, exc: ProblemError) -> HTMLResponse:
    return _page("error.html.j2", request, principal, status=exc.problem.status, problem=exc.problem)


@router.get("/login")
async def login_form(request: Request, next: str | None = None) -> HTMLResponse:
    return _page("login.html.j2", request, None, next=safe_next(next))


@router.post("/login")
async def login(request: Request):
    form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
    token, next_path = form.get("token", "").strip(), safe_next(form.get("next"))
    if not token or request.app.state.tokens.lookup(token) is None:
        return _page("login.html.j2", request, None, status=401, next=next_path, failed=True)
    response = RedirectResponse(next_path, status_code=303)
    set_session(response, token, secure=request.url.scheme == "https")
    return response


@router.post("/logout")
async def logout() -> RedirectResponse:
    response = RedirectResponse("/ui/login", status_code=303)
    clear_session(response)
    return response


@router.get("/")
async def dashboard(request: Request, principal: UiPrincipalDep, pool: PoolDep, policies: PoliciesDep,
                    week: date | None = None) -> HTMLResponse:
    """The scorecard of an ISO week (this one by default) for those who may read reports."""
    card = None
    if principal.kind != "rep":
        policy = await policies.current()
        try:
            start = week and iso_week(week, policy.calendars.company_timezone).start.date()
            card = await current_scorecard(pool, policy, days_period(policy, start, None))
        except (ProblemError, OverflowError):
            return _error(request, principal, ProblemError(422, "Invalid parameter", "week: not a usable day"))
    return _page("dashboard.html.j2", request, principal, board=await load_dashboard(pool, principal), card=card)


@router.get("/leads")
async def leads(request: Request, principal: UiPrincipalDep, pool: PoolDep, policies: PoliciesDep,
                cursor: str | None = None) -> HTMLResponse:
    chosen = {k: request.query_params.get(k, "") for k in _FILTERS}
    context = dict(chosen=chosen, stages=sorted(ALL_STAGES), versions=sorted(policies.versions))
    try:
        filters = LeadFilters.model_validate({k: v for k, v in chosen.items() if v})
    except ValidationError as exc:
        problems = "; ".join(f"{e['loc'][0]}: {e['msg']}" for e in exc.errors())
        return _page("leads.html.j2", request, principal, status=422, page=None, error=problems, **context)
    try:
        page = await query_leads(pool, principal, filters, limit=50, cursor=cursor)
    except ProblemError as exc:
        return _error(request, principal, exc)
    older = None
    if page.next_cursor:
        older = "/ui/leads?" + urlencode({**{k: v for k, v in chosen.items() if v}, "cursor": page.next_cursor})
    return _page("leads.html.j2", request, principal, page=page, older=older, error=None, **context)


@router.get("/leads/{lead_id}")
async def lead(lead_id: str, request: Request, principal: UiPrincipalDep, temporal: TemporalDep) -> HTMLResponse:
    try:
        state = await _state(temporal.get_workflow_handle(workflow_id(lead_id)), lead_id)
        _may_read(principal, state)
    except ProblemError as exc:
        return _error(request, principal, exc)
    entries = await timeline(temporal, workflow_id(lead_id), state)
    return _page("lead.html.j2", request, principal, state=state, entries=entries)


@router.get("/policies/{version}")
async def policy(version: str, request: Request, principal: UiPrincipalDep, policies: PoliciesDep) -> HTMLResponse:
    if version not in policies.versions:
        return _error(request, principal, ProblemError(404, "Not found", f"no policy version {version!r}"))
    return HTMLResponse(render_policy(policies.get(version), "html"))


def install(app: FastAPI) -> None:
    """Mount the pages; a page asked for without a session goes to the login form."""

    @app.exception_handler(LoginRequired)
    async def _login(_: Request, exc: LoginRequired) -> RedirectResponse:
        return RedirectResponse(login_url(exc.next_path), status_code=303)

    app.include_router(router)
