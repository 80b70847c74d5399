"""Policy strictness: every mistake is refused and named by its path in the document."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import types
import typing
from datetime import date

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from sla_policies.loader import (
    PolicyError,
    bundled_policy_files,
    default_policy,
    load_policy_file,
    parse_policy,
    policy_from_data,
    validate_summary,
    version_key,
)
from sla_policies.model import Policy, Window
from sla_policies.span import Span

DEFAULT_FILE = bundled_policy_files()[-1]
RAW = yaml.safe_load(DEFAULT_FILE.read_text())


def doc() -> dict:
    return copy.deepcopy(RAW)


def issues_of(data) -> list[str]:
    with pytest.raises(PolicyError) as err:
        policy_from_data(data)
    return [str(i) for i in err.value.errors]


def _set(path: str, value):
    """A mutation setting one value, by a path of keys and list indexes ("a.b.0.c")."""
    def mutate(d):
        *head, last = [int(p) if p.isdigit() else p for p in path.split(".")]
        for part in head:
            d = d[part]
        d[last] = value
    return mutate


# (mutation, the single issue it must produce)
MISTAKES = [
    (lambda d: d["scoring"].update(bogus=1), "scoring.bogus: unknown key"),
    (_set("windows.sdr_response.tier1.target", "0m"), "windows.sdr_response.tier1.target: must be > 0"),
    (_set("windows.sal_decision.breach", "2h"), "windows.sal_decision.breach: must not be before target (4h)"),
    (_set("windows.sal_resolution.warning", "eod15"),
     "windows.sal_resolution.warning: must not be after breach (eod14)"),
    (_set("reason_codes.mql_rejection.4.code", "REJ-02"),
     "reason_codes.mql_rejection[4].code: duplicate code REJ-02 (also at reason_codes.mql_rejection[1].code)"),
    (_set("windows.ae_first_touch.escalation.1.role", "vp_salez"),
     "windows.ae_first_touch.escalation[1].role: unknown role 'vp_salez'"),
    (_set("calendars.company_timezone", "Mars/Base"), "calendars.company_timezone: unknown IANA timezone 'Mars/Base'"),
    (_set("cadences.tier2.on_exhausted.suppression", "30d"),
     "cadences.tier2.on_exhausted.suppression: 30d is shorter than the minimum 90d (recycling.minimum_suppression)"),
    (lambda d: d["cadences"]["tier3"]["touches"].pop(), "cadences.tier3.touches: 4 touches listed for 5 attempts"),
    (_set("cadences.tier2.touches.3.day", 1),
     "cadences.tier2.touches[3].day: must not be before the previous touch (day 2)"),
    (_set("cadences.tier2.span", "8bd"), "cadences.tier2.touches[5].day: day 9 falls outside the 8bd span"),
    (_set("cadences.tier1.touches.2.channel", "fax"),
     "cadences.tier1.touches[2].channel: Input should be 'phone', 'email' or 'linkedin'"),
    (lambda d: d["windows"].pop("ae_acceptance"), "windows.ae_acceptance: required key is missing"),
    (_set("lead_types.webinar.scoring_signal", "nope"), "lead_types.webinar.scoring_signal: unknown signal 'nope'"),
    (_set("windows.sdr_response.tier2.after_hours.by_next_business_day_at", 600),
     "windows.sdr_response.tier2.after_hours.by_next_business_day_at: must be a local time written as a quoted "
     "'HH:MM' string, e.g. '10:00'"),
    (_set("windows.briefing_doc.target", "1h"), "windows.briefing_doc.target: a gate has no deadline (clock: gate)"),
    (_set("windows.opp_next_step.breach", "7bd"),
     "windows.opp_next_step.breach: 7bd counts business days; use clock: business"),
    (_set("windows.scoring_latency.breach", "1d"),
     "windows.scoring_latency.breach: 1d counts calendar days; use bd/eodN on a business clock"),
    (_set("calendars.named.default.close", "07:00"), "calendars.named.default.close: must be after open (08:00)"),
    (_set("calendars.named.default.weekdays", ["mon", "mon"]),
     "calendars.named.default.weekdays[1]: mon is listed twice"),
    (_set("acv_tiers.2.min_acv", 35000),
     "acv_tiers[2].min_acv: 30k_75k starts at 35000 but 10k_30k ends at 30000: tiers must be contiguous [min, max)"),
    (_set("acv_tiers.3.committee_min_contacts", 3),
     "qualification.committee_engaged.min_contacts.75k_200k: 4 disagrees with acv_tiers[3].committee_min_contacts (3)"),
    (_set("reason_codes.sql_rejection.0.code", "REJ-99"),
     "reason_codes.sql_rejection[0].code: 'REJ-99' does not look like a sql_rejection code (AE-REJ-\\d{2})"),
    (_set("reason_codes.mql_rejection.5.suppression", "90d"),
     "reason_codes.mql_rejection[5].permanent: give only one of suppression, permanent and until_enriched "
     "(also suppression)"),
    (_set("reason_codes.sal_disposition.0.maps_to", ["R9"]),
     "reason_codes.sal_disposition[0].maps_to[0]: unknown code 'R9'"),
    (_set("reason_codes.mql_rejection.0.path", "limbo"),
     "reason_codes.mql_rejection[0].path: Input should be 'inquiry', 'mql', 'sal', 'sql', 'opportunity', 'recycled', "
     "'disqualified', 'manager_review', 'data_hold', 'territory_hold', 'routed_out', 'plg', 'reroute' or 'reassign'"),
    (lambda d: d["lead_tiers"].pop(3), "lead_tiers: lead tier 3 is missing (§4.1 has tiers 1, 2 and 3)"),
    (_set("lead_tiers.2.cadence", "tier9"), "lead_tiers.2.cadence: unknown cadence 'tier9'"),
    (_set("scoring.manager_review.max", 60), "scoring.manager_review.max: must be below mql_threshold (60)"),
    (_set("scoring.decay.1.total_points", -5),
     "scoring.decay[1].total_points: a later step cannot decay less than an earlier one (-10)"),
    (_set("metrics.8.red", 2), "metrics[8].red: must not be below green (5) when lower is better"),
    (_set("recycling.scenarios.0.suppression", "60d"),
     "recycling.scenarios[0].suppression: 60d is shorter than the minimum 90d (recycling.minimum_suppression)"),
    (_set("pattern_escalation.1.notify", ["board"]), "pattern_escalation[1].notify[0]: unknown role 'board'"),
    (_set("lead_types.newsletter.first_outreach", "1h"),
     "lead_types.newsletter.first_outreach: a lead type that never reaches an SDR has none"),
    (_set("version", "bad version!"), "version: String should match pattern '^[0-9A-Za-z][0-9A-Za-z._-]{0,63}$'"),
    (_set("lead_tiers.4", RAW["lead_tiers"][3]), "lead_tiers.4: Input should be less than or equal to 3"),
]


@pytest.mark.parametrize("mutate,expected", MISTAKES, ids=[m[1].split(":")[0] for m in MISTAKES])
def test_each_mistake_is_one_issue_named_by_its_path(mutate, expected):
    data = doc()
    mutate(data)
    assert issues_of(data) == [expected]


def test_three_distinct_mistakes_give_exactly_three_issues_each_at_its_path():
    data = doc()
    data["windows"]["sdr_response"]["tier1"]["target"] = "0m"
    data["windows"]["ae_first_touch"]["escalation"][1]["role"] = "vp_salez"
    data["reason_codes"]["sql_rejection"][0]["code"] = "AE-REJ-02"
    found = issues_of(data)
    assert [f.split(": ")[0] for f in found] == [
        "windows.sdr_response.tier1.target",
        "windows.ae_first_touch.escalation[1].role",
        "reason_codes.sql_rejection[1].code",
    ], found


def test_yaml_syntax_errors_say_where():
    with pytest.raises(PolicyError) as err:
        parse_policy("version: [1, 2\n")
    [issue] = err.value.errors
    assert issue.path == "$" and "line 2" in issue.message


def test_a_key_given_twice_is_refused_with_both_lines():
    with pytest.raises(PolicyError) as err:
        parse_policy("version: '1'\ntitle: a\nversion: '2'\n")
    assert [str(i) for i in err.value.errors] == ["$: duplicate key 'version' at line 3 is already given at line 1"]
    with pytest.raises(PolicyError, match="duplicate key 'a'"):
        parse_policy('{"a": 1, "a": 2}', fmt="json")


@pytest.mark.parametrize("text", ["- a\n- b\n", "just text\n", ""])
def test_a_document_must_be_a_mapping(text):
    with pytest.raises(PolicyError) as err:
        parse_policy(text)
    assert [i.path for i in err.value.errors] == ["$"]


def test_json_round_trip_is_lossless():
    policy = default_policy()
    assert parse_policy(policy.model_dump_json(), fmt="json") == policy


def test_yaml_round_trip_is_lossless():
    policy = default_policy()
    assert parse_policy(yaml.safe_dump(policy.model_dump(mode="json"), sort_keys=False)) == policy


def test_the_policy_is_frozen():
    policy = default_policy()
    with pytest.raises(ValidationError):
        policy.version = "x"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        policy.windows.sal_decision.target = Span.parse("1m")  # type: ignore[misc]


def test_windows_resolve_by_dotted_id():
    policy = default_policy()
    assert policy.window("sdr_response.tier1").target == Span.parse("5m")
    assert policy.window("routing.standard").target == Span.parse("15m")
    assert all(isinstance(policy.window(w), Window) for w in policy.window_ids())
    with pytest.raises(KeyError):
        policy.window("sdr_response")
    with pytest.raises(KeyError):
        policy.window("lead_feedback")  # an alternative window, absent by default
    # The one-window lookup agrees with the list of every window, and knows no other id.
    assert [(w, policy.window(w)) for w in policy.window_ids()] == policy.windows.items()
    for unknown in ("", "items", "model_fields", "sdr_response.tier9", "sdr_response.tier1.x", "nope.tier1"):
        assert policy.windows.get(unknown) is None, unknown


def test_alternative_windows_validate_when_given():
    data = doc()
    data["windows"]["disposition"] = {"stage": "L2", "owner": "sdr", "target": "48h", "breach": "48h",
                                      "clock": "calendar", "source": "[002]"}
    policy = policy_from_data(data)
    assert "disposition" in policy.window_ids() and len(policy.window_ids()) == 28


def test_versions_sort_naturally_and_the_newest_is_the_default():
    assert sorted(["2026.11.0", "2026.9.0", "2027.1.0", "2026.11.1"], key=version_key) == [
        "2026.9.0", "2026.11.0", "2026.11.1", "2027.1.0"]
    assert [p.name for p in bundled_policy_files()][-1] == "2026.11.0.yaml"
    assert default_policy() is default_policy()
    assert default_policy() == load_policy_file(str(DEFAULT_FILE))
    assert default_policy().effective_date == date(2026, 11, 23)


def test_validate_summary_is_one_line():
    summary = validate_summary(default_policy())
    assert summary == ("policy 2026.11.0 (2026-11-23) is valid: 27 windows, 3 cadences, 16 scoring signals, "
                       "28 reason codes, 18 metrics")


# ----------------------------------------------------------------------------- fuzzing

def _model_of(annotation) -> tuple[str, type[BaseModel]] | None:
    """("model" | "list" | "dict", model class) when an annotation holds models."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "model", annotation
    if origin in (typing.Union, types.UnionType):
        inner = [_model_of(a) for a in args if a is not type(None)]
        return inner[0] if len(inner) == 1 else None
    if origin is list and args and isinstance(args[0], type) and issubclass(args[0], BaseModel):
        return "list", args[0]
    if origin is dict and len(args) == 2 and isinstance(args[1], type) and issubclass(args[1], BaseModel):
        return "dict", args[1]
    return None


