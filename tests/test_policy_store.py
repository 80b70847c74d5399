"""Start-up storage of the bundled policy files in a fresh PostgreSQL database."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool

from activities.migrations import apply_migrations
from api import policy_store
from api.policy_store import BundledPolicyConflict
from readmodel import policies
from sla_policies.span import Span
from tests.policy_variants import faster_tier1, faster_tier1_text

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def fresh_pool(postgres_url):
    name = f"policies_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = psycopg.conninfo.make_conninfo(postgres_url, dbname=name)
    apply_migrations(url)
    async with AsyncConnectionPool(url, min_size=1, max_size=2) as pool:
        yield pool


def _bundled(version: str, **spans: str):
    return faster_tier1_text(version, **spans), faster_tier1(version, **spans)


async def test_fresh_database_activates_the_newest_bundled_version_once(fresh_pool):
    await policy_store.sync_bundled(fresh_pool, [_bundled("2026.9.0"), _bundled("2026.11.0")])
    status = {r.version: r.status for r in await policies.list_policies(fresh_pool)}
    assert status == {"2026.9.0": "draft", "2026.11.0": "active"}

    # RevOps activates the older one; a restart (even with a newer bundled file) keeps that choice.
    await policy_store.activate(fresh_pool, "2026.9.0", "ops")
    await policy_store.sync_bundled(fresh_pool, [_bundled("2026.9.0"), _bundled("2026.11.0"), _bundled("2027.2.0")])
    status = {r.version: r.status for r in await policies.list_policies(fresh_pool)}
    assert status == {"2026.9.0": "active", "2026.11.0": "retired", "2027.2.0": "draft"}


async def test_a_bundled_file_never_overwrites_a_different_stored_document(fresh_pool):
    await policy_store.sync_bundled(fresh_pool, [_bundled("2026.11.0")])
    before = await policies.get_stored(fresh_pool, "2026.11.0")
    with pytest.raises(BundledPolicyConflict, match=r"version 2026\.11\.0"):
        await policy_store.sync_bundled(fresh_pool, [_bundled("2026.11.0", target="20m")])
    after = await policies.get_stored(fresh_pool, "2026.11.0")
    assert after == before and after.policy.window("sdr_response.tier1").target == Span.parse("10m")
