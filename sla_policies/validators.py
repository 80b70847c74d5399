"""The input rule every boundary shares (HTTP bodies, paths and queries, workflow inputs):
a string carries no control character, a number is finite and in range, an instant is
timezone-aware and within a sane range, and every id, type and code exists in the pinned
policy. Pure: the API, the workflow inputs and the simulator all check the same way.

A bad value must be refused where it arrives: PostgreSQL refuses a NUL in text and jsonb,
a naive datetime fails a workflow task forever, an unknown holiday country makes every
clock computation of the lead fail. Each of those would leave a lead that cannot finish.
"""

from __future__ import annotations

import math
import unicodedata
from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime

# An instant outside these bounds is a typo or an attack (year 1, year 9999), never a lead.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
# Free text may keep its line breaks and tabs; nothing else of Unicode's control (Cc) and
# surrogate (Cs) categories: NUL, escape sequences, C1 controls, unpaired surrogates.
TEXT_WHITESPACE = frozenset("\t\n\r")


def bad_character(value: str, *, allow: frozenset[str] = TEXT_WHITESPACE) -> str | None:
    """The first refused character of `value` as a message, or None."""
    for ch in value:
        if ch not in allow and unicodedata.category(ch) in ("Cc", "Cs"):
            return f"contains the control character U+{ord(ch):04X}"
    return None


def check_text(value: str) -> str:
    problem = bad_character(value)
    if problem:
        raise ValueError(problem)
    return value


def check_instant(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("must carry a timezone (e.g. 2026-11-23T10:00:00Z)")
    if not EARLIEST <= value < LATEST:
        raise ValueError(f"must lie between {EARLIEST.date()} and {LATEST.date()}")
    return value


Text = Annotated[str, AfterValidator(check_text)]
Instant = Annotated[AwareDatetime, AfterValidator(check_instant)]


def json_problems(value: Any, path: str = "") -> list[tuple[str, str]]:
    """Every string with a control character and every non-finite number in a parsed JSON
    document, by path (`contact.first_name`, `events[0].detail`, `$` for the root).
    Object keys are checked too: a key is a string the server may store."""
    problems: list[tuple[str, str]] = []
    if isinstance(value, str):
        problem = bad_character(value)
        if problem:
            problems.append((path or "$", problem))
    elif isinstance(value, float):
        if not math.isfinite(value):
            problems.append((path or "$", "must be a finite number"))
    elif isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and bad_character(key):
                problems.append((path or "$", f"a key {bad_character(key)}"))
                continue
            problems.extend(json_problems(item, child))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            problems.extend(json_problems(item, f"{path}[{i}]"))
    return problems


def check_day(value: date) -> date:
    if not EARLIEST.date() <= value < LATEST.date():
        raise ValueError(f"must lie between {EARLIEST.date()} and {LATEST.date()}")
    return value


Day = Annotated[date, AfterValidator(check_day)]
