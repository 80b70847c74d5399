"""Checks that span the document: every reference resolves, codes are unique, no
suppression undercuts the minimum, ACV tiers tile the number line.

They run on the raw document (plain dicts and lists), defensively, so the loader can
report them together with field errors from the same document: one round of fixes is
enough. Paths are full document paths.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import pairwise
from typing import Any

from sla_policies.model.base import ACV_TIER_IDS
from sla_policies.model.codes import CODE_SETS
from sla_policies.span import Span

Problem = tuple[str, str]


def _map(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _rows(value: Any) -> Iterator[tuple[int, dict]]:
    if isinstance(value, list):
        for i, item in enumerate(value):
            if isinstance(item, dict):
                yield i, item


def _strs(value: Any) -> Iterator[tuple[int, str]]:
    if isinstance(value, list):
        for i, item in enumerate(value):
            if isinstance(item, str):
                yield i, item


def _span(value: Any) -> Span | None:
    if isinstance(value, Span):
        return value
    try:
        return Span.parse(value) if isinstance(value, str) else None
    except ValueError:
        return None


def flat_windows(data: dict) -> dict[str, dict]:
    """window id -> window mapping; a nested group (routing, sdr_response) has no `clock`."""
    flat: dict[str, dict] = {}
    for name, value in _map(data.get("windows")).items():
        value = _map(value)
        if "clock" in value or not all(isinstance(v, dict) for v in value.values()):
            flat[name] = value
        else:
            flat.update({f"{name}.{sub}": v for sub, v in value.items()})
    return flat


def _roles(data: dict) -> list[Problem]:
    problems: list[Problem] = []
    roles = data.get("roles")
    if not isinstance(roles, list):
        return problems  # reported by field validation; every reference would be noise
    known = {r for _, r in _strs(roles)}
    seen: set[str] = set()
    for i, role in _strs(roles):
        if role in seen:
            problems.append((f"roles[{i}]", f"{role!r} is listed twice"))
        seen.add(role)

    sal_codes = {c.get("code") for _, c in _rows(_map(data.get("reason_codes")).get("sal_disposition"))}

    def check(path: str, role: Any) -> None:
        if isinstance(role, str) and role not in known:
            problems.append((path, f"unknown role {role!r}"))

    for name, window in flat_windows(data).items():
        check(f"windows.{name}.owner", window.get("owner"))
        for i, step in _rows(window.get("escalation")):
            check(f"windows.{name}.escalation[{i}].role", step.get("role"))
            forced = step.get("forces")
            if forced is not None and forced not in sal_codes:
                problems.append((f"windows.{name}.escalation[{i}].forces",
                                 f"unknown SAL disposition code {forced!r} (reason_codes.sal_disposition)"))
    for group, items in _map(data.get("reason_codes")).items():
        for i, item in _rows(items):
            for j, role in _strs(item.get("reviewer")):
                check(f"reason_codes.{group}[{i}].reviewer[{j}]", role)
    for i, alert in _rows(_map(data.get("opportunity")).get("alerts")):
        for j, role in _strs(alert.get("alert_to")):
            check(f"opportunity.alerts[{i}].alert_to[{j}]", role)
    for i, level in _rows(data.get("pattern_escalation")):
        for j, role in _strs(level.get("notify")):
            check(f"pattern_escalation[{i}].notify[{j}]", role)
    for i, review in _rows(data.get("reviews")):
        for j, role in _strs(review.get("who")):
            check(f"reviews[{i}].who[{j}]", role)
    for i, scenario in _rows(_map(data.get("recycling")).get("scenarios")):
        check(f"recycling.scenarios[{i}].owner", scenario.get("owner"))
    for part in ("metrics", "tracked"):
        for i, metric in _rows(data.get(part)):
            check(f"{part}[{i}].owner", metric.get("owner"))
    signoff = _map(data.get("signoff"))
    for field in ("mql_definition", "sql_definition"):
        for j, role in _strs(signoff.get(field)):
            check(f"signoff.{field}[{j}]", role)
    check("signoff.arbiter", signoff.get("arbiter"))
    return problems


def _signals_tiers_and_types(data: dict) -> list[Problem]:
    problems: list[Problem] = []
    signal_rows = _map(data.get("scoring")).get("signals")
    signals = {s.get("id") for _, s in _rows(signal_rows)}
    for lead_type, spec in _map(data.get("lead_types")).items():
        ref = _map(spec).get("scoring_signal")
        if isinstance(signal_rows, list) and isinstance(ref, str) and ref not in signals:
            problems.append((f"lead_types.{lead_type}.scoring_signal", f"unknown signal {ref!r}"))
    windows, cadences = flat_windows(data), _map(data.get("cadences"))
    tiers = _map(data.get("lead_tiers"))
    present = {str(k) for k in tiers}
    for tier in ("1", "2", "3"):
        if tiers and tier not in present:
            problems.append(("lead_tiers", f"lead tier {tier} is missing (§4.1 has tiers 1, 2 and 3)"))
    for tier, spec in tiers.items():
        spec = _map(spec)
        window, cadence = spec.get("response_window"), spec.get("cadence")
        if "windows" in data and isinstance(window, str) and window not in windows:
            problems.append((f"lead_tiers.{tier}.response_window", f"unknown window {window!r}"))
        if "cadences" in data and isinstance(cadence, str) and cadence not in cadences:
            problems.append((f"lead_tiers.{tier}.cadence", f"unknown cadence {cadence!r}"))
    return problems


def _codes(data: dict) -> list[Problem]:
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    groups = _map(data.get("reason_codes"))
    for group, items in groups.items():
        for i, item in _rows(items):
            code, path = item.get("code"), f"reason_codes.{group}[{i}].code"
            if not isinstance(code, str):
                continue
            if code in seen:
                problems.append((path, f"duplicate code {code} (also at {seen[code]})"))
            else:
                seen[code] = path
    complete = all(isinstance(groups.get(g), list) for g in CODE_SETS)
    for group, items in groups.items() if complete else ():
        for i, item in _rows(items):
            for j, ref in _strs(item.get("maps_to")):
                if ref not in seen:
                    problems.append((f"reason_codes.{group}[{i}].maps_to[{j}]", f"unknown code {ref!r}"))
    for i, dq in _rows(_map(data.get("qualification")).get("disqualifiers")):
        dq_code = dq.get("reason_code")
        if complete and isinstance(dq_code, str) and dq_code not in seen:
            problems.append((f"qualification.disqualifiers[{i}].reason_code", f"unknown code {dq_code!r}"))
    return problems


def _minimum_suppression(data: dict) -> list[Problem]:
    """§10: "never shorten the 90-d minimum" holds for every time-boxed wait."""
    recycling = _map(data.get("recycling"))
    minimum = _span(recycling.get("minimum_suppression"))
    if minimum is None:
        return []
    problems: list[Problem] = []

    def check(path: str, value: Any) -> None:
        span = _span(value)
        if span is not None and span.sort_key()[0] == minimum.sort_key()[0] and span.sort_key() < minimum.sort_key():
            problems.append((path, f"{span} is shorter than the minimum {minimum} (recycling.minimum_suppression)"))

    for i, scenario in _rows(recycling.get("scenarios")):
        if scenario.get("applies_minimum", True):
            check(f"recycling.scenarios[{i}].suppression", scenario.get("suppression"))
    for cadence_id, cadence in _map(data.get("cadences")).items():
        on_exhausted = _map(_map(cadence).get("on_exhausted"))
        check(f"cadences.{cadence_id}.on_exhausted.suppression", on_exhausted.get("suppression"))
    for group, items in _map(data.get("reason_codes")).items():
        for i, item in _rows(items):
            check(f"reason_codes.{group}[{i}].suppression", item.get("suppression"))
    for i, dq in _rows(_map(data.get("qualification")).get("disqualifiers")):
        check(f"qualification.disqualifiers[{i}].suppression", dq.get("suppression"))
    check("defaults.default_disqualification_suppression",
          _map(data.get("defaults")).get("default_disqualification_suppression"))
    return problems


def _acv_tiers(data: dict) -> list[Problem]:
    """§3.2: the five tiers tile [0, inf) without gaps or overlaps, each id once."""
    problems: list[Problem] = []
    rows = list(_rows(data.get("acv_tiers")))
    ids = [t.get("id") for _, t in rows]
    for (i, tier) in rows:
        if ids.count(tier.get("id")) > 1 and ids.index(tier.get("id")) != i:
            problems.append((f"acv_tiers[{i}].id", f"duplicate ACV tier {tier.get('id')!r}"))
    missing = [t for t in ACV_TIER_IDS if t not in ids]
    if rows and missing:
        problems.append(("acv_tiers", f"missing ACV tier(s): {', '.join(missing)}"))
    numeric = [(i, t) for i, t in rows if isinstance(t.get("min_acv"), (int, float))]
    numeric.sort(key=lambda it: it[1]["min_acv"])
    if numeric and numeric[0][1]["min_acv"] != 0:
        problems.append((f"acv_tiers[{numeric[0][0]}].min_acv", "the lowest tier must start at 0"))
    for (_, prev), (j, nxt) in pairwise(numeric):
        if prev.get("max_acv") != nxt["min_acv"]:
            end = prev.get("max_acv")
            end_text = f"{end:g}" if isinstance(end, (int, float)) else str(end)
            problems.append((f"acv_tiers[{j}].min_acv",
                             f"{nxt.get('id')} starts at {nxt['min_acv']:g} but {prev.get('id')} ends at "
                             f"{end_text}: tiers must be contiguous [min, max)"))
    if numeric and numeric[-1][1].get("max_acv") is not None:
        problems.append((f"acv_tiers[{numeric[-1][0]}].max_acv", "the highest tier must be open-ended (null)"))
    # §3.6's per-tier minimum is stated twice (tier table and Committee-Engaged rule): they must agree.
    contacts = _map(_map(_map(data.get("qualification")).get("committee_engaged")).get("min_contacts"))
    for i, tier in rows:
        if tier.get("id") in contacts and tier.get("committee_min_contacts") != contacts[tier["id"]]:
            problems.append((f"qualification.committee_engaged.min_contacts.{tier['id']}",
                             f"{contacts[tier['id']]} disagrees with acv_tiers[{i}].committee_min_contacts "
                             f"({tier.get('committee_min_contacts')})"))
    return problems


def _unique_ids(data: dict) -> list[Problem]:
    problems: list[Problem] = []
    lists = {
        "opportunity.stages": _map(data.get("opportunity")).get("stages"),
        "opportunity.alerts": _map(data.get("opportunity")).get("alerts"),
        "recycling.scenarios": _map(data.get("recycling")).get("scenarios"),
        "metrics": data.get("metrics"),
        "tracked": data.get("tracked"),
        "reviews": data.get("reviews"),
    }
    for path, items in lists.items():
        seen: set[Any] = set()
        for i, item in _rows(items):
            if item.get("id") in seen:
                problems.append((f"{path}[{i}].id", f"duplicate id {item.get('id')!r}"))
            seen.add(item.get("id"))
    rated = {m.get("id") for _, m in _rows(data.get("metrics"))}
    for i, item in _rows(data.get("tracked")):
        if item.get("id") in rated:
            problems.append((f"tracked[{i}].id", f"{item.get('id')!r} is also a rated metric (metrics)"))
    weeks = [(i, lv.get("weeks")) for i, lv in _rows(data.get("pattern_escalation"))]
    for (_, prev), (i, cur) in pairwise(weeks):
        if isinstance(prev, int) and isinstance(cur, int) and cur <= prev:
            problems.append((f"pattern_escalation[{i}].weeks", f"must be more than the previous level ({prev})"))
    return problems


def cross_reference_problems(data: dict) -> list[Problem]:
    """Every problem that needs more than one part of the document to see."""
    return [
        *_roles(data),
        *_signals_tiers_and_types(data),
        *_codes(data),
        *_minimum_suppression(data),
        *_acv_tiers(data),
        *_unique_ids(data),
    ]
