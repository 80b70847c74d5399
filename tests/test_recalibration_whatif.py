"""The recalibration's done-criterion on the real stack (docs/domain.md §12.5): two quarters
simulated by the simulator (1995, a range no other test writes; `recalibration_sim`), loaded
into the read model (PostgreSQL), recalibrated over HTTP: exactly the tier made to shift is
flagged and gets a proposal, and the proposal's what-if (the quarter's own leads replayed
through the core engine, current against proposed) moves its MQL→SQL rate the way the
evidence says. Also: the what-if is computed once and kept, who may run it, the CLI."""

from __future__ import annotations

import asyncio

import pytest

from handoff.simulate.replay import replay_of
from sla_policies.recalibration import funnel
from tests.recalibration_sim import SHIFTED, load_into_read_model, simulate_two_quarters
from tests.stack import api_server, auth, dev_server

pytestmark = pytest.mark.asyncio

QUARTER = "1995Q4"


@pytest.fixture(scope="module")
def simulated():
    return simulate_two_quarters(QUARTER)


@pytest.fixture(scope="module")
async def http(postgres_url, simulated):
    load_into_read_model(postgres_url, simulated[2])
    async with dev_server() as env, api_server(env.client, postgres_url) as client:
        yield client


async def test_the_replay_takes_every_recorded_action_and_names_what_it_approximates(simulated):
    _, q, states = simulated
    mine = [s for s in states if s.created_at in q.current]
    replay = replay_of(mine)
    assert [r.lead_id for r in replay.leads] == sorted((s.lead_id for s in mine),
                                                      key=lambda i: next(s.created_at for s in mine if s.lead_id == i))
    people = sum(t.actor != "system" for s in mine for t in s.transitions) + sum(len(s.touches) for s in mine)
    assert len([r for r in replay.script if r.action != "event"]) == people > 0
    assert any(a.startswith("handoff content") for a in replay.approximations)


async def test_exactly_the_shifted_tier_is_flagged_and_its_what_if_moves_as_the_evidence_says(http, simulated):
    policy, q, states = simulated
    before = (await http.get(f"/v1/recalibration?quarter={QUARTER}", headers=auth("ops"))).json()
    assert [t["acv_tier"] for t in before["tiers"] if t["flagged"]] == [SHIFTED]
    (proposal,) = before["proposals"]
    assert proposal["acv_tier"] == SHIFTED and proposal["what_if"] is None
    shifted = next(t for t in before["tiers"] if t["acv_tier"] == SHIFTED)
    fell = shifted["mql_to_sql_shift"] < 0
    assert proposal["expected"] == ("up" if fell else "down")
    assert proposal["change"]["new"] > proposal["change"]["old"] if fell else proposal["change"]["new"] < \
        proposal["change"]["old"]

    # The replay is CPU-bound: a generous deadline, whatever the machine is doing.
    ran = await http.post(f"/v1/recalibration/{QUARTER}/what-if", headers=auth("ops"), timeout=600)
    assert ran.status_code == 201, ran.text
    (proposal,) = ran.json()["proposals"]
    w = proposal["what_if"]
    now, then = (next(t for t in side["tiers"] if t["acv_tier"] == SHIFTED) for side in (w["current"], w["proposed"]))
    # The direction comes from the two replays' own figures.
    assert (then["mql_to_sql_rate"] > now["mql_to_sql_rate"]) == (proposal["expected"] == "up")
    assert (w["moved"], w["as_evidence_says"]) == (proposal["expected"], True)
    # Under the current policy the replay reproduces the quarter as recorded.
    recorded = funnel([s.to_record() for s in states if s.created_at in q.current and s.acv_tier == SHIFTED],
                      q.current)
    assert now["funnel"]["reached"] == recorded.reached
    # The proposal keeps the weakest MQLs out: their recorded SDR decisions cannot happen.
    assert then["funnel"]["reached"]["mql"] < now["funnel"]["reached"]["mql"] and w["proposed"]["refused"] > 0
    assert w["leads"] == sum(s.created_at in q.current for s in states) and w["skipped"] == 0
    assert {f["id"] for f in now["figures"]} >= {"mql_to_sal_rate", "sla_breach_rate"}

    again = await http.post(f"/v1/recalibration/{QUARTER}/what-if", headers=auth("ops"))
    assert again.status_code == 200 and again.json()["proposals"][0]["what_if"] == w  # kept, not recomputed
    shown = (await http.get(f"/v1/recalibration?quarter={QUARTER}", headers=auth("vps"))).json()
    assert shown["proposals"][0]["what_if"] == w


async def test_only_revops_runs_the_what_if(http):
    assert (await http.post(f"/v1/recalibration/{QUARTER}/what-if", headers=auth("vps"))).status_code == 403
    assert (await http.post(f"/v1/recalibration/{QUARTER}/what-if", headers=auth("sdr-1"))).status_code == 403
    bad = await http.post("/v1/recalibration/1995Q9/what-if", headers=auth("ops"))
    assert bad.status_code == 422 and bad.json()["errors"][0]["path"] == "quarter"


async def test_the_cli_prints_the_what_if_side_by_side(http):
    from typer.testing import CliRunner

    from handoff.cli import app

    env = {"HANDOFF_API_URL": str(http.base_url), "HANDOFF_TOKEN": "ops-token"}
    run = await asyncio.to_thread(CliRunner().invoke, app, ["recalibrate", "--quarter", QUARTER], env=env)
    assert run.exit_code == 0, run.output
    assert f"proposal: acv_tiers[id={SHIFTED}].mql_threshold" in run.output
    assert "MQL->SQL expected up, moved up (as the evidence says)" in run.output
    assert "mql_to_sql_rate" in run.output and "approximated: handoff content" in run.output
