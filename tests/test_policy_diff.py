"""Field-level differences between policy versions."""

from __future__ import annotations

import copy

from sla_policies.diff import FieldChange, diff_policies
from sla_policies.loader import default_policy, policy_from_data

P = default_policy()
RAW = P.model_dump(mode="json")


def changed(mutate) -> dict[str, tuple]:
    data = copy.deepcopy(RAW)
    mutate(data)
    return {c.path: (c.old, c.new) for c in diff_policies(P, policy_from_data(data))}


def test_a_policy_does_not_differ_from_itself():
    assert diff_policies(P, P) == []


def test_changes_are_field_level_and_reordering_is_not_a_change():
    def mutate(d):
        d["version"] = "2027.1.0"
        d["windows"]["sdr_response"]["tier1"]["target"] = "10m"
        d["scoring"]["signals"].reverse()
        d["scoring"]["signals"][0]["points"] = -60  # email_unsubscribe, now first
        d["metrics"].reverse()
        d["cadences"]["tier2"]["touches"][5]["day"] = 10

    assert changed(mutate) == {
        "version": ("2026.11.0", "2027.1.0"),
        "windows.sdr_response.tier1.target": ("5m", "10m"),
        "scoring.signals[id=email_unsubscribe].points": (-50, -60),
        "cadences.tier2.touches[number=6].day": (9, 10),
    }


def test_records_are_keyed_by_code():
    def mutate(d):
        d["reason_codes"]["mql_rejection"][1]["suppression"] = "180d"
        d["reason_codes"]["disqualification"].pop()  # DQ-INVALID

    changes = changed(mutate)
    assert changes["reason_codes.mql_rejection[code=REJ-02].suppression"] == ("90d", "180d")
    old, new = changes["reason_codes.disqualification[code=DQ-INVALID]"]
    assert old["path"] == "data_hold" and new is None


def test_unkeyed_records_of_equal_length_compare_by_position():
    def mutate(d):
        d["windows"]["ae_first_touch"]["escalation"][1]["after"] = "48h"

    assert changed(mutate) == {"windows.ae_first_touch.escalation[1].after": ("24h", "48h")}


def test_an_added_alternative_window_is_one_change():
    window = {"stage": "L2", "owner": "sdr", "target": "48h", "breach": "48h", "clock": "calendar", "source": "[002]"}
    changes = changed(lambda d: d["windows"].update(disposition=window))
    assert list(changes) == ["windows.disposition"]
    assert changes["windows.disposition"][0] is None and changes["windows.disposition"][1]["target"] == "48h"


def test_changes_print_readably():
    assert str(FieldChange(path="scoring.mql_threshold", old=60, new=65)) == "scoring.mql_threshold: 60 -> 65"
