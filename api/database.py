"""The API's PostgreSQL pool, with deadlines on everything that can hang.

A frozen PostgreSQL (SIGSTOP, a stuck disk, a network partition) accepts TCP connections
and then never answers: without deadlines every read-model request would wait for the
whole outage. Three bounds keep the answer a 503 within seconds:
- `connect_timeout`: a new connection that gets no answer fails;
- the pool's `timeout`: a request waiting for a free connection gives up;
- a client-side statement deadline (`DeadlineConnection`): the server's own
  `statement_timeout` (also set) cannot fire in a frozen server, so the client stops
  waiting, closes the connection (its protocol state is unknown) and raises an
  `OperationalError`, which the API answers as 503 with Retry-After.
"""

from __future__ import annotations

from psycopg import AsyncConnection, OperationalError, errors
from psycopg_pool import AsyncConnectionPool

CONNECT_TIMEOUT_S = 3
STATEMENT_TIMEOUT_S = 3.0  # the default of HANDOFF_DB_DEADLINE_S (infra/settings.py)
POOL_WAIT_OVER_DEADLINE = 5 / 3  # a request waits for a free connection a little longer than one round trip


class DeadlineConnection(AsyncConnection):
    """Every round trip of this connection ends within `deadline_s` seconds."""

    deadline_s: float = STATEMENT_TIMEOUT_S

    async def wait(self, gen, interval: float = 0.1, timeout: float | None = None):
        try:
            return await super().wait(gen, interval=interval, timeout=timeout or self.deadline_s)
        except errors._WaitTimeout:
            await self.close()
            raise OperationalError(f"PostgreSQL did not answer within {self.deadline_s:g} s") from None


def api_pool(database_url: str, *, max_size: int = 10, deadline_s: float = STATEMENT_TIMEOUT_S) -> AsyncConnectionPool:
    """Not opened yet: the app's lifespan opens and closes it. `deadline_s` bounds each
    round trip (client side and as the server's statement_timeout)."""
    connection = type("DeadlineConnection", (DeadlineConnection,), {"deadline_s": deadline_s})
    return AsyncConnectionPool(
        database_url, min_size=1, max_size=max_size, open=False, connection_class=connection,
        kwargs={"connect_timeout": CONNECT_TIMEOUT_S, "options": f"-c statement_timeout={int(deadline_s * 1000)}"},
        # A connection broken by a restart is noticed before a request uses it.
        timeout=deadline_s * POOL_WAIT_OVER_DEADLINE, check=AsyncConnectionPool.check_connection)
