"""Spans: the one way a policy writes an amount of time.

A span is written as a compact string so policy files stay readable:

    "30s" "5m" "2h" "90d" "6mo"   amounts of clock time (seconds, minutes, hours,
                                  calendar days, calendar months)
    "1bd" "14bd"                  whole business days: the same local time N business
                                  days later (docs/domain.md Q3: 24 bh = 1 bd, 48 bh = 2 bd)
    "eod14"                       the close of business day 14, day 1 being the day the
                                  clock starts (the next business day if it starts after
                                  hours; docs/domain.md Q23)

Whether "2h" means two calendar hours or two business hours is not part of the span: it
is the `clock` of the window that uses it. That mirrors docs/domain.md, whose master table
gives the amount and the clock basis in separate columns.
"""

from __future__ import annotations

import re
from datetime import timedelta
from enum import Enum
from typing import Any

from pydantic import GetCoreSchemaHandler
from pydantic_core import PydanticCustomError, core_schema


class SpanUnit(str, Enum):
    second = "s"
    minute = "m"
    hour = "h"
    day = "d"
    month = "mo"
    business_day = "bd"
    end_of_business_day = "eod"


_PATTERN = re.compile(r"^\s*(?:(?P<eod>eod)\s*(?P<n>\d+)|(?P<amount>\d+)\s*(?P<unit>mo|bd|s|m|h|d))\s*$")

_SECONDS = {SpanUnit.second: 1, SpanUnit.minute: 60, SpanUnit.hour: 3600, SpanUnit.day: 86400}


class Span:
    """An immutable amount of time in one unit, e.g. ``Span(5, SpanUnit.minute)``."""

    __slots__ = ("amount", "unit")

    def __init__(self, amount: int, unit: SpanUnit | str):
        unit = SpanUnit(unit)
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise TypeError("span amount must be an integer")
        if amount <= 0:
            raise ValueError("must be > 0")
        object.__setattr__(self, "amount", amount)
        object.__setattr__(self, "unit", unit)

    amount: int
    unit: SpanUnit

    def __setattr__(self, name: str, value: Any) -> None:  # pragma: no cover - immutability guard
        raise AttributeError("Span is immutable")

    @classmethod
    def parse(cls, text: str) -> Span:
        match = _PATTERN.match(text) if isinstance(text, str) else None
        if match is None:
            raise ValueError(
                f"invalid span {text!r}: expected e.g. '5m', '2h', '90d', '6mo', '1bd' or 'eod14'"
            )
        if match["eod"]:
            return cls(int(match["n"]), SpanUnit.end_of_business_day)
        return cls(int(match["amount"]), SpanUnit(match["unit"]))

    @property
    def is_business_days(self) -> bool:
        return self.unit in (SpanUnit.business_day, SpanUnit.end_of_business_day)

    @property
    def is_fixed(self) -> bool:
        """True when the span is a fixed number of seconds (s, m, h, d)."""
        return self.unit in _SECONDS

    def to_timedelta(self) -> timedelta:
        """The span as elapsed time; only for s/m/h/d spans."""
        if not self.is_fixed:
            raise ValueError(f"{self} is not a fixed duration")
        return timedelta(seconds=self.amount * _SECONDS[self.unit])

    def sort_key(self) -> tuple[int, float]:
        """Orders spans of comparable kinds: fixed by seconds, business days by day count.

        Months count as 30 d, and eodN as N business days, which is what
        "breach not before target" needs: comparisons between kinds are approximate by
        nature and only used for that sanity check.
        """
        if self.is_fixed:
            return (0, self.to_timedelta().total_seconds())
        if self.unit is SpanUnit.month:
            return (0, self.amount * 30 * 86400.0)
        return (1, float(self.amount))

    def __str__(self) -> str:
        if self.unit is SpanUnit.end_of_business_day:
            return f"eod{self.amount}"
        return f"{self.amount}{self.unit.value}"

    def __repr__(self) -> str:
        return f"Span({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Span) and (self.amount, self.unit) == (other.amount, other.unit)

    def __hash__(self) -> int:
        return hash((self.amount, self.unit))

    # pydantic v2 integration: accepted as "5m" in documents, serialized back the same way.
    @classmethod
    def __get_pydantic_core_schema__(cls, _source: Any, _handler: GetCoreSchemaHandler):
        def validate(value: Any) -> Span:
            if isinstance(value, Span):
                return value
            if not isinstance(value, str):
                raise PydanticCustomError("span_type", "must be a span string such as '5m', '2h' or '1bd'")
            try:
                return cls.parse(value)
            except ValueError as exc:
                raise PydanticCustomError("span", str(exc)) from None

        return core_schema.no_info_plain_validator_function(
            validate,
            json_schema_input_schema=core_schema.str_schema(),
            serialization=core_schema.plain_serializer_function_ser_schema(str),
        )

    @classmethod
    def __get_pydantic_json_schema__(cls, _core_schema, _handler):
        return {"type": "string", "pattern": _PATTERN.pattern, "examples": ["5m", "2h", "1bd", "eod14"]}
