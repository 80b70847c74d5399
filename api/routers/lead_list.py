"""`GET /v1/leads`: list and filter from the read model, with cursor paging."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Annotated, Literal

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
    # The earliest warning/due/breach instant still pending on the lead's open SLA clocks.
    next_due_at: datetime | None = None


class LeadPage(BaseModel):
    items: list[LeadSummary]
    next_cursor: str | None = None


Sort = Literal["-updated_at", "next_due_at"]
# The sort key column of each order; the lead id breaks ties so paging is stable.
_SORT_COLUMN = {"-updated_at": "updated_at", "next_due_at": "next_due_at"}


def _cursor(row: dict, sort: Sort) -> str:
    at = row[_SORT_COLUMN[sort]]
    key = [at.isoformat() if at else None, row["lead_id"]]
    # The newest-first cursor keeps its original shape, so links handed out before stay valid.
    payload = key if sort == "-updated_at" else [sort, *key]
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


def _decode(cursor: str, sort: Sort) -> tuple[datetime | None, str]:
    try:
        payload = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if sort != "-updated_at":
            if payload[0] != sort:
                raise ValueError("cursor of another sort")
            payload = payload[1:]
        at, lead_id = payload
        if at is None and sort == "-updated_at":
            raise ValueError("no key")
        instant = datetime.fromisoformat(at) if at is not None else None
        if (instant is not None and instant.tzinfo is None) or not isinstance(lead_id, str) \
                or bad_character(lead_id):
            raise ValueError("not a cursor of this API")
        return instant, lead_id
    except (ValueError, TypeError, IndexError):
        raise ProblemError(422, "Invalid request", "cursor is not one this API returned for this sort",
                           errors=[FieldError(path="cursor", message="invalid cursor")]) from None


class LeadFilters(BaseModel):
    """The filters of the lead list (the API's query parameters, the pages' form)."""

    stage: str | None = None
    owner: str | None = None
    tier: int | None = None
    breached: bool | None = None
    policy_version: str | None = None
    updated_since: datetime | None = None
    due_before: datetime | None = None  # leads with an SLA instant pending before this


async def query_leads(pool: AsyncConnectionPool, principal: Principal, filters: LeadFilters, *,
                      limit: int = 100, cursor: str | None = None, sort: Sort = "-updated_at") -> LeadPage:
    """Newest first (or the soonest pending SLA instant first), as the principal may see them."""
    where, args = sql_filter(principal)
    for name in ("stage", "owner", "tier", "breached", "policy_version"):
        value = getattr(filters, name)
        if value is not None:
            where.append(f"{name} = %({name})s")
            args[name] = value
    if filters.updated_since is not None:
        where.append("updated_at >= %(updated_since)s")
        args["updated_since"] = filters.updated_since
    if filters.due_before is not None:
        where.append("next_due_at < %(due_before)s")
        args["due_before"] = filters.due_before
    if cursor is not None:
        at, lead_id = _decode(cursor, sort)
        args.update(c_at=at, c_id=lead_id)
        if sort == "-updated_at":
            where.append("(updated_at, lead_id) < (%(c_at)s, %(c_id)s)")
        elif at is None:  # past the last lead with a pending instant: the rest, by id
            where.append("next_due_at IS NULL AND lead_id > %(c_id)s")
        else:
            where.append("((next_due_at, lead_id) > (%(c_at)s, %(c_id)s) OR next_due_at IS NULL)")
    order = ("updated_at DESC, lead_id DESC" if sort == "-updated_at"
             else "next_due_at ASC NULLS LAST, lead_id ASC")
    sql = ("SELECT lead_id, stage, score, tier, acv_tier, owner, policy_version, breached, lead_type, company,"
           " updated_at, next_due_at FROM leads" + (" WHERE " + " AND ".join(where) if where else "")
           + f" ORDER BY {order} LIMIT %(limit)s")
    args["limit"] = limit + 1
    async with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        rows = await (await cur.execute(sql, args)).fetchall()
    page, more = rows[:limit], len(rows) > limit
    return LeadPage(items=[LeadSummary(**r) for r in page], next_cursor=_cursor(page[-1], sort) if more else None)


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
    due_before: Annotated[AwareDatetime | None, Query(
        description="only leads with an SLA warning, due or breach instant pending before this")] = None,
    sort: Annotated[Sort, Query(
        description="`-updated_at` (newest first) or `next_due_at` (soonest pending SLA instant first)")]
    = "-updated_at",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: str | None = None,
) -> LeadPage:
    """Newest first, or at risk first with `sort=next_due_at`: the leads the principal may read
    (api/visibility.py); the people who owned a lead and their managers keep it in their list
    after it moves on."""
    filters = LeadFilters(stage=stage, owner=owner, tier=tier, breached=breached,
                          policy_version=policy_version, updated_since=updated_since, due_before=due_before)
    return await query_leads(pool, principal, filters, limit=limit, cursor=cursor, sort=sort)
