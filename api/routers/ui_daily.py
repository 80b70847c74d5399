"""The pages of daily use (issue 15): the clocks at risk per rep and per team (refreshing
by themselves), the charts a manager would rather look at than read, and the viewer's own
settings (their time zone)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Literal
from urllib.parse import parse_qs
from zoneinfo import available_timezones

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from api.at_risk import Scope, load_at_risk, may_view
from api.charts import bar_chart, funnel_chart
from api.deps import PoliciesDep, PoolDep
from api.pages import error_page, page
from api.problems import ProblemError
from api.routers.reports import days_period
from api.trends import breaches
from api.ui_auth import UiPrincipalDep
from api.viewer import ViewerSettings, save_settings
from readmodel.records import load_lead_records
from sla_policies.labels import stage_label
from sla_policies.scorecard import funnel, iso_week

router = APIRouter(prefix="/ui", include_in_schema=False)

Hours = Annotated[int, Query(ge=1, le=168)]
_FUNNEL_STAGES = ["inquiry", "mql", "sal", "sql", "opportunity"]


def _now() -> datetime:
    return datetime.now(UTC)


@router.get("/at-risk")
async def at_risk_home(request: Request, principal: UiPrincipalDep, pool: PoolDep, hours: Hours = 8):
    """A rep lands on their own clocks, a manager on their team's, RevOps on everyone's."""
    if principal.kind == "rep":
        return RedirectResponse(f"/ui/at-risk/reps/{principal.id}?hours={hours}", status_code=303)
    if principal.kind == "manager":
        return RedirectResponse(f"/ui/at-risk/teams/{principal.team or principal.id}?hours={hours}", status_code=303)
    return await _at_risk(request, principal, pool, Scope(), hours, fragment=False)


@router.get("/at-risk/reps/{rep_id}")
async def at_risk_rep(rep_id: str, request: Request, principal: UiPrincipalDep, pool: PoolDep, hours: Hours = 8,
                      fragment: bool = False) -> HTMLResponse:
    return await _at_risk(request, principal, pool, Scope(rep=rep_id), hours, fragment)


@router.get("/at-risk/teams/{team_id}")
async def at_risk_team(team_id: str, request: Request, principal: UiPrincipalDep, pool: PoolDep, hours: Hours = 8,
                       fragment: bool = False) -> HTMLResponse:
    return await _at_risk(request, principal, pool, Scope(team=team_id), hours, fragment)


async def _at_risk(request: Request, principal, pool, scope: Scope, hours: int, fragment: bool) -> HTMLResponse:
    if not may_view(principal, scope):
        return error_page(request, principal,
                          ProblemError(403, "Forbidden", f"{principal.id} may not see {scope.title()}"))
    now = _now()
    rows = await load_at_risk(pool, principal, scope, now, hours=hours)
    name = "at_risk_rows.html.j2" if fragment else "at_risk.html.j2"
    return page(name, request, principal, rows=rows, now=now, scope=scope, hours=hours)


@router.get("/charts")
async def charts(request: Request, principal: UiPrincipalDep, pool: PoolDep, policies: PoliciesDep,
                 week: date | None = None,
                 by: Literal["source", "acv_tier", "tier", "lead_type"] = "source") -> HTMLResponse:
    """The funnel by segment and the breaches by window and by owner, for one ISO week."""
    if principal.kind == "rep":
        return error_page(request, principal, ProblemError(403, "Forbidden", "reports are for managers and RevOps"))
    policy = await policies.current()
    try:
        start = week and iso_week(week, policy.calendars.company_timezone).start.date()
        period = days_period(policy, start, None)
    except (ProblemError, OverflowError):
        return error_page(request, principal, ProblemError(422, "Invalid parameter", "week: not a usable day"))
    records = await load_lead_records(pool, since=period.start, until=period.end)
    rows = funnel(policy, records, period, by)
    segments = [(r.segment, r.reached) for r in rows]
    names = {s: stage_label(s) for s in _FUNNEL_STAGES}
    by_window, by_owner = await breaches(pool, principal, period)
    return page("charts.html.j2", request, principal, period=period, by=by,
                 funnel=funnel_chart("funnel", f"Funnel by {by.replace('_', ' ')}: leads reaching each stage",
                                     segments, _FUNNEL_STAGES, names),
                 by_window=bar_chart("breaches-by-window", "Breaches by SLA window", by_window, color="#b3261e"),
                 by_owner=bar_chart("breaches-by-owner", "Breaches by owner", by_owner, color="#b3261e"))


@router.get("/settings")
async def settings_form(request: Request, principal: UiPrincipalDep, saved: bool = False) -> HTMLResponse:
    return page("settings.html.j2", request, principal, zones=sorted(available_timezones()), saved=saved,
                 error=None)


@router.post("/settings")
async def settings_save(request: Request, principal: UiPrincipalDep, pool: PoolDep):
    form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
    try:
        chosen = ViewerSettings(timezone=form.get("timezone") or None)
    except ValidationError:
        return page("settings.html.j2", request, principal, zones=sorted(available_timezones()), saved=False,
                     error=f"timezone: {form.get('timezone')!r} is not an IANA time zone", status=422)
    await save_settings(pool, principal.id, chosen)
    return RedirectResponse("/ui/settings?saved=true", status_code=303)
