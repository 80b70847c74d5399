"""Fills this process's pinned-policy registry (`sla_policies.pinned`) from the policy store.

At worker start every stored version is loaded (parsed and validated once, hashed once),
and every few seconds whatever was deployed since (a look at the hashes only), so a
version is usually held before RevOps activates it. A lead that meets a reference the
registry does not hold (a version deployed after the last look) fails its workflow task
with `PolicyNotLoaded`; the registry tells this loader, which loads that version at once,
checks that its content hashes to the pinned hash, and registers it, so Temporal's retry
of the task finds it.
"""

from __future__ import annotations

import asyncio
import logging

from psycopg_pool import AsyncConnectionPool

from readmodel.policies import get_stored, stored_hashes
from sla_policies import pinned
from sla_policies.pinned import PolicyRef

log = logging.getLogger(__name__)
REFRESH_SECONDS = 5.0  # how often the store is looked at for new versions


class PolicyLoader:
    def __init__(self, pool: AsyncConnectionPool, refresh_seconds: float = REFRESH_SECONDS):
        self._pool = pool
        self._refresh = refresh_seconds
        self._queue: asyncio.Queue[PolicyRef] = asyncio.Queue()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: set[str] = set()
        self._seen: set[str] = set()  # stored hashes already loaded (or found to differ)

    async def preload(self) -> int:
        """Every stored version not loaded yet; returns how many were loaded. Best effort: a
        store that cannot be read now only means the leads load theirs when they need them."""
        loaded = 0
        try:
            for version, digest in await stored_hashes(self._pool):
                if digest in self._seen or pinned.known(digest):
                    continue
                await self.load(PolicyRef(version=version, content_hash=digest))
                self._seen.add(digest)
                loaded += 1
        except Exception:  # noqa: BLE001 - best effort, see above
            log.warning("could not preload the stored policy versions", exc_info=True)
        return loaded

    async def load(self, ref: PolicyRef) -> bool:
        """Load the version of `ref` and register it if its content is the pinned one."""
        if pinned.lookup(ref) is not None:
            return True
        stored = await get_stored(self._pool, ref.version)
        if stored is None:
            log.error("%s is pinned by a lead but not in the policy store", ref.describe())
            return False
        try:
            pinned.register(stored.policy, expected=ref.content_hash)
        except ValueError as exc:
            log.error("%s cannot be resolved: %s", ref.describe(), exc)
            return False
        return True

    def _want(self, ref: PolicyRef) -> None:
        # Called from the thread running a workflow activation: hand over to the loop.
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._enqueue, ref)

    def _enqueue(self, ref: PolicyRef) -> None:
        if ref.content_hash not in self._pending:
            self._pending.add(ref.content_hash)
            self._queue.put_nowait(ref)

    async def run(self) -> None:
        """Load what leads ask for, until cancelled."""
        self._loop = asyncio.get_running_loop()
        pinned.add_listener(self._want)
        try:
            while True:
                try:
                    ref = await asyncio.wait_for(self._queue.get(), self._refresh)
                except TimeoutError:
                    await self.preload()
                    continue
                try:
                    await self.load(ref)
                except Exception:  # noqa: BLE001 - the lead asks again on its next attempt
                    log.warning("could not load %s", ref.describe(), exc_info=True)
                finally:
                    self._pending.discard(ref.content_hash)
        finally:
            pinned.remove_listener(self._want)
            self._loop = None
