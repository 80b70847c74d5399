"""Policy strictness: every mistake is refused and named by its path in the document."""

from __future__ import annotations

import copy
import subprocess
import sys

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sla_policies.diff import diff_policies
from sla_policies.document import render_policy
from sla_policies.loader import (
    PolicyError,
    bundled_policy_files,
    default_policy,
    parse_policy,
    policy_from_data,
)

DEFAULT_FILE = bundled_policy_files()[-1]
RAW = yaml.safe_load(DEFAULT_FILE.read_text())


def doc():
    return copy.deepcopy(RAW)


def issues_of(data) -> list[str]:
    with pytest.raises(PolicyError) as err:
        policy_from_data(data)
    return [str(i) for i in err.value.errors]


@pytest.mark.parametrize("mutate,expected", [
    (lambda d: d["scoring"].update(bogus=1), "scoring.bogus: unknown key"),
    (lambda d: d["windows"]["sdr_response"]["tier1"].update(target="0m"),
     "windows.sdr_response.tier1.target: must be > 0"),
    (lambda d: d["windows"]["sal_decision"].update(breach="2h"),
     "windows.sal_decision: breach (2h) must not be before target (4h)"),
    (lambda d: d["reason_codes"]["mql_rejection"][3].update(code="REJ-02"),
     "reason_codes.mql_rejection[3].code: duplicate code REJ-02 (also at reason_codes.mql_rejection[1].code)"),
    (lambda d: d["windows"]["ae_first_touch"]["escalation"][1].update(role="vp_salez"),
     "windows.ae_first_touch.escalation[1].role: unknown role 'vp_salez'"),
    (lambda d: d["calendars"].update(company_timezone="Mars/Base"),
     "calendars.company_timezone: unknown IANA timezone 'Mars/Base'"),
    (lambda d: d["cadences"]["tier2"]["on_exhausted"].update(suppression="30d"),
     "cadences.tier2.on_exhausted.suppression: 30d is shorter than the minimum 90d"),
    (lambda d: d["cadences"]["tier3"]["touches"].pop(),
     "cadences.tier3: 4 touches listed for 5 attempts"),
    (lambda d: d["windows"].pop("ae_acceptance"), "windows.ae_acceptance: required key is missing"),
    (lambda d: d["lead_types"]["webinar"].update(scoring_signal="nope"),
     "lead_types.webinar.scoring_signal: unknown signal 'nope'"),
])
def test_each_mistake_is_named_by_its_path(mutate, expected):
    data = doc()
    mutate(data)
    assert expected in issues_of(data)


def test_three_distinct_mistakes_give_exactly_three_errors():
    data = doc()
    data["windows"]["sdr_response"]["tier1"]["target"] = "0m"
    data["windows"]["ae_first_touch"]["escalation"][1]["role"] = "vp_salez"
    data["reason_codes"]["sql_rejection"][0]["code"] = "REJ-01"
    found = issues_of(data)
    assert len(found) == 3, found
    assert [f.split(":")[0] for f in found] == [
        "windows.sdr_response.tier1.target",
        "windows.ae_first_touch.escalation[1].role",
        "reason_codes.sql_rejection[0].code",
    ]


def test_yaml_syntax_errors_say_where():
    with pytest.raises(PolicyError) as err:
        parse_policy("version: [1, 2\n")
    assert err.value.errors[0].path == "$"
    assert "line" in err.value.errors[0].message


def test_a_document_must_be_a_mapping():
    with pytest.raises(PolicyError, match="must be a mapping"):
        parse_policy("- a\n- b\n")


def test_json_round_trip_is_lossless():
    policy = default_policy()
    assert parse_policy(policy.model_dump_json(), fmt="json") == policy


def _paths(data, prefix=()):
    if isinstance(data, dict):
        for k, v in data.items():
            yield prefix + (k,)
            yield from _paths(v, prefix + (k,))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield prefix + (i,)
            yield from _paths(v, prefix + (i,))


ALL_PATHS = list(_paths(RAW))
def _get(data, path):
    for part in path:
        data = data[part]
    return data


