"""How long `handoff simulate` takes for a quarter: N generated leads (default 2,000)
through the real workflows on the time-skipping server, with the example team acting.

    python bench/simulate_quarter.py [--leads 2000] [--seed 1] [--no-team]

Prints the wall time of the whole command (servers, run, report) and the run's leads/s.
Not a test: the figure depends on the machine."""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from handoff.simulate.command import simulate

EXAMPLE_TEAM = Path(__file__).resolve().parent.parent / "handoff" / "simulate" / "team.example.yaml"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-team", action="store_true", help="nobody acts: every clock breaches")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as out:
        began = time.monotonic()
        report = simulate(policy="2026.11.0", compare=None, leads=None, script=None,
                          team=None if args.no_team else EXAMPLE_TEAM, out=Path(out), generate=args.leads,
                          quarter="2027Q1", seed=args.seed)
        total = time.monotonic() - began
        assert report is not None  # a run without --compare always reports
        run = report.runs[0]
        clocks = sum(1 for _ in open(Path(out) / "clocks.jsonl"))
        transitions = sum(1 for _ in open(Path(out) / "transitions.jsonl"))
    print(f"leads               {run.leads}")
    print(f"team acting         {not args.no_team}")
    print(f"actions sent        {run.actions} ({len(run.refused)} refused)")
    print(f"clocks, transitions {clocks}, {transitions}")
    print(f"run seconds         {run.seconds:.1f}")
    print(f"run leads/s         {run.leads_per_second:.2f}")
    print(f"total seconds       {total:.1f}  (servers, database, run, report)")


if __name__ == "__main__":
    main()
