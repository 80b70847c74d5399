"""The transition table decides what is allowed, for the workflow and the API alike."""

import pytest

from sla_policies.transitions import TABLE, TransitionRefused, events_allowed, find


def test_sdr_accepts_an_mql():
    rule = find("mql", "accept", "sdr")
    assert (rule.id, rule.to) == ("T12", "sal")


def test_ae_accepts_an_sql_into_an_opportunity():
    assert find("sql", "accept", "ae").to == "opportunity"


def test_accept_in_the_wrong_stage_is_a_conflict_that_says_why():
    with pytest.raises(TransitionRefused) as refused:
        find("inquiry", "accept", "sdr")
    assert refused.value.status == 409
    assert "'accept' is not valid for a lead in stage 'inquiry'" in refused.value.reason


def test_the_wrong_role_is_forbidden():
    with pytest.raises(TransitionRefused) as refused:
        find("sql", "accept", "sdr")
    assert refused.value.status == 403
    assert "ae" in refused.value.reason


def test_managers_may_act_for_their_reps():
    assert find("mql", "accept", "sdr_manager").to == "sal"
    assert find("sql", "reject", "ae_manager").to == "by_code"


def test_competitor_disqualification_is_open_to_any_actor_in_any_open_stage():
    for stage in ("inquiry", "mql", "sal", "sql", "opportunity"):
        assert find(stage, "disqualify_competitor", "sdr").to == "disqualified"


def test_closed_stages_allow_nothing():
    for stage in ("routed_out", "closed_won", "closed_lost"):
        assert events_allowed(stage) == []


def test_every_rule_goes_somewhere_known():
    from sla_policies.transitions import ALL_STAGES

    for rule in TABLE:
        assert rule.to in ALL_STAGES | {"by_code", "by_outcome", "same"}, rule
        assert rule.from_stages <= ALL_STAGES, rule