def _is_span(annotation) -> bool:
    return annotation is Span or (typing.get_origin(annotation) in (typing.Union, types.UnionType)
                                  and Span in typing.get_args(annotation))


def _fields(model: type[BaseModel], data, prefix=()):
    """(path, field info) of every field present in the raw document, recursively."""
    if not isinstance(data, dict):
        return
    for name, info in model.model_fields.items():
        if name not in data:
            continue
        path = prefix + (name,)
        yield path, info
        nested = _model_of(info.annotation)
        if nested is None:
            continue
        kind, cls = nested
        value = data[name]
        if kind == "model":
            yield from _fields(cls, value, path)
        elif kind == "list" and isinstance(value, list):
            for i, item in enumerate(value):
                yield from _fields(cls, item, path + (i,))
        elif kind == "dict" and isinstance(value, dict):
            for key, item in value.items():
                yield from _fields(cls, item, path + (key,))


def _get(data, path):
    for part in path:
        data = data[part]
    return data


FIELDS = list(_fields(Policy, RAW))
REQUIRED = [path for path, info in FIELDS if info.is_required()]
SPANS = [path for path, info in FIELDS if _is_span(info.annotation) and isinstance(_get(RAW, path), str)]
def _dicts(data, prefix=()):
    if isinstance(data, dict):
        yield prefix
        for key, value in data.items():
            yield from _dicts(value, prefix + (key,))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from _dicts(value, prefix + (i,))


