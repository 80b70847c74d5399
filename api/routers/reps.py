"""The routing roster (RevOps): who takes leads, where, and how many."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from pydantic import BaseModel, ConfigDict, Field

from api.auth import PrincipalDep, require
from api.deps import PoolDep
from sla_policies.lead import Timezone

router = APIRouter(prefix="/v1/reps", tags=["roster"])


class RepIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=200)]
    role: Literal["sdr", "ae", "sdr_manager", "ae_manager", "vp_sales", "vp_marketing", "revops"]
    manager_id: str | None = None
    territories: list[Annotated[str, Field(pattern=r"^[A-Z]{2}$")]] = []
    acv_tiers: list[Literal["lt_10k", "10k_30k", "30k_75k", "75k_200k", "200k_plus"]] = []
    capacity: Annotated[int, Field(ge=0, le=100_000)] = 50
    available: bool = True
    timezone: Timezone = "America/New_York"
    email: str | None = None
    # The rep's user in each CRM, for the write-back of the lead owner: {"hubspot": owner id,
    # "salesforce": User Id}.
    crm_users: dict[Literal["hubspot", "salesforce"], Annotated[str, Field(min_length=1, max_length=64)]] = {}


class Rep(RepIn):
    rep_id: str
    open_leads: int = 0


@router.put("/{rep_id}", response_model=Rep)
async def put_rep(rep_id: str, rep: RepIn, principal: PrincipalDep, pool: PoolDep) -> Rep:
    require(principal, "revops")
    async with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        row = await (await cur.execute(
            """
            INSERT INTO reps (rep_id, name, role, manager_id, territories, acv_tiers, capacity, available, timezone, email,
                              crm_users)
            VALUES (%(rep_id)s, %(name)s, %(role)s, %(manager_id)s, %(territories)s, %(acv_tiers)s, %(capacity)s,
                    %(available)s, %(timezone)s, %(email)s, %(crm_users)s)
            ON CONFLICT (rep_id) DO UPDATE SET name = EXCLUDED.name, role = EXCLUDED.role,
                manager_id = EXCLUDED.manager_id, territories = EXCLUDED.territories, acv_tiers = EXCLUDED.acv_tiers,
                capacity = EXCLUDED.capacity, available = EXCLUDED.available, timezone = EXCLUDED.timezone,
                email = EXCLUDED.email, crm_users = EXCLUDED.crm_users, updated_at = now()
            RETURNING rep_id, name, role, manager_id, territories, acv_tiers, capacity, available, timezone, email,
                crm_users, open_leads
            """, {"rep_id": rep_id, **rep.model_dump(), "crm_users": Jsonb(rep.crm_users)})).fetchone()
    return Rep(**row)


@router.get("", response_model=list[Rep])
async def list_reps(principal: PrincipalDep, pool: PoolDep) -> list[Rep]:
    require(principal, "revops", "manager")
    async with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        rows = await (await cur.execute(
            "SELECT rep_id, name, role, manager_id, territories, acv_tiers, capacity, available, timezone, email,"
            " crm_users, open_leads FROM reps ORDER BY rep_id")).fetchall()
    return [Rep(**r) for r in rows]
