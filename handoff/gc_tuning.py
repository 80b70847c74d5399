"""The garbage collector of a long-running server process (a worker, the API).

Why: CPython's full collections walk every tracked object. What start-up built (modules,
pydantic schemas, the policy) lives as long as the process, yet every full collection
walked it again; `gc.freeze()`, once start-up is done, moves it where no collection looks.

The thresholds stay CPython's. A young generation of 20,000 allocations (tried in session
14) halved the collector's time in a 600-lead bulk ingest, but with 10,000 open leads,
whose evictions from the workflow cache leave cyclic garbage (asyncio tasks and futures)
that only a full collection reclaims, full collections came so rarely that each worker
process grew to 900 MiB and one collection paused it for 6 s (bench/RESULTS.md, session 14).
"""

from __future__ import annotations

import gc


def settle_after_start_up() -> None:
    """Collect once, then freeze what survives: no later collection walks it again."""
    gc.collect()
    gc.freeze()
