"""The quarterly recalibration over HTTP and on its page, on the real stack: two quarters
of leads in the read model (1998, a range no other test writes), the shifted tier flagged
with its proposal, the review held once, and the RevOps dashboard showing an unheld review
of the last quarter as overdue."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import psycopg
import pytest
from psycopg.types.json import Jsonb

from api.recalibration import previous_quarter, quarter_of
from sla_policies.recalibration import quarter
from tests.stack import api_server, auth, dev_server

pytestmark = pytest.mark.asyncio

TAG = uuid.uuid4().hex[:6]


def seed(postgres_url: str, year: int = 1998, tag: str = TAG) -> None:
    """30k_75k: 40% MQL->SQL in `year`'s third quarter, 20% in its fourth; 10k_30k steady."""
    rows = []
    weeks = quarter(f"{year}Q4", "America/New_York")  # the default policy's company timezone
    q3, q4 = (p.start.astimezone(UTC) + timedelta(hours=12) for p in (weeks.prior, weeks.current))
    for tier, cohorts in (("30k_75k", ((q3, 50, 20), (q4, 50, 10))), ("10k_30k", ((q3, 40, 10), (q4, 40, 10)))):
        for start, total, to_sql in cohorts:
            for i in range(total):
                lead_id, at = f"recal-{tag}-{tier}-{start.month}-{i}", start + timedelta(days=i % 50)
                path = [("inquiry", "mql", None), ("mql", "sal", None), ("sal", "sql", None)] if i < to_sql else \
                    [("inquiry", "mql", None), ("mql", "recycled", "REJ-01")]
                rows.append((lead_id, tier, at, path))
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        for lead_id, tier, at, path in rows:
            conn.execute("INSERT INTO leads (lead_id, workflow_id, stage, acv_tier, policy_version, lead_type, state,"
                         " created_at, updated_at) VALUES (%s, %s, %s, %s, '2026.11.0', 'demo_request', %s, %s, %s)",
                         (lead_id, f"lead-{lead_id}", path[-1][1], tier, Jsonb({}), at, at + timedelta(days=4)))
            for seq, (a, b, code) in enumerate(path, start=1):
                conn.execute("INSERT INTO transitions (lead_id, seq, at, from_stage, to_stage, event, actor,"
                             " reason_code) VALUES (%s, %s, %s, %s, %s, 'x', 'rep', %s)",
                             (lead_id, seq, at + timedelta(days=seq - 1), a, b, code))


async def page(http, principal: str, path: str) -> httpx.Response:
    """`path` as `principal` sees it in a browser: signed in through the login form."""
    base = str(http.base_url)
    async with httpx.AsyncClient(base_url=base, headers={"Origin": base.rstrip("/")}) as browser:
        signed_in = await browser.post("/ui/login", data={"token": f"{principal}-token", "next": "/ui/"})
        assert signed_in.status_code == 303, signed_in.text
        return await browser.get(path)


@pytest.fixture(scope="module")
async def http(postgres_url):
    seed(postgres_url)
    async with dev_server() as env, api_server(env.client, postgres_url) as client:
        yield client


async def test_the_shifted_tier_is_flagged_with_its_proposal_and_evidence(http):
    answer = await http.get("/v1/recalibration?quarter=1998q4", headers=auth("ops"))
    assert answer.status_code == 200, answer.text
    report = answer.json()
    tiers = {t["acv_tier"]: t for t in report["tiers"]}
    assert (tiers["30k_75k"]["mql_to_sql_shift"], tiers["30k_75k"]["flagged"]) == (-0.5, True)
    assert (tiers["10k_30k"]["mql_to_sql_shift"], tiers["10k_30k"]["flagged"]) == (0.0, False)
    (proposal,) = report["proposals"]
    assert (proposal["change"]["path"], proposal["change"]["old"], proposal["change"]["new"]) == \
        ("acv_tiers[id=30k_75k].mql_threshold", 60, 65)
    assert "fell from 40.0% (20 of 50) to 20.0% (10 of 50)" in proposal["why"]
    assert report["draft"]["version"] == "2026.11.0-recal-1998q4"
    assert (report["review"], report["overdue"]) == (None, True)  # 1998Q4 ended long ago
    assert (await http.get("/v1/recalibration?quarter=1998q4", headers=auth("vps"))).status_code == 200


