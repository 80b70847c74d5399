"""Policy documents derived from the bundled default, for tests of deployment and migration."""

from __future__ import annotations

import itertools
import os

from sla_policies.loader import bundled_policy_files, parse_policy
from sla_policies.model import Policy

DEFAULT_VERSION = "2026.11.0"
_TIER1 = "tier1: {stage: \"L2→L3\", owner: sdr, target: 5m, breach: 2h,"
_serial = itertools.count(1)


def default_text() -> str:
    path = next(p for p in bundled_policy_files() if p.name == f"{DEFAULT_VERSION}.yaml")
    return path.read_text(encoding="utf-8")


def unique_version() -> str:
    """A version no other test of the session uses (the test database is shared)."""
    return f"2099.{os.getpid() % 10_000}.{next(_serial)}"


def faster_tier1_text(version: str, *, target: str = "10m", breach: str = "3h") -> str:
    """The default policy under `version` with a different tier-1 SDR response window."""
    text = default_text()
    assert _TIER1 in text, "the default policy's tier-1 window changed; update this helper"
    text = text.replace(_TIER1, f"tier1: {{stage: \"L2→L3\", owner: sdr, target: {target}, breach: {breach},")
    return text.replace(f'version: "{DEFAULT_VERSION}"', f'version: "{version}"', 1)


def faster_tier1(version: str, **spans: str) -> Policy:
    return parse_policy(faster_tier1_text(version, **spans))


def routing_change_text(version: str) -> str:
    """The default policy under `version` with a routing fundamental changed: a major change."""
    text = faster_tier1_text(version)
    keys = "segment_keys: [icp_segment, territory, availability, workload]"
    assert text.count(keys) == 1, "the default policy's routing changed; update this helper"
    return text.replace(keys, "segment_keys: [icp_segment, territory, availability]", 1)


async def sign_release(http, version: str) -> None:
    """Every sign-off `version` still needs, each by a principal of that role (tests/stack.py SIGNERS)."""
    from tests.stack import SIGNERS, auth

    status = (await http.get(f"/v1/policies/{version}/signoffs")).json()
    for role in status["missing"]:
        signed = await http.post(f"/v1/policies/{version}/signoffs", json={"content_hash": status["content_hash"]},
                                 headers=auth(SIGNERS[role]))
        assert signed.status_code == 201, signed.text
