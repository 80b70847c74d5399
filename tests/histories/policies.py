"""The policies the recorded leads name by reference. Its own module, importing no more
than the policy model: `replay_build` imports it next to an older build's packages, where
the recording harness (record.py) and what it imports may not exist yet."""

from __future__ import annotations

from sla_policies.loader import default_policy
from sla_policies.model import Policy
from tests.policy_variants import faster_tier1

MIGRATED_TO = faster_tier1("2099.0.0", target="10m", breach="3h")  # the policy_migration scenario's target


def recorded_policies() -> list[Policy]:
    """Every policy the recorded leads name by reference: a replaying worker must hold them
    (a real worker loads them from the policy store: handoff/policy_loader.py)."""
    return [default_policy(), MIGRATED_TO]
