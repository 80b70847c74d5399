"""`GET /v1/leads`: list and filter from the read model, with cursor paging."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool
from pydantic import AwareDatetime, BaseModel

from api.auth import Principal, PrincipalDep
from api.deps import PoolDep
from api.problems import FieldError, ProblemError
from api.visibility import sql_filter
from sla_policies.validators import bad_character

router = APIRouter(prefix="/v1/leads", tags=["leads"])


class LeadSummary(BaseModel):
    lead_id: str
    stage: str
    score: int
    tier: int | None
    acv_tier: str | None
    owner: str | None
    policy_version: str
    breached: bool
    lead_type: str
    company: str | None
    updated_at: datetime


class LeadPage(BaseModel):
    items: list[LeadSummary]
    next_cursor: str | None = None


def _cursor(row: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps([row["updated_at"].isoformat(), row["lead_id"]]).encode()).decode()


def _decode(cursor: str) -> tuple[datetime, str]:
    try:
        at, lead_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        instant = datetime.fromisoformat(at)
        if instant.tzinfo is None or not isinstance(lead_id, str) or bad_character(lead_id):
            raise ValueError("not a cursor of this API")
        return instant, lead_id
    except (ValueError, TypeError):
        raise ProblemError(422, "Invalid request", "cursor is not one this API returned",
                           errors=[FieldError(path="cursor", message="invalid cursor")]) from None


class LeadFilters(BaseModel):
    """The filters of the lead list (the API's query parameters, the pages' form)."""

    stage: str | None = None
    owner: str | None = None
    tier: int | None = None
    breached: bool | None = None
    policy_version: str | None = None
    updated_since: datetime | None = None


async def query_leads(pool: AsyncConnectionPool, principal: Principal, filters: LeadFilters, *,
                      limit: int = 100, cursor: str | None = None) -> LeadPage:
    """Newest first, as the principal may see them."""
    where, args = sql_filter(principal)
    for name in ("stage", "owner", "tier", "breached", "policy_version"):
        value = getattr(filters, name)
        if value is not None:
            where.append(f"{name} = %({name})s")
            args[name] = value
    if filters.updated_since is not None:
        where.append("updated_at >= %(updated_since)s")
        args["updated_since"] = filters.updated_since
    if cursor is not None:
        at, lead_id = _decode(cursor)
        where.append("(updated_at, lead_id) < (%(c_at)s, %(c_id)s)")
        args.update(c_at=at, c_id=lead_id)
    sql = ("SELECT lead_id, stage, score, tier, acv_tier, owner, policy_version, breached, lead_type, company,"
           " updated_at FROM leads" + (" WHERE " + " AND ".join(where) if where else "")
           + " ORDER BY updated_at DESC, lead_id DESC LIMIT %(limit)s")
    args["limit"] = limit + 1
    async with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        rows = await (await cur.execute(sql, args)).fetchall()
    page, more = rows[:limit], len(rows) > limit
    return LeadPage(items=[LeadSummary(**r) for r in page], next_cursor=_cursor(page[-1]) if more else None)


@router.get("", response_model=LeadPage)
async def list_leads(
    principal: PrincipalDep,
    pool: PoolDep,
    stage: str | None = None,
    owner: str | None = None,
    tier: Annotated[int | None, Query(ge=1, le=3)] = None,
    breached: bool | None = None,
    policy_version: str | None = None,
    updated_since: AwareDatetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: str | None = None,
) -> LeadPage:
    """Newest first, the leads the principal may read (api/visibility.py): the people who
    owned a lead and their managers keep it in their list after it moves on."""
    filters = LeadFilters(stage=stage, owner=owner, tier=tier, breached=breached,
                          policy_version=policy_version, updated_since=updated_since)
    return await query_leads(pool, principal, filters, limit=limit, cursor=cursor)
