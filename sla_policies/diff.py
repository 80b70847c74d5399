"""Field-level difference between two policy versions, for RevOps review
(`GET /v1/policies/{a}/diff/{b}`).

Paths use the document's own names. Lists of records are matched by their `id`, `code`
or `number` (written `scoring.signals[id=demo_request].points`), so reordering a list is
not a change; other lists of records of equal length are compared position by position
(`windows.ae_first_touch.escalation[1].after`); anything else that differs is reported
whole.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from sla_policies.model import Policy

_KEYS = ("id", "code", "number")
_MISSING = None  # an added or removed field reads as None on the other side


class FieldChange(BaseModel):
    path: str
    old: Any = None
    new: Any = None

    def __str__(self) -> str:
        return f"{self.path}: {self.old!r} -> {self.new!r}"


def _record_key(old: list, new: list) -> str | None:
    """The key both lists' records are identified by, if any."""
    items = old + new
    if not items or not all(isinstance(i, dict) for i in items):
        return None
    for key in _KEYS:
        if all(key in i for i in items) and all(len({i[key] for i in side}) == len(side) for side in (old, new)):
            return key
    return None


def _walk(path: str, old: Any, new: Any, out: list[FieldChange]) -> None:
    if old == new:
        return
    if isinstance(old, dict) and isinstance(new, dict):
        for key in [*old, *(k for k in new if k not in old)]:
            _walk(f"{path}.{key}" if path else str(key), old.get(key, _MISSING), new.get(key, _MISSING), out)
        return
    if isinstance(old, list) and isinstance(new, list):
        key = _record_key(old, new)
        if key is not None:
            a = {i[key]: i for i in old}
            b = {i[key]: i for i in new}
            for k in [*a, *(k for k in b if k not in a)]:  # old order, then additions
                _walk(f"{path}[{key}={k}]", a.get(k, _MISSING), b.get(k, _MISSING), out)
            return
        if len(old) == len(new) and all(isinstance(i, dict) for i in old + new):
            for i, (x, y) in enumerate(zip(old, new, strict=True)):
                _walk(f"{path}[{i}]", x, y, out)
            return
    out.append(FieldChange(path=path or "$", old=old, new=new))


def diff_policies(a: Policy, b: Policy) -> list[FieldChange]:
    """Every field that differs from `a` to `b`, in document order."""
    changes: list[FieldChange] = []
    _walk("", a.model_dump(mode="json"), b.model_dump(mode="json"), changes)
    return changes
