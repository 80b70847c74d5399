"""Building blocks shared by every part of the policy model.

`Strict` is the base of every model: unknown keys are refused (a typo must never be
silently ignored in an SLA) and instances are frozen (a policy version never changes once
loaded; a new version is a new document, docs/domain.md §13).

`Problems` is how a model-level check reports several problems at once, each at its own
path *relative to the model that found them*; the loader joins that with pydantic's
location so `handoff policy validate` names e.g. `windows.sal_decision.breach`.
"""

from __future__ import annotations

import re
from datetime import time
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, model_validator
from pydantic_core import PydanticCustomError

from sla_policies.span import Span


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Problems(ValueError):
    """Several (relative path, message) problems found by one model-level check.

    A path of "" means the model itself; "breach" or "touches[3].day" are below it.
    """

    def __init__(self, problems: list[tuple[str, str]]):
        super().__init__("; ".join(f"{p}: {m}" if p else m for p, m in problems))
        self.problems = problems


class Collector:
    """Accumulates problems so a validator reports all of them, not just the first."""

    def __init__(self) -> None:
        self.problems: list[tuple[str, str]] = []

    def add(self, path: str, message: str) -> None:
        self.problems.append((path, message))

    def raise_if_any(self) -> None:
        if self.problems:
            raise Problems(self.problems)


def join(*parts: str | int) -> str:
    """Document path from parts: join("windows", "sdr_response", "tier1") / join("touches", 3)."""
    path = ""
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part.startswith("["):
            path += part
        elif part:
            path += f".{part}" if path else part
    return path


def policy_error(message: str) -> PydanticCustomError:
    """A single problem at the location pydantic is validating (a field validator)."""
    return PydanticCustomError("policy", message)


# ----------------------------------------------------------------------------- identifiers

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
AcvTierId = Literal["lt_10k", "10k_30k", "30k_75k", "75k_200k", "200k_plus"]
ACV_TIER_IDS: tuple[str, ...] = get_args(AcvTierId)
# docs/domain.md §5.1 clock column: business hours/days, 24x7, a gate (the transition is refused
# until met, nothing to time) or an event (happens at an instant, may be late).
Clock = Literal["business", "calendar", "gate", "event"]
ActionTier = Literal["fit", "high", "medium", "low", "decay", "negative"]
# docs/domain.md §1.1 lifecycle stages and §1.2 side states.
StageId = Literal[
    "inquiry", "mql", "sal", "sql", "opportunity",
    "recycled", "disqualified", "manager_review", "data_hold", "territory_hold", "capacity_hold", "routed_out", "plg",
]
# Where a disposition sends a lead: a stage or side state, or one of the two moves that
# keep the stage but change who works it (REJ-07 re-route, AE-REJ-05 reassignment).
PathTarget = Literal[
    "inquiry", "mql", "sal", "sql", "opportunity",
    "recycled", "disqualified", "manager_review", "data_hold", "territory_hold", "routed_out", "plg",
    "reroute", "reassign",
]
SnakeId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
CountryCode = Annotated[str, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")]
Positive = Annotated[int, Field(gt=0)]
Percent = Annotated[float, Field(ge=0, le=100)]


def _clock_time(value: Any) -> Any:
    # YAML 1.1 reads an unquoted 10:00 as the integer 600 (base 60), which pydantic would
    # then accept as 00:10 UTC. Only "HH:MM" strings (or time objects) are times here.
    if isinstance(value, time):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{2}:\d{2}(:\d{2})?", value.strip()):
        try:
            return time.fromisoformat(value.strip())
        except ValueError:
            pass
    raise policy_error("must be a local time written as a quoted 'HH:MM' string, e.g. '10:00'")


# A wall-clock time of day, local to the calendar's timezone (never tz-aware).
ClockTime = Annotated[
    time,
    BeforeValidator(_clock_time),
    PlainSerializer(lambda t: t.strftime("%H:%M:%S" if t.second else "%H:%M"), return_type=str),
]


class Band(Strict):
    """An inclusive integer range, e.g. the 40-59 manager-review band."""

    min: int
    max: int

    @model_validator(mode="after")
    def _ordered(self) -> Band:
        if self.min > self.max:
            raise Problems([("max", f"must not be below min ({self.min})")])
        return self


def same_kind(a: Span, b: Span) -> bool:
    """Spans Span.sort_key can compare meaningfully (both clock time, or both business days)."""
    return a.sort_key()[0] == b.sort_key()[0]


def duplicates(values: list[Any]) -> list[int]:
    """Indexes of the values that already occurred earlier in the list."""
    seen: set[Any] = set()
    found = []
    for i, value in enumerate(values):
        if value in seen:
            found.append(i)
        seen.add(value)
    return found
