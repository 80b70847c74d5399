"""Field-level difference between two policy versions, for RevOps review."""

from __future__ import annotations

from pydantic import BaseModel

from sla_policies.model import Policy

_KEYS = ("id", "code", "number")


class FieldChange(BaseModel):
    path: str
    old: object = None
    new: object = None


def _keyed(items: list) -> dict | None:
    """A list of records keyed by their id/code/number, so reordering is not a change."""
    if not items or not all(isinstance(i, dict) for i in items):
        return None
    for key in _KEYS:
        if all(key in i for i in items) and len({i[key] for i in items}) == len(items):
            return {f"[{key}={i[key]}]": i for i in items}
    return None


def _walk(path: str, old: object, new: object, out: list[FieldChange]) -> None:
    if old == new:
        return
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(old.keys() | new.keys(), key=str):
            _walk(f"{path}.{key}" if path else str(key), old.get(key), new.get(key), out)
        return
    if isinstance(old, list) and isinstance(new, list):
        a, b = _keyed(old), _keyed(new)
        if a is not None and b is not None:
            for key in sorted(a.keys() | b.keys()):
                _walk(f"{path}{key}", a.get(key), b.get(key), out)
            return
    out.append(FieldChange(path=path, old=old, new=new))


def diff_policies(a: Policy, b: Policy) -> list[FieldChange]:
    changes: list[FieldChange] = []
    _walk("", a.model_dump(mode="json"), b.model_dump(mode="json"), changes)
    return changes
