"""TEAM.yaml: the roster the simulation routes to and how its people behave.

Times are *business* minutes of the lead's calendar (reps work business hours): a
response of 30 minutes drawn at 17:50 lands at 08:20 the next business day. Each
distribution is log-normal, given by its median and 90th percentile, which is how
response times are usually reported.
"""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from handoff.simulate.rows import InputError


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Minutes(_Model):
    """A log-normal delay in business minutes."""

    median: float = Field(gt=0)
    p90: float = Field(gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> Minutes:
        if self.p90 < self.median:
            raise ValueError("p90 must not be below median")
        return self

    def draw(self, rng: random.Random) -> float:
        sigma = math.log(self.p90 / self.median) / 1.2816 if self.p90 > self.median else 0.0
        return rng.lognormvariate(math.log(self.median), sigma) if sigma else self.median


class Rep(_Model):
    id: str
    role: Literal["sdr", "ae", "sdr_manager", "ae_manager", "vp_sales", "vp_marketing", "revops"]
    manager: str | None = None
    territories: list[str] = []  # country codes; empty = any
    acv_tiers: list[str] = []  # empty = any
    capacity: int = Field(default=100_000, ge=0)
    timezone: str = "America/New_York"
    response: Minutes | None = None  # overrides the team's first-response distribution


class Behaviour(_Model):
    """What the team does with a lead; probabilities are per decision."""

    first_response: Minutes = Minutes(median=4, p90=45)  # routing -> first attempt
    decision: Minutes = Minutes(median=20, p90=180)  # first attempt -> accept or reject
    accept_rate: float = Field(default=0.75, ge=0, le=1)  # SDR accepts an MQL
    rejection_mix: dict[str, float] = {"REJ-01": 0.2, "REJ-02": 0.35, "REJ-03": 0.25, "REJ-04": 0.1, "REJ-07": 0.1}
    touch_gap: Minutes = Minutes(median=600, p90=1500)  # between cadence touches of an SAL
    touch_reply_rate: float = Field(default=0.2, ge=0, le=1)  # a touch reaches the prospect
    sql_rate_on_reply: float = Field(default=0.55, ge=0, le=1)  # a conversation becomes an SQL
    handoff_delay: Minutes = Minutes(median=120, p90=600)  # conversation -> SQL handoff
    three_way_intro: Minutes = Minutes(median=30, p90=90)  # SQL -> SDR's intro email (calendar minutes)
    ae_response: Minutes = Minutes(median=90, p90=420)  # SQL -> AE accepts or rejects
    ae_accept_rate: float = Field(default=0.85, ge=0, le=1)
    ae_rejection_mix: dict[str, float] = {"AE-REJ-01": 0.4, "AE-REJ-02": 0.25, "AE-REJ-03": 0.15, "AE-REJ-04": 0.2}
    ae_first_touch: Minutes = Minutes(median=240, p90=900)  # acceptance -> AE's personal touch
    meeting_after: Minutes = Minutes(median=1200, p90=3000)  # acceptance -> discovery meeting held

    @model_validator(mode="after")
    def _mixes(self) -> Behaviour:
        for name in ("rejection_mix", "ae_rejection_mix"):
            mix = getattr(self, name)
            if not mix or any(w < 0 for w in mix.values()) or sum(mix.values()) <= 0:
                raise ValueError(f"{name}: give codes with non-negative weights, not all zero")
        return self


class Team(_Model):
    reps: list[Rep]
    behaviour: Behaviour = Behaviour()

    @model_validator(mode="after")
    def _roster(self) -> Team:
        ids = [r.id for r in self.reps]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"rep ids appear twice: {', '.join(duplicates)}")
        for role in ("sdr", "ae"):
            if not any(r.role == role for r in self.reps):
                raise ValueError(f"the team needs at least one {role}")
        return self

    def rep(self, rep_id: str) -> Rep | None:
        return next((r for r in self.reps if r.id == rep_id), None)

    def check_codes(self, mql_codes: set[str], sql_codes: set[str], policy_version: str) -> None:
        """The team's rejection codes must exist in the policy it runs under."""
        wrong = sorted(set(self.behaviour.rejection_mix) - mql_codes) + \
            sorted(set(self.behaviour.ae_rejection_mix) - sql_codes)
        if wrong:
            raise InputError(f"team: code(s) {', '.join(wrong)} are not rejection codes of policy {policy_version}")


def default_team() -> Team:
    """The roster used without TEAM.yaml: four SDRs and two AEs covering every territory,
    their two managers; its behaviour only matters when the team acts (`--team`)."""
    return Team(reps=[
        Rep(id="sdrm-1", role="sdr_manager"), Rep(id="aem-1", role="ae_manager"),
        *(Rep(id=f"sdr-{i}", role="sdr", manager="sdrm-1") for i in range(1, 5)),
        *(Rep(id=f"ae-{i}", role="ae", manager="aem-1") for i in range(1, 3)),
    ])


def load_team(path: Path) -> Team:
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: not YAML: {exc}") from None
    try:
        return Team.model_validate(data)
    except ValidationError as exc:
        lines = [f"{path}: {'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in exc.errors()]
        raise InputError("\n".join(lines)) from None