async def test_bad_quarters_and_readers_are_refused(http):
    bad = await http.get("/v1/recalibration?quarter=1998Q7", headers=auth("ops"))
    assert bad.status_code == 422 and bad.json()["errors"][0]["path"] == "quarter"
    assert (await http.get("/v1/recalibration?quarter=1998Q4", headers=auth("sdr-1"))).status_code == 403
    assert (await http.get("/v1/recalibration?quarter=1998Q4", headers=auth("sdrm-1"))).status_code == 403


async def test_the_review_is_held_once_and_then_shows(http):
    body = {"outcome": "changes_planned", "notes": "raise 30k_75k after the what-if"}
    assert (await http.post("/v1/recalibration/1998Q4/review", json=body, headers=auth("vps"))).status_code == 403
    first = await http.post("/v1/recalibration/1998Q4/review", json=body, headers=auth("ops"))
    assert first.status_code == 201 and first.json()["outcome"] == "changes_planned"
    again = await http.post("/v1/recalibration/1998Q4/review", json={"outcome": "no_change"}, headers=auth("ops"))
    assert again.status_code == 200 and again.json()["outcome"] == "changes_planned"
    bad = await http.post("/v1/recalibration/1998Q4/review", json={"outcome": "shrug"}, headers=auth("ops"))
    assert bad.status_code == 422
    report = (await http.get("/v1/recalibration?quarter=1998Q4", headers=auth("ops"))).json()
    assert (report["review"]["reviewed_by"], report["overdue"]) == ("ops", False)

    shown = await page(http, "ops", "/ui/recalibration?quarter=1998Q4")
    assert shown.status_code == 200
    assert 'data-tier="30k_75k" data-flagged="yes"' in shown.text and 'id="review-held"' in shown.text
    assert "acv_tiers[id=30k_75k].mql_threshold: 60 → 65" in shown.text
    assert (await page(http, "sdr-1", "/ui/recalibration?quarter=1998Q4")).status_code == 403


async def test_the_revops_dashboard_shows_the_last_quarters_unheld_review_as_overdue(http):
    last = previous_quarter(quarter_of(datetime.now(UTC).date()))
    dashboard = await page(http, "ops", "/ui/")
    held = (await http.get(f"/v1/recalibration?quarter={last}", headers=auth("ops"))).json()["review"]
    if held is None:
        assert f"review of {last} is overdue" in dashboard.text
        assert (await http.post(f"/v1/recalibration/{last}/review", json={"outcome": "no_change"},
                                headers=auth("ops"))).status_code == 201
    assert 'id="review-overdue"' not in (await page(http, "ops", "/ui/")).text


async def test_the_cli_prints_the_flags_and_writes_the_draft_that_validates(http, tmp_path):
    import asyncio

    from typer.testing import CliRunner

    from handoff.cli import app
    from sla_policies.loader import parse_policy

    draft = tmp_path / "draft.yaml"
    env = {"HANDOFF_API_URL": str(http.base_url), "HANDOFF_TOKEN": "ops-token"}
    run = await asyncio.to_thread(CliRunner().invoke, app, ["recalibrate", "--quarter", "1998Q4", "--draft",
                                                            str(draft)], env=env)
    assert run.exit_code == 0, run.output
    assert "30k_75k    now 20.0% (10/50)" in run.output and "shift -50%  FLAGGED" in run.output
    policy = parse_policy(draft.read_text())
    assert policy.acv_tier("30k_75k").mql_threshold == 65 and policy.version == "2026.11.0-recal-1998q4"
