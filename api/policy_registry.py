"""Which policy versions exist and which one new leads are pinned to.

With PostgreSQL configured, the `policies` table is the registry (so every API replica
agrees): start-up stores the bundled files of `sla_policies/versions/`, and `current()`
reads the active version (the `PoliciesDep` dependency calls it for every request that
uses the registry, so `active()` in a route is what was active when the request came).
Without a database (tests of the API alone) the bundled files are the registry and the
newest is active. A lead pins the version that was active at ingest (docs/domain.md §13): its
workflow input names it by version and content hash (`pin`), and the worker resolves that
reference from the same `policies` table.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from psycopg_pool import AsyncConnectionPool

from api import policy_store
from readmodel import policies
from sla_policies import pinned
from sla_policies.loader import bundled_policy_files, load_policy_file, parse_policy
from sla_policies.model import Policy
from sla_policies.pinned import PolicyRef

ADDED_IN_CODE = "handoff"  # deployed_by of a policy a process adds itself (the demo's compressed copy)


@dataclass
class PolicyRegistry:
    # Parsed policies by version; a stored version never changes, so this cache is never stale.
    versions: dict[str, Policy] = field(default_factory=dict)
    active_version: str | None = None  # the last one seen active
    pool: AsyncConnectionPool | None = None
    bundled: list[tuple[str, Policy]] = field(default_factory=list)
    refs: dict[str, PolicyRef] = field(default_factory=dict)  # hashed once per version

    @classmethod
    def from_bundled(cls) -> PolicyRegistry:
        registry = cls()
        for path in bundled_policy_files():
            text = path.read_text(encoding="utf-8")
            policy = load_policy_file(path) if path.suffix == ".json" else parse_policy(text)
            registry.bundled.append((text, policy))
            registry.add(policy)
        return registry

    async def attach(self, pool: AsyncConnectionPool) -> None:
        """Start-up with PostgreSQL: store the bundled files, and any policy added in code
        before (the demo's compressed copy); the database decides from now on."""
        self.pool = pool
        await policy_store.sync_bundled(pool, self.bundled)
        bundled = {p.version for _, p in self.bundled}
        for version, policy in self.versions.items():
            if version not in bundled:
                await policy_store.deploy(pool, policy.model_dump_json(), policy, ADDED_IN_CODE)
        if self.active_version is not None and self.active_version not in bundled:
            await policy_store.activate(pool, self.active_version, ADDED_IN_CODE)
        await self.current()

    async def activate(self, version: str, by: str) -> None:
        """Make a known version the one new leads use (in PostgreSQL when attached)."""
        if self.pool is not None and await policy_store.activate(self.pool, version, by) is None:
            raise LookupError(f"no stored policy version {version!r}")
        self.active_version = version

    def add(self, policy: Policy, *, activate: bool = True) -> None:
        self.versions[policy.version] = policy
        self.refs.pop(policy.version, None)
        if activate:
            self.active_version = policy.version

    async def current(self) -> Policy:
        """The active version now (read from PostgreSQL when there is one)."""
        if self.pool is not None:
            version = await policies.active_version(self.pool)
            if version is None:
                raise LookupError("no active policy version")
            policy = await self.fetch(version)
            assert policy is not None
            self.active_version = version
            return policy
        return self.active()

    async def fetch(self, version: str) -> Policy | None:
        if version not in self.versions and self.pool is not None:
            stored = await policies.get_stored(self.pool, version)
            if stored is None:
                return None
            self.versions[version] = stored.policy
        return self.versions.get(version)

    def active(self) -> Policy:
        """The active version as last seen; `current()` asks the database."""
        if self.active_version is None:
            raise LookupError("no active policy version")
        return self.versions[self.active_version]

    def get(self, version: str) -> Policy:
        return self.versions[version]

    def pin(self, policy: Policy) -> PolicyRef:
        """The reference a lead pins `policy` by (its content hash computed once per version;
        registered in this process too, so a worker here shares the object)."""
        held = self.versions.get(policy.version) is policy
        ref = self.refs.get(policy.version) if held else None
        if ref is None:
            ref = pinned.register(policy)
            if held:
                self.refs[policy.version] = ref
        return ref
