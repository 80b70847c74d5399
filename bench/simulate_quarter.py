"""How long `handoff simulate` takes for a quarter: N generated leads (default 2,000)
with the example team acting, on the core engine (default) or on the real workflows on the
time-skipping server (`--engine temporal`, future quarters only).

    python bench/simulate_quarter.py [--leads 2000] [--seed 1] [--no-team] [--engine core] [--quarter 2026Q3]

Prints the wall time of the whole command (run, report; servers on the temporal engine),
the run's leads/s, the process CPU time and the load average before and after.
Not a test: the figure depends on the machine and on what else runs on it."""

from __future__ import annotations

import argparse
import os
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
    parser.add_argument("--engine", choices=["core", "temporal"], default="core")
    parser.add_argument("--quarter", default="2026Q3", help="the temporal engine needs a quarter in the future")
    args = parser.parse_args()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as out:
        began, cpu = time.monotonic(), time.process_time()
        report = simulate(policy="2026.11.0", compare=None, leads=None, script=None,
                          team=None if args.no_team else EXAMPLE_TEAM, out=Path(out), generate=args.leads,
                          quarter=args.quarter, seed=args.seed, engine=args.engine)
        total, cpu = time.monotonic() - began, time.process_time() - cpu
        assert report is not None  # a run without --compare always reports
        run = report.runs[0]
        clocks = len((Path(out) / "clocks.jsonl").read_text().splitlines())
        transitions = len((Path(out) / "transitions.jsonl").read_text().splitlines())
    print(f"leads               {run.leads}")
    print(f"team acting         {not args.no_team}")
    print(f"actions sent        {run.actions} ({len(run.refused)} refused)")
    print(f"clocks, transitions {clocks}, {transitions}")
    print(f"run seconds         {run.seconds:.1f}")
    print(f"run leads/s         {run.leads_per_second:.2f}")
    print(f"engine              {args.engine}")
    print(f"total seconds       {total:.1f}  (run, report; servers and database on the temporal engine)")
    print(f"CPU seconds         {cpu:.1f}  (this process)")
    print(f"load average        {load_before[0]:.1f} before, {os.getloadavg()[0]:.1f} after")


if __name__ == "__main__":
    main()
