"""Which policy versions exist and which one new leads are pinned to.

Issue 2 keeps the registry in memory, loaded from `sla_policies/versions/`; the newest
bundled version is active. A lead pins the version that was active at ingest (DOMAIN §13).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sla_policies.loader import bundled_policy_files, load_policy_file
from sla_policies.model import Policy


@dataclass
class PolicyRegistry:
    versions: dict[str, Policy] = field(default_factory=dict)
    active_version: str | None = None

    @classmethod
    def from_bundled(cls) -> "PolicyRegistry":
        registry = cls()
        for path in bundled_policy_files():
            registry.add(load_policy_file(path))
        return registry

    def add(self, policy: Policy, *, activate: bool = True) -> None:
        self.versions[policy.version] = policy
        if activate:
            self.active_version = policy.version

    def active(self) -> Policy:
        if self.active_version is None:
            raise LookupError("no active policy version")
        return self.versions[self.active_version]

    def get(self, version: str) -> Policy:
        return self.versions[version]
