"""Server-rendered pages for managers (Jinja2, no build step): the dashboard, the lead
list with filters, a lead's timeline with its SLA clocks, and the SLA document. Each page
reuses the API's own read path; errors come back as pages, not problem documents."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode
from zoneinfo import ZoneInfo

import psycopg
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from psycopg_pool import PoolTimeout
from pydantic import ValidationError

from api.auth import Principal
from api.charts import trend_chart
from api.dashboard import load_dashboard
from api.deps import PoliciesDep, PoolDep, TemporalDep
from api.history import timeline
from api.pages import error_page, page
from api.problems import ProblemError
from api.recalibration import overdue_quarter, previous_quarter, quarter_of, recalibration, run_what_ifs
from api.routers.lead_list import LeadFilters, query_leads
from api.routers.leads import _state, workflow_id
from api.routers.reports import current_scorecard, days_period, load_ladder
from api.scorecards import load_report, load_roster, load_trend
from api.trend_svg import sparkline
from api.trends import weekly_trends
from api.ui_auth import (
    COOKIE,
    LoginRequired,
    UiPrincipalDep,
    clear_session,
    close_session,
    login_url,
    open_session,
    safe_next,
    same_origin,
    set_session,
)
from api.visibility import require_read
from readmodel.connector_inbox import lead_sync_state
from sla_policies.document import render_policy
from sla_policies.model.transitions import ALL_STAGES
from sla_policies.recalibration import quarter as quarter_of_label
from sla_policies.scorecard import iso_week

router = APIRouter(prefix="/ui", include_in_schema=False)

_FILTERS = ("stage", "owner", "tier", "breached", "policy_version")


@router.get("/login")
async def login_form(request: Request, next: str | None = None) -> HTMLResponse:
    return page("login.html.j2", request, None, next=safe_next(next))


@router.post("/login", dependencies=[Depends(same_origin)])
async def login(request: Request, pool: PoolDep):
    try:
        text = (await request.body()).decode()
    except UnicodeDecodeError:
        return page("login.html.j2", request, None, status=400, next="/ui/", failed=True)
    form = {k: v[0] for k, v in parse_qs(text).items()}
    token, next_path = form.get("token", "").strip(), safe_next(form.get("next"))
    principal = request.app.state.tokens.lookup(token) if token else None
    if principal is None:
        return page("login.html.j2", request, None, status=401, next=next_path, failed=True)
    response = RedirectResponse(next_path, status_code=303)
    set_session(response, await open_session(pool, token, principal), secure=request.url.scheme == "https")
    return response


@router.post("/logout", dependencies=[Depends(same_origin)])
async def logout(request: Request, pool: PoolDep) -> RedirectResponse:
    session_id = request.cookies.get(COOKIE)
    if session_id:
        await close_session(pool, session_id)  # the id is dead even if the cookie was copied
    response = RedirectResponse("/ui/login", status_code=303)
    clear_session(response)
    return response


@router.get("/")
async def dashboard(request: Request, principal: UiPrincipalDep, pool: PoolDep, policies: PoliciesDep,
                    week: date | None = None) -> HTMLResponse:
    """The scorecard of an ISO week (this one by default) for those who may read reports."""
    card, trends = None, []
    if principal.kind != "rep":
        policy = await policies.current()
        try:
            start = week and iso_week(week, policy.calendars.company_timezone).start.date()
            card = await current_scorecard(pool, policy, days_period(policy, start, None), reader=principal)
        except (ProblemError, OverflowError):
            return error_page(request, principal, ProblemError(422, "Invalid parameter", "week: not a usable day"))
        trends = await weekly_trends(pool, policy, card.period.start.date(), datetime.now(UTC), reader=principal)
    overdue = None
    if principal.kind == "revops":
        policy = await policies.current()
        overdue = await overdue_quarter(pool, datetime.now(ZoneInfo(policy.calendars.company_timezone)).date())
    return page("dashboard.html.j2", request, principal, board=await load_dashboard(pool, principal), card=card,
                 trends=trends, trend_chart=trend_chart, review_overdue=overdue)


@router.get("/recalibration")
async def recalibration_page(request: Request, principal: UiPrincipalDep, pool: PoolDep, policies: PoliciesDep,
                             quarter: str | None = None) -> HTMLResponse:  # noqa: A002 - the page's word
    """Per ACV tier, this quarter against the one before, the flags, and the proposed draft."""
    if principal.kind not in ("revops", "executive"):
        return error_page(request, principal, ProblemError(403, "Forbidden", "the recalibration is for RevOps and "
                                                                         "the executives"))
    policy = await policies.current()
    today = datetime.now(ZoneInfo(policy.calendars.company_timezone)).date()
    try:
        report = await recalibration(pool, policy, quarter or previous_quarter(quarter_of(today)), today)
    except ValueError as exc:
        return error_page(request, principal, ProblemError(422, "Invalid parameter", str(exc)))
    return page("recalibration.html.j2", request, principal, report=report)


@router.post("/recalibration/{quarter}/what-if", dependencies=[Depends(same_origin)], response_model=None)
async def recalibration_what_if(quarter: str, request: Request, principal: UiPrincipalDep,  # noqa: A002
                                pool: PoolDep, policies: PoliciesDep) -> HTMLResponse | RedirectResponse:
    """RevOps runs the proposals' what-if from the page, then sees it there."""
    runner = request.app.state.what_if
    if principal.kind != "revops" or runner is None:
        return error_page(request, principal, ProblemError(403 if runner else 503, "Forbidden" if runner else
                                                           "Service unavailable", "RevOps runs the what-if, on a"
                                                           " process started with the simulator"))
    policy = await policies.current()
    try:
        q = quarter_of_label(quarter, policy.calendars.company_timezone)
    except ValueError as exc:
        return error_page(request, principal, ProblemError(422, "Invalid parameter", str(exc)))
    await run_what_ifs(pool, policy, q.label, datetime.now(ZoneInfo(policy.calendars.company_timezone)).date(), runner)
    return RedirectResponse(f"/ui/recalibration?quarter={q.label}", status_code=303)


