"""A frozen PostgreSQL (every server process SIGSTOPped: it accepts connections and never
answers) on the real stack: read-model requests answer 503 with Retry-After within
seconds instead of hanging for the whole outage, and everything works again after SIGCONT."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from activities.migrations import apply_migrations
from tests.faults import StoppablePostgres
from tests.lifecycle import demo_request, seed_roster
from tests.stack import api_server, auth, dev_server, poll

pytestmark = pytest.mark.asyncio

# The API's deadlines answer in about 3-4 s (the production default, api/database.py); the
# bound here only has to tell "answered" from "hung for the outage" on a loaded machine.
ANSWERED_WITHIN_S = 12


@pytest.fixture(scope="module")
async def frozen_stack(tmp_path_factory):
    pg = StoppablePostgres(tmp_path_factory.mktemp("pg-frozen") / "data")
    apply_migrations(pg.url)
    seed_roster(pg.url)
    async with dev_server() as env, api_server(env.client, pg.url, task_queue="frozen") as http:
        yield pg, http


async def _timed(request) -> tuple[httpx.Response, float]:
    started = asyncio.get_running_loop().time()
    response = await request
    return response, asyncio.get_running_loop().time() - started


async def test_a_frozen_postgres_is_a_503_with_retry_after_within_seconds(frozen_stack):
    pg, http = frozen_stack
    for _ in range(3):  # the pool holds live connections that the freeze will strand
        assert (await http.get("/v1/leads")).status_code == 200
    frozen = pg.freeze()
    try:
        checks = [
            http.get("/v1/leads"),
            http.get("/v1/reps", headers=auth("ops")),
            http.get("/v1/reports/funnel", headers=auth("ops")),
            http.post("/v1/leads", json=demo_request().model_dump(mode="json", exclude_none=True),
                      headers={"Idempotency-Key": "frozen-1"}),
            http.get("/readyz"),
        ]
        for request in checks:
            response, took = await _timed(request)
            assert response.status_code == 503, response.text
            assert int(response.headers["retry-after"]) > 0
            assert took < ANSWERED_WITHIN_S, f"{response.request.url} took {took:.1f} s"
    finally:
        pg.thaw(frozen)

    async def listed():
        return (await http.get("/v1/leads")).status_code

    await poll(listed, lambda status: status == 200, timeout=60)
    assert (await http.get("/readyz")).status_code == 200
