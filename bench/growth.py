"""How cost grows (issue 12): ingest rate, nominal-load lateness and worker RSS as the open
leads grow to each size, and what one more worker process adds."""

from __future__ import annotations

import asyncio
import time
import uuid

from bench.parts import _lateness, _probe, bulk_ingest, open_count, percentile, warm_up
from bench.report import Figure, Results
from bench.stack import Stack


def _rss(stack: Stack) -> str:
    each = ", ".join(f"{m:,.0f}" for m in stack.worker_processes_rss_mib())
    return f"{len(stack.worker_processes_rss_mib())} processes: {each} MiB"


async def _nominal(stack: Stack, rate: float, seconds: float) -> tuple[list[float], list[float]]:
    """Breach lateness of probe leads offered at `rate`/s, and bare timers at the same pace."""
    stack.seed_reps("bench-gb", 10, "GB")
    await stack.use_policy(stack.compressed_version)
    breach = stack.policies.active().window("sdr_response.tier1").breach
    assert breach is not None
    prefix = f"grow-late-{uuid.uuid4().hex[:6]}-"
    try:
        timers = await _probe(stack, prefix, rate, seconds, breach.to_timedelta().total_seconds())
        late = await _lateness(stack, prefix, int(rate * seconds))
    finally:
        await stack.use_policy(stack.default_version)
    return late, timers


CHUNK = 1000  # leads per bulk ingest while filling, and the size of each measured ingest


async def growth(stack: Stack, results: Results, sizes: list[int], probe_seconds: float = 20,
                 budget: float | None = None) -> None:
    """For each size in turn: bring this part's open leads to that size (left open: nobody
    works them, and they come from a zone where it is late evening, `quiet_timezone`, so
    no SLA instant of theirs comes due during the run) in bulk ingests of 1,000,
    each routed before the next; the last of them is that size's ingest rate, so every size
    measures the same 1,000-lead ingest and only the open leads differ. Then breach lateness
    at half that rate (nominal load), and the lead worker's RSS at rest, all its processes
    together. Time-boxed by `budget` seconds: a step that cannot finish in what is left is
    cut short, its RSS still measured at the open leads reached, and the sizes not reached
    are named in the notes. (One burst far larger than the workflow cache is another matter:
    see bench/RESULTS.md, session 7.)"""
    deadline = time.monotonic() + budget if budget else None
    await warm_up(stack)
    await stack.use_policy(stack.default_version)
    await asyncio.sleep(5)
    results.add(Figure(part="growth", name=f"lead worker RSS with {open_count(stack)} open leads ({_rss(stack)})",
                       value=stack.worker_rss_mib(), unit="MiB"))
    have = 0
    for size in sizes:
        if size <= have:
            continue
        rate = None
        try:
            while have < size:
                left = deadline - time.monotonic() if deadline else None
                if left is not None and left < 60:
                    raise TimeoutError
                step = min(CHUNK, size - have)
                seconds = await bulk_ingest(stack, f"grow{have + step}-{uuid.uuid4().hex[:6]}-", step, timeout=left)
                have += step
                rate = step / seconds
        except TimeoutError:
            await asyncio.sleep(5)
            open_now = open_count(stack)
            results.add(Figure(part="growth", name=f"lead worker RSS with {open_now} open leads, the step to {size} "
                                                   f"cut short by the time budget ({_rss(stack)})",
                               value=stack.worker_rss_mib(), unit="MiB"))
            results.notes.append(f"Growth: the step to {size} leads did not finish within the part's {budget:.0f} s "
                                 f"budget; RSS measured at {open_now} open leads; later sizes not run.")
            break
        assert rate is not None
        results.add(Figure(part="growth", name=f"bulk ingest to routed MQL, the {CHUNK:,} leads taking the part's "
                                               f"leads to {size:,}", value=rate, unit="leads/s"))
        late, timers = await _nominal(stack, round(rate / 2, 2), probe_seconds)
        p99, r99 = percentile(late, 99) * 1000, percentile(timers, 99) * 1000
        offered = int(round(rate / 2, 2) * probe_seconds)
        name = (f"breach lateness p99 at {size} leads, nominal load ({rate / 2:.2f} leads/s; {len(late)} of "
                f"{offered} probe leads counted)")
        results.add(Figure(part="growth", name=name, value=p99, unit="ms", reference=r99,
                           reference_name="bare timer p99", target="p99 ≤ 2x the bare timer", met=p99 <= 2 * r99))
        await asyncio.sleep(5)  # RSS at rest, not mid-burst
        open_now, rss = open_count(stack), stack.worker_rss_mib()
        big = open_now >= 10_000
        results.add(Figure(part="growth", name=f"lead worker RSS with {open_now} open leads ({_rss(stack)}; "
                                               f"HANDOFF_WORKER_MEMORY_MIB={stack.settings.worker_memory_mib})",
                           value=rss, unit="MiB", target="≤ 1024 MiB at 10,000 open leads" if big else None,
                           met=rss <= 1024 if big else None))


async def processes(stack: Stack, results: Results, count: int = 300) -> None:
    """Bulk ingest of `count` leads with the lead worker at 1 process, then at 2 (same run)."""
    rates = {}
    for n in (1, 2):
        stack.worker.stop()
        stack.worker.start(n)
        await warm_up(stack)  # the new processes are polling
        await stack.use_policy(stack.default_version)
        rates[n] = count / await bulk_ingest(stack, f"proc{n}-{uuid.uuid4().hex[:6]}-", count)
    results.add(Figure(part="processes", name=f"bulk ingest to routed MQL ({count} leads), `handoff worker "
                                              "--processes 2`", value=rates[2], unit="leads/s", reference=rates[1],
                       reference_name="--processes 1"))
