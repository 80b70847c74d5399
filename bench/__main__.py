"""`python -m bench [PART ...] [--leads N] [--open-leads N]`: run the parts (all by default),
print each figure, write bench/RESULTS.md."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
import time
from pathlib import Path

from bench import growth, parts
from bench.history import history
from bench.report import RESULTS_FILE, Results, now, write
from bench.scrape import scrape
from bench.stack import stack

PARTS = ["ingest", "dispositions", "lateness", "memory", "history", "scrape", "growth", "processes"]
DEFAULT_PARTS = ["ingest", "dispositions", "lateness", "memory", "history", "scrape"]


async def main(selected: list[str], leads: int, open_leads: int, memory_budget: float,
               saturating_leads: int, sizes: list[int], processes: int, worker_memory_mib: int, out: Path,
               probe_rate: float | None) -> None:
    results = Results(started_at=now())
    started = time.perf_counter()
    async with stack(processes=processes, worker_memory_mib=worker_memory_mib) as s:
        for part in selected:
            print(f"[{part}]", flush=True)
            try:
                await run_part(s, part, results, leads, open_leads, memory_budget, saturating_leads, sizes, probe_rate)
            except Exception as exc:  # noqa: BLE001 - a failed part is recorded, the others still run
                print(f"  {part} FAILED: {exc!r}", flush=True)
                results.notes.append(f"Part {part} failed in this run: {exc!r}"[:500])
    results.notes.append("Noisy: measured on a machine shared with other work; re-run on a quiet machine "
                         "before drawing conclusions.")
    write(results, selected, time.perf_counter() - started, " ".join(sys.argv[1:]), out)


async def run_part(s, part: str, results: Results, leads: int, open_leads: int, memory_budget: float,
                   saturating_leads: int, sizes: list[int], probe_rate: float | None) -> None:
    if part == "ingest":
        await parts.ingest(s, results, count=leads)
    elif part == "dispositions":
        await parts.dispositions(s, results)
    elif part == "lateness":
        await parts.lateness(s, results, rate=probe_rate, saturating_leads=saturating_leads,
                             on_first=os.environ.get("BENCH_SLA_FIRST_ORDER") == "on-off")
    elif part == "memory":
        await parts.memory(s, results, open_leads=open_leads, budget=memory_budget)
    elif part == "history":
        await history(s, results)
    elif part == "scrape":
        await scrape(s, results)
    elif part == "growth":
        await growth.growth(s, results, sizes, budget=memory_budget)
    elif part == "processes":
        await growth.processes(s, results, count=leads)


def cli() -> None:
    """BENCH_SLA_FIRST_ORDER=on-off runs the lateness part's saturated phases with SLA first on, then off."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("parts", nargs="*", help=f"any of {', '.join(PARTS)} (default: {', '.join(DEFAULT_PARTS)})")
    parser.add_argument("--leads", type=int, default=1000, help="leads in the bulk-ingest figure")
    parser.add_argument("--open-leads", type=int, default=10_000, help="open leads for the memory figure")
    parser.add_argument("--saturating-leads", type=int, default=1000, help="bulk ingest that saturates the server")
    parser.add_argument("--memory-budget", type=float, default=240,
                        help="seconds the memory part may ingest for, and the growth part may run for")
    parser.add_argument("--sizes", default="1000,5000,10000", help="open-lead sizes of the growth part")
    parser.add_argument("--processes", type=int, default=2, help="processes of the lead worker (`handoff worker`)")
    parser.add_argument("--worker-memory-mib", type=int, default=1024,
                        help="memory budget of the lead worker's processes together (HANDOFF_WORKER_MEMORY_MIB)")
    parser.add_argument("--probe-rate", type=float, default=None,
                        help="lateness probe leads/s (default: half the ingest capacity measured in the run)")
    parser.add_argument("--out", type=Path, default=RESULTS_FILE, help="where to write the results")
    args = parser.parse_args()
    unknown = [p for p in args.parts if p not in PARTS]
    if unknown:
        parser.error(f"unknown part(s) {', '.join(unknown)}; choose from {', '.join(PARTS)}")
    logging.basicConfig(level=logging.WARNING)

    def interrupted(*_):
        raise KeyboardInterrupt  # asyncio.run cancels the run: the stack is torn down in order

    signal.signal(signal.SIGTERM, interrupted)
    sizes = [int(x) for x in args.sizes.split(",") if x.strip()]
    asyncio.run(main(args.parts or DEFAULT_PARTS, args.leads, args.open_leads, args.memory_budget,
                     args.saturating_leads, sizes, args.processes, args.worker_memory_mib, args.out, args.probe_rate))


if __name__ == "__main__":
    cli()
