"""Scoring on the real stack (time-skipping Temporal server, PostgreSQL, the API): the score
`GET /v1/leads/{id}` shows decays when time passes, and the committee signal one lead finds
reaches the account's other open leads (docs/domain.md §3.1 Q8, §3.6)."""

from __future__ import annotations

from datetime import datetime, timedelta

import psycopg
import pytest

from tests.lifecycle import advance_to, seed_roster
from tests.stack import api_server, poll, time_skipping_server, worker

pytestmark = pytest.mark.asyncio


@pytest.fixture(scope="module")
async def stack(postgres_url):
    seed_roster(postgres_url)
    async with time_skipping_server() as env, worker(env.client, postgres_url), \
            api_server(env.client, postgres_url) as http:
        http.env = env
        yield http


def intake(lead_id: str, email: str, title: str, lead_type: str = "demo_request") -> dict:
    # The company is the account's own: the suppression list of a shared database holds
    # companies other tests rejected (REJ-02 suppresses "Acme").
    company = email.rsplit("@", 1)[1].split(".")[0]
    return {"lead_id": lead_id, "lead_type": lead_type,
            "contact": {"first_name": lead_id, "last_name": "X", "email": email, "phone": "+1 555 0101",
                        "title": title, "timezone": "America/New_York", "country": "US"},
            "account": {"company": company, "industry": "software", "employees": 300, "country": "US"}}


async def test_the_score_the_api_shows_decays_at_the_30_day_step_without_any_new_event(stack):
    # An analyst's gated content: fit 35 + case study 15 = 50, nurtured (no persona, no intent).
    created = await stack.post("/v1/leads", json=intake("dec-1", "an@decay-http.example.com", "Analyst",
                                                         "gated_content"))
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["stage"], body["score"]) == ("inquiry", 50)
    received = datetime.fromisoformat(body["intake"]["received_at"])
    step30 = received + timedelta(days=30)
    assert datetime.fromisoformat(body["score_changes_at"]) == step30

    async def fetch():
        return (await stack.get("/v1/leads/dec-1")).json()

    await advance_to(stack.env, step30 + timedelta(minutes=1))
    state = await poll(fetch, lambda s: s["score"] == 40, timeout=60)
    decay = [line for line in state["score_lines"] if line["signal"].startswith("decay")]
    assert [(line["points"], datetime.fromisoformat(line["at"])) for line in decay] == [(-10, step30)]
    assert datetime.fromisoformat(state["score_changes_at"]) == received + timedelta(days=60)
    assert state["stage"] == "inquiry"


async def test_the_committee_signal_reaches_the_other_open_leads_of_the_account(stack, postgres_url):
    domain = "committee-http.example.com"
    for lead_id, name, title in [("com-1", "ann", "Engineering Manager"), ("com-2", "bob", "Senior Engineer")]:
        answer = await stack.post("/v1/leads", json=intake(lead_id, f"{name}@{domain}", title))
        assert answer.status_code == 201, answer.text

    async def projected():
        async with await psycopg.AsyncConnection.connect(postgres_url) as conn:
            cur = await conn.execute("SELECT count(*) FROM leads WHERE email LIKE %s AND owner IS NOT NULL",
                                     (f"%@{domain}",))
            row = await cur.fetchone()
            return row[0] if row else 0

    # The account's read (§3.6) is the read model: both leads must be in it before the third.
    await poll(projected, lambda n: n == 2, timeout=60)
    for lead_id in ("com-1", "com-2"):
        assert (await stack.get(f"/v1/leads/{lead_id}")).json()["committee_engaged"] is False

    answer = await stack.post("/v1/leads", json=intake("com-3", f"cat@{domain}", "Director of IT"))
    assert answer.status_code == 201, answer.text

    async def lead(lead_id):
        return (await stack.get(f"/v1/leads/{lead_id}")).json()

    third = await poll(lambda: lead("com-3"), lambda s: s["committee_engaged"] is True, timeout=60)
    assert (third["account_contacts"], third["committee_source"]) == (3, "com-3")
    for lead_id in ("com-1", "com-2"):
        state = await poll(lambda lid=lead_id: lead(lid), lambda s: s["committee_engaged"] is True, timeout=60)
        assert (state["committee_source"], state["account_contacts"], state["stage"]) == ("com-3", 3, "mql")
        assert datetime.fromisoformat(state["committee_engaged_at"]) >= datetime.fromisoformat(
            third["committee_engaged_at"])
        history = (await stack.get(f"/v1/leads/{lead_id}/history")).json()
        account = [e for e in history if e["kind"] == "account"]
        assert [e["summary"] for e in account] == ["account committee-engaged: 3 people engaged (found by lead com-3)"]
        assert not any(e["kind"] == "engagement" for e in history)  # the signal is not engagement
