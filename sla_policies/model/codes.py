"""Reason codes (docs/domain.md §7): no disposition is saved without a code of that handoff's set."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import model_validator

from sla_policies.model.base import Collector, PathTarget, Strict
from sla_policies.span import Span


class ReasonCode(Strict):
    code: str
    reason: str
    path: PathTarget  # where the lead goes
    marketing_action: str | None = None  # MQL codes: what marketing must do (§7.1)
    required_action: str | None = None  # SQL codes: what happens next (§7.3)
    reviewer: list[str] = []  # roles that review the rejection (AE-REJ)
    scope: Literal["contact", "company", "domain"] | None = None  # what is suppressed
    # How long the lead stays out: one of a window, permanent, or until enriched; none of
    # them means no suppression (e.g. wrong buyer: the SDR works another contact at once).
    suppression: Span | None = None
    permanent: bool = False
    until_enriched: bool = False
    check_in: Span | None = None  # SDR check-in while recycled (AE-REJ-02: month 6)
    maps_to: list[str] = []  # equivalent codes of another set (§7.2 mapping)
    # §5.3: a REJ code records marketing's miss, so the SDR's response clock ends unbreached.
    voids_response_clock: bool = False
    # Q22 / §6.4: only once the full tier cadence is logged (R8 "no reply", T15's code).
    requires_cadence_exhausted: bool = False

    @model_validator(mode="after")
    def _check(self) -> ReasonCode:
        problems = Collector()
        given = [name for name in ("suppression", "permanent", "until_enriched") if getattr(self, name)]
        if len(given) > 1:
            problems.add(given[1], f"give only one of suppression, permanent and until_enriched (also {given[0]})")
        if self.permanent and self.path != "disqualified":
            problems.add("permanent", "only a disqualification is permanent")
        if self.code in self.maps_to:
            problems.add("maps_to", "a code cannot map to itself")
        problems.raise_if_any()
        return self


# Each set has its own code shape so a code filed under the wrong handoff is caught.
CODE_SETS: dict[str, str] = {
    "mql_rejection": r"REJ-\d{2}",  # §7.1 SDR rejects an MQL (default set)
    "mql_rejection_alt": r"R\d+",  # §7.2 [000] alternative set
    "sql_rejection": r"AE-REJ-\d{2}",  # §7.3 AE rejects an SQL
    "sal_disposition": r"SAL-[A-Z0-9-]+",  # T15/T16/T27: recycle from SAL (R3, R4, R8 meanings)
    "disqualification": r"DQ-[A-Z0-9-]+",  # T17/T26: manual disqualification
}


class ReasonCodes(Strict):
    active_mql_set: Literal["REJ", "R"] = "REJ"  # which set SDRs use at the MQL handoff
    mql_rejection: list[ReasonCode]
    mql_rejection_alt: list[ReasonCode]
    sql_rejection: list[ReasonCode]
    sal_disposition: list[ReasonCode]
    disqualification: list[ReasonCode]

    @model_validator(mode="after")
    def _check(self) -> ReasonCodes:
        problems = Collector()
        for group, pattern in CODE_SETS.items():
            for i, item in enumerate(getattr(self, group)):
                if not re.fullmatch(pattern, item.code):
                    problems.add(f"{group}[{i}].code", f"{item.code!r} does not look like a {group} code ({pattern})")
        for i, item in enumerate(self.sql_rejection):
            if not item.reviewer:
                problems.add(f"sql_rejection[{i}].reviewer", "an AE rejection names who reviews it")
        problems.raise_if_any()
        return self

    def groups(self) -> dict[str, list[ReasonCode]]:
        return {group: getattr(self, group) for group in CODE_SETS}

    def mql_codes(self) -> list[ReasonCode]:
        """The codes an SDR may use to reject an MQL under this policy."""
        return self.mql_rejection if self.active_mql_set == "REJ" else self.mql_rejection_alt

    def by_code(self, code: str) -> ReasonCode | None:
        for items in self.groups().values():
            for item in items:
                if item.code == code:
                    return item
        return None
