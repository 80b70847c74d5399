"""The policy's transition table decides what is allowed, for the workflow and the API alike."""

import pytest

from sla_policies.lifecycle.errors import Refused
from sla_policies.lifecycle.table import events_allowed, find
from sla_policies.loader import default_policy
from sla_policies.model.transitions import ALL_STAGES, TO_TOKENS

POLICY = default_policy()


def test_sdr_accepts_an_mql():
    rule = find(POLICY, "mql", "accept", "sdr")
    assert (rule.id, rule.to) == ("T12", "sal")


def test_ae_accepts_an_sql_into_an_opportunity():
    assert find(POLICY, "sql", "accept", "ae").to == "opportunity"


def test_accept_in_the_wrong_stage_is_a_conflict_that_says_why():
    with pytest.raises(Refused) as refused:
        find(POLICY, "inquiry", "accept", "sdr")
    assert refused.value.status == 409
    assert "'accept' is not valid for a lead in stage 'inquiry'" in refused.value.reason


def test_the_wrong_role_is_forbidden():
    with pytest.raises(Refused) as refused:
        find(POLICY, "sql", "accept", "sdr")
    assert refused.value.status == 403
    assert "ae" in refused.value.reason


def test_managers_may_act_for_their_reps():
    assert find(POLICY, "mql", "accept", "sdr_manager").to == "sal"
    assert find(POLICY, "sql", "reject", "ae_manager").to == "by_code"


def test_competitor_disqualification_is_open_to_readers_in_any_open_stage():
    for stage in ("inquiry", "mql", "sal", "sql", "opportunity"):
        rule = find(POLICY, stage, "disqualify_competitor", "sdr")
        assert (rule.to, rule.access) == ("disqualified", "reader")  # sla_policies/access.py decides who reads


def test_closed_stages_allow_nothing():
    for stage in ("routed_out", "closed_won", "closed_lost"):
        assert events_allowed(POLICY, stage) == []


def test_every_rule_goes_somewhere_known():
    for rule in POLICY.transitions:
        assert rule.to in set(ALL_STAGES) | set(TO_TOKENS), rule
        assert rule.from_stages() <= set(ALL_STAGES) | {"none"}, rule
