"""A policy version's release status: the sign-offs it needs (sla_policies/signoff.py),
the signatures it has, and what is still missing before RevOps may activate it."""

from __future__ import annotations

from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel

from api import policy_store
from api.policy_store import BUNDLED
from readmodel import policies
from readmodel.policies import StoredPolicy
from sla_policies.signoff import Signature, missing_roles, required_signoffs


class RequiredRole(BaseModel):
    role: str
    reason: str


class SignatureRecord(BaseModel):
    role: str
    principal_id: str
    content_hash: str
    signed_at: str
    counts: bool  # given on this version's content


class ReleaseStatus(BaseModel):
    version: str
    content_hash: str
    compared_with: str | None  # the version in force the change is measured against
    changes: list[str]
    exempt: bool  # a version shipped with the code (reviewed in the repository) needs no signatures
    required: list[RequiredRole]
    signatures: list[SignatureRecord]
    missing: list[str]


async def _in_force_besides(pool: AsyncConnectionPool, version: str) -> StoredPolicy | None:
    """The version a release is compared with: the active one, or, for the active version
    itself, the one active before it."""
    async with pool.connection() as conn, conn.cursor() as cur:
        await cur.execute("SELECT version FROM policies WHERE version <> %s AND status IN ('active', 'retired')"
                          " AND activated_at IS NOT NULL ORDER BY (status = 'active') DESC, activated_at DESC"
                          " LIMIT 1", (version,))
        row = await cur.fetchone()
    return await policies.get_stored(pool, row[0]) if row else None


async def release_status(pool: AsyncConnectionPool, stored: StoredPolicy) -> ReleaseStatus:
    current = await _in_force_besides(pool, stored.version)
    required = required_signoffs(stored.policy, current.policy if current else None)
    signatures: list[Signature] = await policy_store.signatures(pool, stored.version)
    exempt = stored.deployed_by == BUNDLED
    return ReleaseStatus(
        version=stored.version, content_hash=stored.content_hash,
        compared_with=current.version if current else None, changes=list(stored.policy.changes), exempt=exempt,
        required=[RequiredRole(role=r.role, reason=r.reason) for r in required],
        signatures=[SignatureRecord(**s.__dict__, counts=s.content_hash == stored.content_hash) for s in signatures],
        missing=[] if exempt else missing_roles(required, signatures, stored.content_hash))