DICTS = [p for p in [(), *ALL_PATHS] if isinstance(_get(RAW, p), dict)]
SPANS = [p for p in ALL_PATHS if isinstance(_get(RAW, p), str) and p[-1] in
         ("target", "breach", "warning", "routing", "suppression", "repeat_window", "after", "max_age", "span")]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["unknown_key", "zero_span", "drop_required"]), st.data())
def test_broken_documents_never_load(kind, data):
    """Fuzzing the default document: every broken variant is refused with a located error."""
    broken = doc()
    if kind == "unknown_key":
        path = data.draw(st.sampled_from(DICTS))
        target = _get(broken, path)
        target["x_" + data.draw(st.text("abcdefgh", min_size=1, max_size=6))] = 1
    elif kind == "zero_span":
        path = data.draw(st.sampled_from(SPANS))
        _get(broken, path[:-1])[path[-1]] = "0m"
    else:
        required = [p for p in DICTS if p and p[0] in ("windows", "scoring", "sql_gate") and
                    isinstance(_get(RAW, p), dict) and "clock" in _get(RAW, p)]
        path = data.draw(st.sampled_from(required))
        del _get(broken, path[:-1])[path[-1]]
    with pytest.raises(PolicyError) as err:
        policy_from_data(broken)
    assert err.value.errors and all(e.path for e in err.value.errors)


def test_diff_reports_field_level_changes_and_ignores_reordering():
    data = doc()
    data["version"] = "2027.1.0"
    data["windows"]["sdr_response"]["tier1"]["target"] = "10m"
    data["scoring"]["signals"].reverse()
    data["scoring"]["signals"][0]["points"] = -60  # email_unsubscribe, now first
    changes = {c.path: (c.old, c.new) for c in diff_policies(default_policy(), policy_from_data(data))}
    assert changes == {
        "version": ("2026.11.0", "2027.1.0"),
        "windows.sdr_response.tier1.target": ("5m", "10m"),
        "scoring.signals[id=email_unsubscribe].points": (-50, -60),
    }


def test_rendered_document_states_the_rules_people_sign():
    md = render_policy(default_policy())
    for text in ("## MQL definition", "## Response windows", "## Cadences", "## Feedback codes",
                 "## Escalation", "## Metrics", "## Review cadence",
                 "| sdr_response.tier1 | sdr | 5 business min | — | 2 business hours | business | "
                 "30 business min after the next business-day open | sdr manager, then vp sales (2 business days later)"
                 " + reassignment (proposed) |",
                 "| sal_resolution | sdr | end of business day 14 | end of business day 12 |",
                 "| REJ-06 | competitor employee | disqualified | permanent |"):
        assert text in md
    html = render_policy(default_policy(), fmt="html")
    assert html.startswith("<!doctype html>") and "<th>window</th>" in html and "REJ-06" in html


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "handoff.cli", *args], capture_output=True, text=True, timeout=60)


def test_cli_validate_accepts_the_default():
    result = _cli("policy", "validate", str(DEFAULT_FILE))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith("policy 2026.11.0 (2026-11-23) is valid: 27 windows")
    assert len(result.stdout.strip().splitlines()) == 1


def test_cli_validate_prints_every_error_with_its_path(tmp_path):
    data = doc()
    data["windows"]["sdr_response"]["tier1"]["target"] = "0m"
    data["windows"]["ae_first_touch"]["escalation"][1]["role"] = "vp_salez"
    data["cadences"]["tier1"]["touches"][2]["channel"] = "fax"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data))
    result = _cli("policy", "validate", str(bad))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines[0] == "windows.sdr_response.tier1.target: must be > 0"
    assert lines[1].startswith("cadences.tier1.touches[2].channel: Input should be 'phone', 'email' or 'linkedin'")
    assert lines[2] == "windows.ae_first_touch.escalation[1].role: unknown role 'vp_salez'"
    assert lines[3].endswith("3 error(s)")


def test_cli_render_prints_the_document():
    result = _cli("policy", "render", str(DEFAULT_FILE))
    assert result.returncode == 0
    assert result.stdout.startswith("# Marketing-to-Sales Lead Handling SLA")
