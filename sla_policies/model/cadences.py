"""Outreach cadences per lead tier (docs/domain.md §6: the reconciled default of §6.2, Q22/Q23)."""

from __future__ import annotations

from typing import Literal

from pydantic import model_validator

from sla_policies.model.base import Collector, Positive, Strict
from sla_policies.span import Span, SpanUnit

Channel = Literal["phone", "email", "linkedin"]


class Touch(Strict):
    number: Positive
    day: Positive  # business day, day 1 = routing day (next bd if routed after hours, Q23)
    channel: Channel  # what counts as an attempt (Q6); voicemail is a phone touch
    purpose: str


class CadenceFloor(Strict):
    """§6.4 [002]: never "unreachable" before this many attempts over this many channels."""

    min_attempts: Positive = 3
    min_channels: Positive = 2


class OnExhausted(Strict):
    path: Literal["recycled"] = "recycled"  # never deleted (§6.4)
    suppression: Span


class Cadence(Strict):
    attempts: Positive
    span: Span  # in business days
    touches: list[Touch]
    recycle_at: Span  # eodN: the end of the last business day of the span
    on_exhausted: OnExhausted
    floor: CadenceFloor = CadenceFloor()

    @model_validator(mode="after")
    def _check(self) -> Cadence:
        problems = Collector()
        if self.span.unit is not SpanUnit.business_day:
            problems.add("span", "must be in business days, e.g. 7bd")
        if self.recycle_at.unit is not SpanUnit.end_of_business_day:
            problems.add("recycle_at", "must be the end of a business day, e.g. eod7")
        if len(self.touches) != self.attempts:
            problems.add("touches", f"{len(self.touches)} touches listed for {self.attempts} attempts")
        for i, touch in enumerate(self.touches):
            if touch.number != i + 1:
                problems.add(f"touches[{i}].number", f"must be {i + 1}: touches are numbered in order")
            previous = self.touches[i - 1].day if i else None
            if previous is not None and touch.day < previous:
                problems.add(f"touches[{i}].day", f"must not be before the previous touch (day {previous})")
            if self.span.unit is SpanUnit.business_day and touch.day > self.span.amount:
                problems.add(f"touches[{i}].day", f"day {touch.day} falls outside the {self.span} span")
        last_day = max((t.day for t in self.touches), default=0)
        if self.recycle_at.unit is SpanUnit.end_of_business_day and self.recycle_at.amount < last_day:
            problems.add("recycle_at", f"must not come before the last touch (day {last_day})")
        if self.attempts < self.floor.min_attempts:
            problems.add("attempts", f"below the floor of {self.floor.min_attempts} attempts")
        channels = {t.channel for t in self.touches}
        if len(channels) < self.floor.min_channels:
            problems.add("touches", f"uses {len(channels)} channel(s); the floor is {self.floor.min_channels}")
        problems.raise_if_any()
        return self
