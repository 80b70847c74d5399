"""Lead scoring (docs/domain.md §3.1 points and thresholds, §3.5 latency, §14 Q8/Q9 arithmetic)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from sla_policies.model.base import ActionTier, Band, Collector, SnakeId, Strict, duplicates
from sla_policies.span import Span


class Signal(Strict):
    """One row of the scoring table. `points` may be negative (unsubscribe -50)."""

    id: SnakeId
    points: int
    # Fit rows describe who the lead is; high/medium/low are actions (§3.3 behavioral
    # intent: >=1 high or >=3 medium); decay/negative take points away.
    action_tier: ActionTier
    tier1_trigger: bool = False  # a hand-raise: makes the MQL lead tier 1 (§4.1)
    # Signals sharing a persona_group are alternatives: only the best one scores
    # ("one persona row only").
    persona_group: str | None = None
    note: str | None = None


class DecayStep(Strict):
    """Inactivity decay. Not cumulative (Q8): the deepest step reached replaces the others,
    so the 60-day step says -20 in total, not another -20."""

    id: SnakeId  # no_activity_30d, no_activity_60d: the rows of §3.1
    after: Span
    total_points: Annotated[int, Field(lt=0)]


class Scoring(Strict):
    signals: list[Signal]
    repeat_window: Span  # Q8: the same action type scores once per window
    decay: list[DecayStep]
    floor: int = 0  # Q8: no cap, but never below the floor
    mql_threshold: Annotated[int, Field(ge=0)] = 60
    manager_review: Band  # 40-59: a manager may promote, never auto-routed (T03)
    # global: mql_threshold for everyone (default [003]); acv_tier: each ACV tier's own
    # mql_threshold ([000] alternative).
    threshold_mode: Literal["global", "acv_tier"] = "global"
    # Q9: hand-raises are scored at once; the 4 bh scoring_latency is for accumulation.
    latency_synchronous_for_handraises: bool = True
    # [002] alternative lead-tier cut-offs by score (tier -> minimum score); unused by default.
    tier_cutoffs_alt: dict[Annotated[int, Field(ge=1, le=3)], int] = {}

    @model_validator(mode="after")
    def _check(self) -> Scoring:
        problems = Collector()
        ids = [s.id for s in self.signals]
        for i in duplicates(ids):
            problems.add(f"signals[{i}].id", f"duplicate signal {ids[i]!r}")
        for i, step in enumerate(self.decay):
            if step.id in ids:
                problems.add(f"decay[{i}].id", f"{step.id!r} is already a signal id")
        for i in duplicates([d.id for d in self.decay]):
            problems.add(f"decay[{i}].id", f"duplicate decay step {self.decay[i].id!r}")
        for i, signal in enumerate(self.signals):
            if signal.persona_group is not None and signal.action_tier != "fit":
                problems.add(f"signals[{i}].persona_group", "only fit signals describe a persona")
            if signal.tier1_trigger and signal.action_tier != "high":
                problems.add(f"signals[{i}].tier1_trigger", "a hand-raise must be a high action")
        # The engine measures these as elapsed time (scoring.py), so they must be fixed spans.
        if not self.repeat_window.is_fixed:
            problems.add("repeat_window", "must be a fixed duration (s, m, h or d)")
        for i, step in enumerate(self.decay):
            if not step.after.is_fixed:
                problems.add(f"decay[{i}].after", "must be a fixed duration (s, m, h or d)")
            elif i and self.decay[i - 1].after.is_fixed:
                prev = self.decay[i - 1]
                if step.after.sort_key() <= prev.after.sort_key():
                    problems.add(f"decay[{i}].after", f"must be later than the previous step ({prev.after})")
                if step.total_points > prev.total_points:
                    problems.add(f"decay[{i}].total_points",
                                 f"a later step cannot decay less than an earlier one ({prev.total_points})")
        if self.manager_review.max >= self.mql_threshold:
            problems.add("manager_review.max", f"must be below mql_threshold ({self.mql_threshold})")
        if self.manager_review.min < self.floor:
            problems.add("manager_review.min", f"must not be below floor ({self.floor})")
        problems.raise_if_any()
        return self

    def signal(self, signal_id: str) -> Signal:
        for signal in self.signals:
            if signal.id == signal_id:
                return signal
        raise KeyError(f"unknown signal {signal_id!r}")
