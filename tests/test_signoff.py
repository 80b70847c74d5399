"""Who must sign a policy release (sla_policies/signoff.py): both definitions' owners and
signers every time, the arbiter too for a major change; a signature counts only for the
content it was given on."""

from __future__ import annotations

from sla_policies.loader import default_policy, parse_policy
from sla_policies.signoff import Signature, major_changes, missing_roles, required_signoffs
from tests.policy_variants import faster_tier1, routing_change_text


def roles(required) -> list[str]:
    return [r.role for r in required]


def test_a_maintenance_release_needs_both_vps_and_not_the_arbiter():
    required = required_signoffs(faster_tier1("2099.1.1"), default_policy())
    assert roles(required) == ["vp_marketing", "vp_sales"]
    assert [r.reason for r in required] == ["owns the MQL definition; signs the SQL definition",
                                              "signs the MQL definition; owns the SQL definition"]


def test_a_routing_fundamental_is_a_major_change_that_the_ceo_endorses():
    new = parse_policy(routing_change_text("2099.1.2"))
    assert major_changes(new, default_policy()) == ["routing.segment_keys"]
    required = required_signoffs(new, default_policy())
    assert roles(required) == ["vp_marketing", "vp_sales", "ceo"]
    assert required[-1].reason == "endorses a major change (routing.segment_keys)"


def test_a_first_version_is_major_as_a_whole():
    assert roles(required_signoffs(default_policy(), None)) == ["vp_marketing", "vp_sales", "ceo"]


def test_only_signatures_on_this_content_count():
    required = required_signoffs(faster_tier1("2099.1.3"), default_policy())
    signed = [Signature("vp_marketing", "vpm", "abc", "2026-12-01T10:00:00+00:00"),
              Signature("vp_sales", "vps", "old", "2026-12-01T10:00:00+00:00")]
    assert missing_roles(required, signed, "abc") == ["vp_sales"]
    assert missing_roles(required, signed, "new") == ["vp_marketing", "vp_sales"]