@router.get("/leads")
async def leads(request: Request, principal: UiPrincipalDep, pool: PoolDep, policies: PoliciesDep,
                cursor: str | None = None) -> HTMLResponse:
    chosen = {k: request.query_params.get(k, "") for k in _FILTERS}
    context: dict[str, Any] = dict(chosen=chosen, stages=sorted(ALL_STAGES), versions=sorted(policies.versions))
    try:
        filters = LeadFilters.model_validate({k: v for k, v in chosen.items() if v})
    except ValidationError as exc:
        problems = "; ".join(f"{e['loc'][0]}: {e['msg']}" for e in exc.errors())
        return page("leads.html.j2", request, principal, status=422, page=None, error=problems, **context)
    try:
        listing = await query_leads(pool, principal, filters, limit=50, cursor=cursor)
    except ProblemError as exc:
        return error_page(request, principal, exc)
    older = None
    if listing.next_cursor:
        older = "/ui/leads?" + urlencode({**{k: v for k, v in chosen.items() if v}, "cursor": listing.next_cursor})
    return page("leads.html.j2", request, principal, page=listing, older=older, error=None, **context)


@router.get("/leads/{lead_id}")
async def lead(lead_id: str, request: Request, principal: UiPrincipalDep, temporal: TemporalDep) -> HTMLResponse:
    try:
        state = await _state(temporal.get_workflow_handle(workflow_id(lead_id)), lead_id)
        require_read(principal, state)
    except ProblemError as exc:
        return error_page(request, principal, exc)
    entries = await timeline(temporal, workflow_id(lead_id), state, request.app.state.pool)
    crm_sync = None  # None: unknown (no read model just now); []: not linked to a CRM record
    if request.app.state.pool is not None:
        try:
            crm_sync = await lead_sync_state(request.app.state.pool, lead_id)
        except (psycopg.Error, PoolTimeout):
            pass  # the page still shows the lead; only its CRM sync line is missing
    return page("lead.html.j2", request, principal, state=state, entries=entries, crm_sync=crm_sync)


TREND_WEEKS = 12


def _week(week: date | None) -> str:
    return f"?week={week.isoformat()}" if week else ""


