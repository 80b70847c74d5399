"""Policy versions in PostgreSQL (`policies`, migration 0005): deploy and activate (the
readers are `readmodel.policies`).

A stored version is immutable: its identity is the SHA-256 of the policy's canonical JSON
(`sla_policies.pinned.content_hash`, the hash a lead pins it by),
so the same policy sent again (as YAML or JSON, reformatted) is the same deployment, and a
different document under an existing version is a conflict, never an overwrite.
"""

from __future__ import annotations

from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from readmodel.policies import PolicyRecord, active_version, get_record
from sla_policies.loader import version_key
from sla_policies.model import Policy
from sla_policies.pinned import content_hash
from sla_policies.signoff import Signature

BUNDLED = "bundled"  # deployed_by of the files shipped in sla_policies/versions/


class VersionConflict(Exception):
    """The version exists with a different document."""

    def __init__(self, version: str, stored_hash: str, new_hash: str):
        super().__init__(f"policy {version} is already deployed with a different document "
                         f"(stored sha256 {stored_hash[:12]}, this one {new_hash[:12]}); "
                         f"a deployed version never changes: give the new document a new version")
        self.version = version


async def deploy(pool: AsyncConnectionPool, document: str, policy: Policy, by: str) -> tuple[PolicyRecord, bool]:
    """Store a validated policy as a draft; returns (record, created). Idempotent for the
    same policy; VersionConflict for a different one under the same version."""
    digest = content_hash(policy)
    async with pool.connection() as conn, conn.transaction():
        async with conn.cursor() as cur:
            await cur.execute(
                "INSERT INTO policies (version, status, document, parsed, content_hash, deployed_by)"
                " VALUES (%s, 'draft', %s, %s, %s, %s) ON CONFLICT (version) DO NOTHING",
                (policy.version, document, Jsonb(policy.model_dump(mode="json")), digest, by))
            created = cur.rowcount == 1
            await cur.execute("SELECT content_hash FROM policies WHERE version = %s", (policy.version,))
            row = await cur.fetchone()
            assert row is not None  # inserted or already there, in this transaction
            stored = row[0]
    if stored != digest:
        raise VersionConflict(policy.version, stored, digest)
    record = await get_record(pool, policy.version)
    assert record is not None
    return record, created


async def activate(pool: AsyncConnectionPool, version: str, by: str) -> PolicyRecord | None:
    """Make `version` the one new leads use; the previous active version is retired.
    None when the version does not exist. Activating the active version changes nothing."""
    async with pool.connection() as conn, conn.transaction():
        async with conn.cursor() as cur:
            # One activation at a time across API replicas: the row locks order them.
            await cur.execute("SELECT version, status FROM policies WHERE version = %s"
                              " OR status = 'active' FOR UPDATE", (version,))
            rows: dict[str, str] = dict(await cur.fetchall())
            if version not in rows:
                return None
            if rows[version] != "active":
                await cur.execute("UPDATE policies SET status = 'retired' WHERE status = 'active'")
                await cur.execute("UPDATE policies SET status = 'active', activated_by = %s, activated_at = now()"
                                  " WHERE version = %s", (by, version))
    return await get_record(pool, version)


async def signatures(pool: AsyncConnectionPool, version: str) -> list[Signature]:
    async with pool.connection() as conn, conn.cursor() as cur:
        await cur.execute("SELECT role, principal_id, content_hash, signed_at FROM policy_signoffs"
                          " WHERE version = %s ORDER BY signed_at, role", (version,))
        return [Signature(role=r, principal_id=p, content_hash=h, signed_at=at.isoformat())
                for r, p, h, at in await cur.fetchall()]


async def sign(pool: AsyncConnectionPool, version: str, role: str, principal_id: str, digest: str) -> bool:
    """Record `principal_id`'s signature as `role` on `version` with the content hash they
    saw; True when recorded now, False when that role had already signed (kept, not replaced)."""
    async with pool.connection() as conn, conn.cursor() as cur:
        await cur.execute("INSERT INTO policy_signoffs (version, role, principal_id, content_hash)"
                          " VALUES (%s, %s, %s, %s) ON CONFLICT (version, role) DO NOTHING",
                          (version, role, principal_id, digest))
        return cur.rowcount == 1


class BundledPolicyConflict(RuntimeError):
    pass


async def sync_bundled(pool: AsyncConnectionPool, bundled: list[tuple[str, Policy]]) -> None:
    """Start-up: store every bundled file (oldest first) and, on a fresh database, activate
    the newest. A bundled file never replaces a different stored document of its version."""
    for document, policy in bundled:
        try:
            await deploy(pool, document, policy, BUNDLED)
        except VersionConflict as exc:
            raise BundledPolicyConflict(
                f"bundled policy file for version {policy.version} differs from the stored document of "
                f"that version: {exc}") from None
    if bundled and await active_version(pool) is None:
        newest = max((p for _, p in bundled), key=lambda p: (p.effective_date, version_key(p.version)))
        await activate(pool, newest.version, BUNDLED)
