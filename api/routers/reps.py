"""The routing roster (RevOps): who takes leads, where, how many, and who is away until when."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from api.auth import PrincipalDep, require
from api.deps import PoolDep, TemporalDep
from api.wakeups import wake_held
from readmodel.roster import waits_for_rep
from sla_policies.lead import Timezone

router = APIRouter(prefix="/v1/reps", tags=["roster"])


class OutOfOffice(BaseModel):
    """An absence with an end: routing skips the rep while `from` <= now < `until`, and
    takes them back at `until` without anyone switching them on again."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, serialize_by_alias=True)

    from_: AwareDatetime = Field(alias="from")
    until: AwareDatetime

    @field_validator("until")
    @classmethod
    def _after_from(cls, until, info: ValidationInfo):
        start = info.data.get("from_")
        if start is not None and until <= start:
            raise ValueError("must be after from")
        return until


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
    out_of_office: OutOfOffice | None = None
    # The rep's user in each CRM, for the write-back of the lead owner: {"hubspot": owner id,
    # "salesforce": User Id}.
    crm_users: dict[Literal["hubspot", "salesforce"], Annotated[str, Field(min_length=1, max_length=64)]] = {}


class Rep(RepIn):
    rep_id: str
    open_leads: int = 0
    away_now: bool = False  # out of office at the moment of the answer


_COLUMNS = ("rep_id, name, role, manager_id, territories, acv_tiers, capacity, available, timezone, email,"
            " crm_users, open_leads, away_from, away_until,"
            " coalesce(away_from <= now() AND now() < away_until, false) AS away_now")


def _rep(row: dict) -> Rep:
    start, until = row.pop("away_from"), row.pop("away_until")
    away = OutOfOffice(from_=start, until=until) if start is not None else None
    return Rep(**row, out_of_office=away)


@router.put("/{rep_id}", response_model=Rep)
async def put_rep(rep_id: str, rep: RepIn, principal: PrincipalDep, pool: PoolDep, temporal: TemporalDep) -> Rep:
    """Create or replace a rep; leaving `out_of_office` out clears an absence. A rep who
    has room now wakes the capacity-held leads it covers, oldest first (docs/domain.md T11)."""
    require(principal, "revops")
    away = rep.out_of_office
    values = {"rep_id": rep_id, **rep.model_dump(exclude={"out_of_office"}),
              "away_from": away.from_ if away else None, "away_until": away.until if away else None,
              "crm_users": Jsonb(rep.crm_users)}
    async with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        row = await (await cur.execute(
            """
            INSERT INTO reps (rep_id, name, role, manager_id, territories, acv_tiers, capacity, available, timezone,
                              email, away_from, away_until, crm_users)
            VALUES (%(rep_id)s, %(name)s, %(role)s, %(manager_id)s, %(territories)s, %(acv_tiers)s, %(capacity)s,
                    %(available)s, %(timezone)s, %(email)s, %(away_from)s, %(away_until)s, %(crm_users)s)
            ON CONFLICT (rep_id) DO UPDATE SET name = EXCLUDED.name, role = EXCLUDED.role,
                manager_id = EXCLUDED.manager_id, territories = EXCLUDED.territories, acv_tiers = EXCLUDED.acv_tiers,
                capacity = EXCLUDED.capacity, available = EXCLUDED.available, timezone = EXCLUDED.timezone,
                email = EXCLUDED.email, away_from = EXCLUDED.away_from, away_until = EXCLUDED.away_until,
                crm_users = EXCLUDED.crm_users,
                updated_at = now()
            RETURNING """ + _COLUMNS, values)).fetchone()
        waiting = await waits_for_rep(cur, rep_id, datetime.now(UTC))
    assert row is not None  # INSERT ... ON CONFLICT DO UPDATE ... RETURNING always answers the row
    await wake_held(temporal, waiting)
    return _rep(row)


@router.get("", response_model=list[Rep])
async def list_reps(principal: PrincipalDep, pool: PoolDep) -> list[Rep]:
    require(principal, "revops", "manager")
    async with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        rows = await (await cur.execute(f"SELECT {_COLUMNS} FROM reps ORDER BY rep_id")).fetchall()
    return [_rep(r) for r in rows]
