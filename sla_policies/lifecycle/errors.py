"""The core's two ways of saying no: `Refused`, an input it will not take (403/409/422,
the decision changes nothing), and `LifecycleError`, a move its own table does not allow
(a bug, never a user error). Their own module, so the table and the guards can raise them
without importing the decision context."""

from __future__ import annotations


class Refused(Exception):
    """The input is refused (403/409/422); the decision changes nothing."""

    def __init__(self, reason: str, status: int = 409, *, field: str | None = None):
        super().__init__(reason)
        self.reason, self.status, self.field = reason, status, field


class LifecycleError(Exception):
    """The core tried something its own table does not allow: a bug, never a user error."""
