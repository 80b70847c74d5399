"""Policies by reference: a lead pins its version by (version, content hash), and every
process holds each pinned version once, parsed and validated once, shared by all its leads.

A `PolicyRef` is what travels in a lead's start input, its continue-as-new input and a
migration Update, instead of the whole document (about 52 KB each time). The hash is the
one content hash of a policy (`content_hash`): the policy store keys deployments and
sign-offs by it (api/policy_store.py), and a lead resolves its reference here only to the
object whose hash it is, so a replay sees exactly the pinned policy (docs/domain.md §13).

This module is the in-memory registry only: pure, no I/O. Whoever can read the policy
store fills it (the worker at start and when asked, handoff/policy_loader.py); a lookup of
an unknown hash tells the listeners which reference is wanted and raises `PolicyNotLoaded`.
Policies are frozen pydantic models, so the shared object cannot change under a lead.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable

from pydantic import BaseModel, ConfigDict

from sla_policies.model import Policy


class PolicyRef(BaseModel):
    """A pinned policy version: its version id and the SHA-256 of its canonical JSON."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str
    content_hash: str

    def describe(self) -> str:
        return f"policy {self.version} (sha256 {self.content_hash[:12]})"


class PolicyNotLoaded(RuntimeError):
    """The reference is not in this process's registry (yet). In a workflow it fails the
    workflow task, which Temporal retries, while the worker loads the version."""

    def __init__(self, ref: PolicyRef):
        super().__init__(f"{ref.describe()} is not loaded in this worker yet: it is being loaded from the "
                         f"policy store and the workflow task is retried (content hash {ref.content_hash})")
        self.ref = ref


def content_hash(policy: Policy) -> str:
    """The identity of a policy's content: the same policy, however formatted, hashes the same."""
    canonical = json.dumps(policy.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


_lock = threading.Lock()
_by_hash: dict[str, Policy] = {}
_listeners: list[Callable[[PolicyRef], None]] = []


def register(policy: Policy, expected: str | None = None) -> PolicyRef:
    """Hold `policy` under its content hash (hashed here, once per version) and return its
    reference. The first object registered for a hash is the one every lead shares.
    `expected`: the hash the caller was asked for; a different content is refused."""
    digest = content_hash(policy)
    if expected is not None and digest != expected:
        raise ValueError(f"policy {policy.version}: its content hashes to sha256 {digest[:12]}, "
                         f"not the pinned {expected[:12]}")
    with _lock:
        _by_hash.setdefault(digest, policy)
    return PolicyRef(version=policy.version, content_hash=digest)


def lookup(ref: PolicyRef) -> Policy | None:
    policy = _by_hash.get(ref.content_hash)
    return policy if policy is not None and policy.version == ref.version else None


def resolve(ref: PolicyRef) -> Policy:
    """The registered policy of `ref`; else the listeners hear of it and PolicyNotLoaded is raised."""
    policy = lookup(ref)
    if policy is None:
        for listener in list(_listeners):
            listener(ref)
        raise PolicyNotLoaded(ref)
    return policy


def known(content_hash: str) -> bool:
    return content_hash in _by_hash


def add_listener(listener: Callable[[PolicyRef], None]) -> None:
    """`listener(ref)` is called (from any thread) for each reference looked up and not held."""
    with _lock:
        _listeners.append(listener)


def remove_listener(listener: Callable[[PolicyRef], None]) -> None:
    with _lock:
        if listener in _listeners:
            _listeners.remove(listener)
