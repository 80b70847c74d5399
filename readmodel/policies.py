"""Stored policy versions (`policies`, migration 0005): the records, one version with its
document, and the active version. Deploying and activating are the API's
(`api/policy_store.py`)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from psycopg.rows import class_row, dict_row
from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel

from sla_policies.loader import version_key
from sla_policies.model import Policy

PolicyStatus = Literal["draft", "active", "retired"]

_COLUMNS = ("version, status, content_hash, deployed_by, deployed_at, activated_by, activated_at,"
            " (parsed->>'effective_date')::date AS effective_date")


class PolicyRecord(BaseModel):
    version: str
    status: PolicyStatus
    effective_date: date | None = None
    content_hash: str
    deployed_by: str
    deployed_at: datetime
    activated_by: str | None = None
    activated_at: datetime | None = None


class StoredPolicy(PolicyRecord):
    document: str  # the text as deployed (YAML or JSON)
    policy: Policy


async def list_policies(pool: AsyncConnectionPool) -> list[PolicyRecord]:
    async with pool.connection() as conn, conn.cursor(row_factory=class_row(PolicyRecord)) as cur:
        await cur.execute(f"SELECT {_COLUMNS} FROM policies")
        rows = await cur.fetchall()
    return sorted(rows, key=lambda r: version_key(r.version))


async def get_record(pool: AsyncConnectionPool, version: str) -> PolicyRecord | None:
    async with pool.connection() as conn, conn.cursor(row_factory=class_row(PolicyRecord)) as cur:
        await cur.execute(f"SELECT {_COLUMNS} FROM policies WHERE version = %s", (version,))
        return await cur.fetchone()


async def get_stored(pool: AsyncConnectionPool, version: str) -> StoredPolicy | None:
    async with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(f"SELECT {_COLUMNS}, document, parsed::text AS parsed FROM policies WHERE version = %s",
                          (version,))
        row = await cur.fetchone()
    return None if row is None else _stored(row)


def _stored(row: dict) -> StoredPolicy:
    fields = {k: v for k, v in row.items() if k != "parsed"}
    return StoredPolicy(**fields, policy=Policy.model_validate_json(row["parsed"]))


async def stored_hashes(pool: AsyncConnectionPool) -> list[tuple[str, str]]:
    """(version, content hash) of every stored version: cheap, to see what is new."""
    async with pool.connection() as conn, conn.cursor() as cur:
        await cur.execute("SELECT version, content_hash FROM policies")
        return [(version, digest) for version, digest in await cur.fetchall()]


async def active_version(pool: AsyncConnectionPool) -> str | None:
    async with pool.connection() as conn, conn.cursor() as cur:
        await cur.execute("SELECT version FROM policies WHERE status = 'active'")
        row = await cur.fetchone()
    return row[0] if row else None
