"""The garbage collector of a long-running server process (a worker, the API).

Why: a worker holds thousands of cached leads, each many small objects, and CPython's
collector walks them. With the default thresholds (a young collection every 700
allocations) each worker process of a 600-lead bulk ingest ran about 750 collections,
about 1.6 s of CPU, a full collection pausing every task for up to 0.4 s
(bench/RESULTS.md, sessions 13 and 14). Two settings, taken once start-up is done:

- `gc.freeze()`: what start-up built (modules, pydantic schemas, the policy) lives as long
  as the process; frozen, no collection walks it again.
- a young generation of `YOUNG_THRESHOLD` allocations: fewer, larger young collections
  (each walks the survivors of the last one, so the total walked shrinks), and the older
  generations, counted in young collections, follow.

Cycles are still reclaimed (an evicted lead's asyncio tasks and futures are cyclic), only
later: memory is bounded by the workflow cache's budget, not by the collector.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 20_000


def settle_after_start_up() -> None:
    """Freeze what start-up built and raise the young generation's threshold."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