async def _scorecard_page(request: Request, principal: Principal, pool, policies, *, heading: str, side=None,
                          by=None, group: str | None = None, links=(), links_title: str = "",
                          week: date | None = None) -> HTMLResponse:
    policy = await policies.current()
    try:
        start = week and iso_week(week, policy.calendars.company_timezone).start.date()
        period = days_period(policy, start, None)
        report = await load_report(pool, principal, policy, period, side=side, by=by)
        trend = await load_trend(pool, principal, policy, weeks=TREND_WEEKS, side=side, by=by, group=group,
                                 until=period)
    except OverflowError:
        return error_page(request, principal, ProblemError(422, "Invalid parameter", "week: not a usable day"))
    except ProblemError as exc:
        return error_page(request, principal, exc)
    if by is not None:
        card = next((g for g in report.groups if g.id == group), None)
        if card is None:
            return error_page(request, principal, ProblemError(404, "Not found", f"no {by} {group!r} with figures"))
        metrics, tracked, sides = card.metrics, card.tracked, card.sides
    else:
        metrics, tracked, sides = report.metrics, report.tracked, report.sides
    sparks = {m.id: sparkline(trend.get(m.id, []), m.target, m.red) for m in [*metrics, *tracked]}
    return page("scorecard.html.j2", request, principal, heading=heading, report=report, metrics=metrics,
                 tracked=tracked, sides=sides, sparks=sparks, weeks=TREND_WEEKS, links=list(links),
                 links_title=links_title)


@router.get("/scorecard/{side}")
async def side_scorecard(side: str, request: Request, principal: UiPrincipalDep, pool: PoolDep,
                         policies: PoliciesDep, week: date | None = None) -> HTMLResponse:
    """Marketing's or sales' scorecard this week, with each metric's trend."""
    if side not in ("marketing", "sales"):
        return error_page(request, principal, ProblemError(404, "Not found", f"no side {side!r}"))
    if principal.kind == "rep":
        return error_page(request, principal, ProblemError(403, "Forbidden", "a rep sees only their own figures"))
    roster = await load_roster(pool)
    team = principal.team or principal.id
    teams = sorted({r.team for r in roster.values() if r.team and (principal.kind != "manager" or r.team == team)})
    return await _scorecard_page(request, principal, pool, policies, heading=f"{side.capitalize()} scorecard",
                                 side=side, links=[(f"/ui/teams/{t}" + _week(week), t) for t in teams],
                                 links_title="Teams", week=week)


@router.get("/reps/{rep_id}")
async def rep_scorecard(rep_id: str, request: Request, principal: UiPrincipalDep, pool: PoolDep,
                        policies: PoliciesDep, week: date | None = None) -> HTMLResponse:
    return await _scorecard_page(request, principal, pool, policies, heading=f"Rep {rep_id}", by="rep", group=rep_id,
                                 week=week)


@router.get("/teams/{team_id}")
async def team_scorecard(team_id: str, request: Request, principal: UiPrincipalDep, pool: PoolDep,
                         policies: PoliciesDep, week: date | None = None) -> HTMLResponse:
    if principal.kind == "rep":
        return error_page(request, principal, ProblemError(403, "Forbidden", "a rep sees only their own figures"))
    roster = await load_roster(pool)
    members = sorted(r.rep_id for r in roster.values() if r.team == team_id)
    return await _scorecard_page(request, principal, pool, policies, heading=f"Team {team_id}", by="team",
                                 group=team_id, links=[(f"/ui/reps/{m}" + _week(week), m) for m in members],
                                 links_title="Reps", week=week)


@router.get("/patterns")
async def pattern_ladder(request: Request, principal: UiPrincipalDep, pool: PoolDep, policies: PoliciesDep,
                         week: date | None = None) -> HTMLResponse:
    if principal.kind == "rep":
        return error_page(request, principal, ProblemError(403, "Forbidden", "the pattern ladder is for managers"))
    board = await load_ladder(pool, await policies.current(), week)
    return page("patterns.html.j2", request, principal, board=board)


@router.get("/policies/{version}")
async def policy(version: str, request: Request, principal: UiPrincipalDep, policies: PoliciesDep) -> HTMLResponse:
    if version not in policies.versions:
        return error_page(request, principal, ProblemError(404, "Not found", f"no policy version {version!r}"))
    return HTMLResponse(render_policy(policies.get(version), "html"))


def install(app: FastAPI) -> None:
    """Mount the pages; a page asked for without a session goes to the login form."""

    @app.exception_handler(LoginRequired)
    async def _login(_: Request, exc: LoginRequired) -> RedirectResponse:
        return RedirectResponse(login_url(exc.next_path), status_code=303)

    app.mount("/ui/static", StaticFiles(directory=Path(__file__).parent.parent / "static"), name="ui-static")
    app.include_router(router)
    from api.routers import ui_daily

    app.include_router(ui_daily.router)
