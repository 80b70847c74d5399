"""Choosing the engine of a simulation run: the lifecycle core in memory (`core_engine`,
the default) or the real workflows on the time-skipping server (`temporal_engine`). Both
are driven by the same `driver.Simulation`, so they act on the same inputs at the same
instants."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from handoff.simulate.core_engine import CoreSimulation
from handoff.simulate.driver import Engine, RunResult
from handoff.simulate.rows import LeadRow, ScriptRow
from handoff.simulate.team import Team
from sla_policies.model import Policy


async def run_simulation(policy: Policy, leads: list[LeadRow], *, engine: Engine = "core", team: Team, acting: bool,
                         script: list[ScriptRow] | None = None, seed: int = 0, tail: timedelta = timedelta(days=30),
                         database_url: str | None = None) -> RunResult:
    kwargs: dict[str, Any] = {"team": team, "acting": acting, "script": script, "seed": seed, "tail": tail}
    if engine == "core":
        return await CoreSimulation(policy, leads, **kwargs).run()
    # Imported only when asked for: the time-skipping server's packages cost the core
    # engine's start-up time for nothing.
    from handoff.simulate.temporal_engine import TemporalSimulation

    if database_url is None:
        raise ValueError("the temporal engine needs a PostgreSQL server (database_url)")
    return await TemporalSimulation(policy, leads, database_url=database_url, **kwargs).run()
