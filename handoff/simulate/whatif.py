"""The recalibration what-if (docs/domain.md §12.5): a quarter's own leads, as the read model
recorded them, replayed through the core engine under the current policy and under each
proposal, measured side by side (`sla_policies.recalibration_whatif`).

The replay is the simulator's: the same driver and core engine as `handoff simulate`, fed
the recorded intakes and the recorded actions as a script (`replay`), with nobody else
acting. So the two runs differ only by the policy: a lead the proposal keeps out of MQL has
its recorded SDR actions refused; a lead it lets in that was never worked stays unworked
(both counted on each side).
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

from handoff.simulate.driver import RunResult
from handoff.simulate.engines import run_simulation
from handoff.simulate.replay import Replay, replay_of
from handoff.simulate.team import default_team
from sla_policies.facts import Period, entered
from sla_policies.model import Policy
from sla_policies.recalibration import Proposal
from sla_policies.recalibration_whatif import Side, WhatIf, side, what_if
from sla_policies.state import LeadState

TAIL = timedelta(days=7)  # after the last recorded action: the clocks it left running come due


def _run(policy: Policy, replay: Replay) -> RunResult:
    return asyncio.run(run_simulation(policy, replay.leads, engine="core", team=default_team(), acting=False,
                                      script=replay.script, tail=TAIL))


def _side(policy: Policy, result: RunResult, period: Period, acted: set[str]) -> Side:
    records = result.records
    unworked = sum(entered(r, "mql") is not None and r.lead_id not in acted for r in records)
    return side(policy, records, period, as_of=result.end, refused=len(result.refused), unworked=unworked)


def run_what_if(policy: Policy, proposals: list[tuple[Proposal, Policy]], states: list[LeadState], period: Period,
                skipped: int = 0) -> list[WhatIf]:
    """One what-if per proposal (its policy: the current one with that proposal applied),
    over `states`, the leads that arrived in `period`. CPU-bound: seconds per thousand leads."""
    if not proposals:
        return []
    began = time.monotonic()
    replay = replay_of(states)
    acted = {row.lead_id for row in replay.script if row.action != "event"}
    current = _side(policy, _run(policy, replay), period, acted)
    base_seconds = time.monotonic() - began
    results = []
    for proposal, proposed_policy in proposals:
        started = time.monotonic()
        proposed = _side(proposed_policy, _run(proposed_policy, replay), period, acted)
        results.append(what_if(proposal.acv_tier, proposal.expected, current, proposed, leads=len(replay.leads),
                               skipped=skipped, approximations=replay.approximations,
                               computed_at=datetime.now(UTC), seconds=base_seconds + time.monotonic() - started))
    return results
