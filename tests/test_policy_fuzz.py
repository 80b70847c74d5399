"""More hypothesis fuzzing of policy documents (beside test_policy_model's missing keys,
zero spans and unknown keys): wrong types at any leaf, unknown timezones, impossible clock
times. An invalid document never loads, and the error names where it is."""

from __future__ import annotations

import copy
from zoneinfo import ZoneInfo

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sla_policies.loader import PolicyError, bundled_policy_files, policy_from_data

RAW = yaml.safe_load(bundled_policy_files()[-1].read_text())


def _leaves(node, path=()):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _leaves(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _leaves(value, (*path, i))
    else:
        yield path


LEAVES = list(_leaves(RAW))


def _set(doc, path, value):
    node = doc
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value


def _text(path) -> str:
    """The loader's way of writing a path: [i] in a list, .key in a mapping (int keys too)."""
    out, node = "", RAW
    for part in path:
        out += f"[{part}]" if isinstance(node, list) else (f".{part}" if out else str(part))
        node = node[part]
    return out


def _refused(doc) -> list[str]:
    with pytest.raises(PolicyError) as err:
        policy_from_data(doc)
    paths = [i.path for i in err.value.errors]
    assert paths and all(p and p != "$" for p in paths)
    return paths


def test_the_fuzzer_reaches_every_leaf():
    assert len(LEAVES) > 500


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(LEAVES), wrong=st.sampled_from([{"x": 1}, [[1]], {"nested": {"deep": []}}]))
def test_a_wrong_type_at_any_leaf_never_loads(path, wrong):
    doc = copy.deepcopy(RAW)
    _set(doc, path, wrong)
    paths = _refused(doc)
    # The error is at the leaf, or (in a list or free mapping) at or below its parent.
    parent = _text(path[:-1])
    assert any(p.startswith(parent) for p in paths), (path, paths)


def _unknown_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
        return False
    except Exception:  # noqa: BLE001 - any refusal by zoneinfo means "not a timezone"
        return True


@settings(max_examples=100, deadline=None)
@given(field=st.sampled_from(["company_timezone", "fallback_timezone"]),
       name=st.text(min_size=1, max_size=40).filter(_unknown_zone))
def test_an_unknown_timezone_never_loads(field, name):
    doc = copy.deepcopy(RAW)
    doc["calendars"][field] = name
    assert f"calendars.{field}" in _refused(doc)


@settings(max_examples=100, deadline=None)
@given(which=st.sampled_from(["open", "close"]),
       hour=st.integers(24, 99), minute=st.integers(0, 99))
def test_an_impossible_clock_time_never_loads(which, hour, minute):
    doc = copy.deepcopy(RAW)
    doc["calendars"]["named"]["default"][which] = f"{hour:02d}:{minute:02d}"
    assert any(p.startswith(f"calendars.named.default.{which}") for p in _refused(doc))