DICTS = list(_dicts(RAW))


def _text(path) -> str:
    """The loader's spelling of a path: [i] for a list index, .key for a mapping key."""
    text, node = "", RAW
    for part in path:
        text += f"[{part}]" if isinstance(node, list) else (f".{part}" if text else str(part))
        node = node[part]
    return text


def test_the_fuzzer_covers_the_document():
    assert len(REQUIRED) > 300 and len(SPANS) > 100 and len(DICTS) > 150


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_a_broken_document_never_loads_and_says_where(data):
    """Random mutations of the default: each is refused with an issue at the right path."""
    broken = doc()
    kind = data.draw(st.sampled_from(["drop_required", "zero_span", "unknown_key"]))
    if kind == "drop_required":
        path = data.draw(st.sampled_from(REQUIRED))
        del _get(broken, path[:-1])[path[-1]]
        expected = (_text(path), "required key is missing")
    elif kind == "zero_span":
        path = data.draw(st.sampled_from(SPANS))
        _get(broken, path[:-1])[path[-1]] = "0m"
        expected = (_text(path), "must be > 0")
    else:
        path = data.draw(st.sampled_from(DICTS))
        key = "x_" + data.draw(st.text("abcdefgh", min_size=1, max_size=6))
        _get(broken, path)[key] = 1
        expected = None  # in a free mapping (lead_types, cadences, ...) the message depends on the value type
    with pytest.raises(PolicyError) as err:
        policy_from_data(broken)
    issues = [(i.path, i.message) for i in err.value.errors]
    assert issues and all(p and p != "$" for p, _ in issues), issues
    if expected is not None:
        assert expected in issues, issues
    else:
        parent = _text(path)
        assert any(p.startswith(f"{parent}.{key}" if parent else key) for p, _ in issues), issues


# ----------------------------------------------------------------------------- the CLI contract

def _cli(*args):
    return subprocess.run([sys.executable, "-m", "handoff.cli", *args], capture_output=True, text=True, timeout=60)


def test_cli_validate_accepts_the_default():
    result = _cli("policy", "validate", str(DEFAULT_FILE))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == validate_summary(default_policy())


def test_cli_validate_prints_every_error_with_its_path(tmp_path):
    data = doc()
    data["windows"]["sdr_response"]["tier1"]["target"] = "0m"
    data["windows"]["ae_first_touch"]["escalation"][1]["role"] = "vp_salez"
    data["cadences"]["tier1"]["touches"][2]["channel"] = "fax"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data, default=str))
    result = _cli("policy", "validate", str(bad))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines[0] == "windows.sdr_response.tier1.target: must be > 0"
    assert lines[1].startswith("cadences.tier1.touches[2].channel: Input should be 'phone', 'email' or 'linkedin'")
    assert lines[2] == "windows.ae_first_touch.escalation[1].role: unknown role 'vp_salez'"
    assert lines[3].endswith("3 error(s)")
