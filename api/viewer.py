"""Each person's own settings for the pages, stored server-side per principal id: today
the time zone times are shown in (none = the browser's own). `GET/PUT /v1/me/settings`."""

from __future__ import annotations

from fastapi import APIRouter
from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel, ConfigDict

from api.auth import PrincipalDep
from api.deps import PoolDep
from sla_policies.lead import Timezone

router = APIRouter(prefix="/v1/me", tags=["settings"])


class ViewerSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    timezone: Timezone | None = None  # IANA zone; None: the browser's zone


async def load_settings(pool: AsyncConnectionPool | None, principal_id: str) -> ViewerSettings:
    if pool is None:
        return ViewerSettings()
    async with pool.connection() as conn:
        row = await (await conn.execute(
            "SELECT timezone FROM viewer_settings WHERE principal_id = %s", (principal_id,))).fetchone()
    return ViewerSettings(timezone=row[0] if row else None)


async def save_settings(pool: AsyncConnectionPool, principal_id: str, settings: ViewerSettings) -> ViewerSettings:
    async with pool.connection() as conn:
        await conn.execute(
            "INSERT INTO viewer_settings (principal_id, timezone) VALUES (%s, %s) ON CONFLICT (principal_id)"
            " DO UPDATE SET timezone = EXCLUDED.timezone, updated_at = now()", (principal_id, settings.timezone))
    return settings


@router.get("/settings", response_model=ViewerSettings)
async def get_settings(principal: PrincipalDep, pool: PoolDep) -> ViewerSettings:
    return await load_settings(pool, principal.id)


@router.put("/settings", response_model=ViewerSettings)
async def put_settings(body: ViewerSettings, principal: PrincipalDep, pool: PoolDep) -> ViewerSettings:
    """`{"timezone": "Europe/Paris"}`; `{"timezone": null}` goes back to the browser's zone."""
    return await save_settings(pool, principal.id, body)
