"""How long a recalibration what-if takes (docs/api.md "Recalibration"): a quarter of N
generated leads (default 2,000) worked by the example team on the core engine stands in for
the read model's leads; then `run_what_if` replays them twice (current policy, and one
proposal: 30k_75k's MQL threshold 60 -> 65), as `POST /v1/recalibration/{quarter}/what-if`
does.

    python -m bench.recalibration_whatif [--leads 2000] [--seed 1]

Prints the what-if's wall time, its leads/s (leads x 2 runs / seconds) and the load average
before and after. Not a test: the figure depends on the machine and on what else runs on it."""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from datetime import timedelta
from pathlib import Path

from handoff.simulate.engines import run_simulation
from handoff.simulate.generate import generate_leads
from handoff.simulate.team import load_team
from handoff.simulate.whatif import run_what_if
from sla_policies.diff import FieldChange
from sla_policies.loader import default_policy
from sla_policies.recalibration import Proposal, draft
from sla_policies.scorecard import Period

EXAMPLE_TEAM = Path(__file__).resolve().parent.parent / "handoff" / "simulate" / "team.example.yaml"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    policy = default_policy()
    leads = generate_leads(args.leads, "2026Q3", args.seed)
    recorded = asyncio.run(run_simulation(policy, leads, team=load_team(EXAMPLE_TEAM), acting=True, seed=args.seed,
                                          tail=timedelta(days=14)))
    proposal = Proposal(acv_tier="30k_75k", why="bench", expected="up",
                        change=FieldChange(path="acv_tiers[id=30k_75k].mql_threshold", old=60, new=65))
    proposed = draft(policy, [proposal], f"{policy.version}-bench")
    assert proposed is not None
    period = Period(start=min(r.arrived_at for r in leads), end=max(r.arrived_at for r in leads) + timedelta(days=1))
    load_before = os.getloadavg()
    began = time.monotonic()
    (result,) = run_what_if(policy, [(proposal, proposed)], recorded.states, period)
    seconds = time.monotonic() - began
    print(f"leads replayed      {result.leads}")
    print(f"recorded actions    {recorded.actions}")
    print(f"what-if seconds     {seconds:.1f}  (two replays: current and proposed)")
    print(f"replay leads/s      {2 * result.leads / seconds:.1f}")
    print(f"moved               {result.moved} (expected {result.expected})")
    print(f"load average        {load_before[0]:.1f} before, {os.getloadavg()[0]:.1f} after")


if __name__ == "__main__":
    main()
