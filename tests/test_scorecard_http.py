"""`GET /v1/reports/sla?side=&by=` and `GET /v1/reports/patterns` over HTTP on the real
PostgreSQL: the filters, and who may see what (a rep their own card, a manager their
team's, RevOps everything). The read model is seeded as the projection writes it, in a
week of 2002 no other test writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from psycopg.types.json import Jsonb

from sla_policies.loader import default_policy
from tests.lifecycle import REPS, seed_roster
from tests.stack import api_server, auth, dev_server

pytestmark = pytest.mark.asyncio

MONDAY = datetime(2002, 4, 1, 5, tzinfo=UTC)  # 00:00 in New York
TUESDAY = MONDAY + timedelta(days=1, hours=10)
WEEK = {"start": "2002-04-01"}
LEADS: dict[str, tuple[int, str, str, str, str, list[tuple]]] = {
    # lead id: (tier, sdr, owner, owner_role, stage, path after MQL: (to, minutes, actor, code, note))
    "sc-1": (1, "sdr-1", "sdr-1", "sdr", "sal", [("sal", 30, "sdr-1", None, None)]),
    "sc-2": (2, "sdr-2", "sdr-2", "sdr", "disqualified", [("disqualified", 40, "sdr-2", "REJ-02", "wrong persona")]),
    "sc-3": (2, "sdr-1", "ae-1", "ae", "sql", [("sal", 20, "sdr-1", None, None), ("sql", 90, "sdr-1", None, None)]),
}


def readers_of(*reps: str) -> list[str]:
    """As the projection writes `leads.readers` (api/visibility.py): the people who owned the
    lead and their managers (tests/lifecycle.py REPS)."""
    managers = {rep: manager for rep, _, manager, _ in REPS}
    return sorted({*reps, *(managers[r] for r in reps)})


def seed(database_url: str) -> None:
    seed_roster(database_url)
    with psycopg.connect(database_url, autocommit=True) as conn:
        for lead_id, (tier, sdr, owner, role, stage, path) in LEADS.items():
            state = {"intake": {"source": "sc-list", "account": {"industry": "software", "employees": 300,
                                                                 "annual_revenue": 1e6, "region": "emea"}},
                     "sdr": sdr if role == "ae" else None, "owner_role": role}
            conn.execute(
                "INSERT INTO leads (lead_id, workflow_id, stage, tier, acv_tier, owner, policy_version, lead_type,"
                " state, created_at, updated_at, readers) VALUES (%s, %s, %s, %s, '30k_75k', %s, %s, 'demo_request',"
                " %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (lead_id, f"lead-{lead_id}", stage, tier, owner, default_policy().version, Jsonb(state),
                 TUESDAY, TUESDAY + timedelta(hours=2), readers_of(sdr, owner)))
            steps = [(TUESDAY, None, "inquiry", "system", None, None),
                     (TUESDAY, "inquiry", "mql", "system", None, None)]
            previous = "mql"
            for to, minutes, actor, code, note in path:
                steps.append((TUESDAY + timedelta(minutes=minutes), previous, to, actor, code, note))
                previous = to
            for seq, (when, a, b, actor, code, note) in enumerate(steps, start=1):
                conn.execute("INSERT INTO transitions (lead_id, seq, at, from_stage, to_stage, event, actor,"
                             " reason_code, note) VALUES (%s, %s, %s, %s, %s, 'e', %s, %s, %s) ON CONFLICT DO NOTHING",
                             (lead_id, seq, when, a, b, actor, code, note))
            conn.execute("INSERT INTO sla_clocks (lead_id, clock_seq, item, owner_role, status, started_at, due_at,"
                         " breach_at, met_at, last_seq) VALUES (%s, 1, 'routing.high_intent', 'marketing_ops', 'met',"
                         " %s, %s, %s, %s, 1) ON CONFLICT DO NOTHING",
                         (lead_id, TUESDAY, TUESDAY + timedelta(minutes=5), TUESDAY + timedelta(hours=1),
                          TUESDAY + timedelta(minutes=2)))


@pytest.fixture(scope="module")
async def http(postgres_url):
    seed(postgres_url)
    async with dev_server() as env, api_server(env.client, postgres_url) as client:
        yield client


async def get(http, who: str, **params):
    return await http.get("/v1/reports/sla", params={**WEEK, **params}, headers=auth(who))


def metric(card: dict, metric_id: str) -> dict:
    return next(m for m in [*card["metrics"], *card["tracked"]] if m["id"] == metric_id)


async def test_sides_filter_the_metrics_and_every_figure_states_its_ratio_and_period(http):
    both = (await get(http, "ops")).json()
    assert [v["side"] for v in both["sides"]] == ["marketing", "sales"]
    assert metric(both, "mql_to_sal_rate")["numerator"] == 2 and metric(both, "mql_to_sal_rate")["denominator"] == 3
    for m in [*both["metrics"], *both["tracked"]]:
        assert {"numerator", "denominator", "pending", "period"} <= set(m) and m["period"]["start"]
    marketing = (await get(http, "ops", side="marketing")).json()
    assert {m["side"] for m in marketing["metrics"]} == {"marketing", "joint"}
    assert [v["side"] for v in marketing["sides"]] == ["marketing"]
    # The feedback on the one rejection is complete (a code and notes).
    sales = (await get(http, "ops", side="sales")).json()
    assert {m["side"] for m in sales["metrics"]} == {"sales", "joint"}
    assert (metric(sales, "rejection_feedback_rate")["numerator"], metric(sales, "rejection_feedback_rate")["value"]) \
        == (1, 100.0)


async def test_revops_sees_every_rep_team_and_segment(http):
    reps = (await get(http, "ops", by="rep")).json()
    cards = {g["id"]: g for g in reps["groups"]}
    assert {"sdr-1", "sdr-2", "ae-1", "ae-2"} <= set(cards)
    assert (metric(cards["sdr-1"], "mql_to_sal_rate")["numerator"],
            metric(cards["sdr-1"], "mql_to_sal_rate")["denominator"]) == (2, 2)
    assert metric(cards["sdr-2"], "mql_to_sal_rate")["value"] == 0.0
    assert "sql_acceptance_rate" in {m["id"] for m in cards["ae-1"]["metrics"]}
    teams = {g["id"] for g in (await get(http, "ops", by="team")).json()["groups"]}
    assert {"sdrm-1", "aem-1"} <= teams
    segments = {g["id"]: g for g in (await get(http, "ops", by="segment", side="marketing")).json()["groups"]}
    assert {"tier1", "tier2", "region:emea"} <= set(segments)
    assert metric(segments["tier1"], "mql_volume")["numerator"] == 1
    assert metric(segments["tier1"], "mql_volume")["denominator"] == 25  # the tier-1 weekly target


async def test_a_manager_sees_their_team_and_a_rep_their_own_figures(http):
    sdr_team = (await get(http, "sdrm-1", by="rep")).json()
    assert {g["id"] for g in sdr_team["groups"]} == {"sdr-1", "sdr-2"}
    assert [g["id"] for g in (await get(http, "aem-1", by="team")).json()["groups"]] == ["aem-1"]
    assert {g["id"] for g in (await get(http, "aem-1", by="rep")).json()["groups"]} == {"ae-1", "ae-2"}

    own = (await get(http, "sdr-2")).json()
    assert own["by"] == "rep" and [g["id"] for g in own["groups"]] == ["sdr-2"]
    assert (metric(own, "mql_to_sal_rate")["numerator"], metric(own, "mql_to_sal_rate")["denominator"]) == (0, 1)
    assert [g["id"] for g in (await get(http, "sdr-1", by="rep")).json()["groups"]] == ["sdr-1"]
    for by in ("team", "segment"):
        refused = await get(http, "sdr-1", by=by)
        assert refused.status_code == 403 and refused.headers["content-type"].startswith("application/problem+json")
    assert (await http.get("/v1/reports/patterns", headers=auth("sdr-1"))).status_code == 403


async def test_bad_filters_are_422_naming_the_parameter(http):
    for name, value in (("by", "colour"), ("side", "both")):
        answer = await get(http, "ops", **{name: value})
        assert answer.status_code == 422 and answer.json()["errors"][0]["path"] == name


async def test_the_pattern_ladder_shows_each_sides_weeks(http):
    board = (await http.get("/v1/reports/patterns", params={"week": "2002-04-03"}, headers=auth("aem-1"))).json()
    assert board["week_start"] == "2002-04-01"
    sides = {s["side"]: s for s in board["sides"]}
    assert set(sides) == {"marketing", "sales"}
    assert [w["week_start"][:10] for w in sides["marketing"]["weeks"]][-1] == "2002-04-01"
    latest = sides["marketing"]["weeks"][-1]
    # 3 MQLs against a weekly target of 100: marketing's week is in breach on volume.
    assert latest["in_breach"] and "mql_volume" in latest["red"]
    assert sides["marketing"]["streak"] == 1 and sides["marketing"]["level"] is None
    assert board["told"] == []
