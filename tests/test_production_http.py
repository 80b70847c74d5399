"""Issue 14 on the real stack (dev server, worker, embedded PostgreSQL, API on a port): who
may read before any command is forwarded, one visibility rule for read, history, list and
reports, bad input refused with a 422 naming its path (never a 500, never a workflow that
cannot finish), /metrics behind a token, 405 with Allow, the page session and headers."""

from __future__ import annotations

import base64
import hashlib
import json

import psycopg
import pytest

from api.auth import Principal, hash_token, revoke_tokens
from tests.lifecycle import demo_request, ingest
from tests.stack import PRINCIPALS, auth, poll, stack_with_tokens, write_tokens

pytestmark = pytest.mark.asyncio

# Beside the shared principals: an SDR of no team of ours, an AE manager and an SDR manager
# whose tokens name no team, and a RevOps principal whose token is revoked mid-test.
EXTRA = [Principal(id="sdr-9", role="sdr"), Principal(id="aem-9", role="ae_manager"),
         Principal(id="sdrm-9", role="sdr_manager"), Principal(id="ops-2", role="revops")]


@pytest.fixture(scope="module")
def tokens_file(tmp_path_factory):
    return write_tokens(tmp_path_factory.mktemp("tokens-prod") / "tokens.json", PRINCIPALS + EXTRA)


@pytest.fixture(scope="module")
async def http(postgres_url, tokens_file):
    async with stack_with_tokens(postgres_url, tokens_file) as client:
        yield client


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    return response.json()


def _paths(problem: dict) -> set[str]:
    return {e["path"] for e in problem.get("errors") or []}


async def _listed(http, who: str, **params) -> set[str]:
    response = await http.get("/v1/leads", params={"limit": 500, **params}, headers=auth(who))
    assert response.status_code == 200, response.text
    return {i["lead_id"] for i in response.json()["items"]}


# ----------------------------------------------------------------------------- who may read

async def test_a_stranger_is_refused_before_the_stage_check_and_cannot_disqualify(http):
    state = await ingest(http)
    lead = state["lead_id"]
    # A rep of another team: permanently disqualifying (and suppressing the domain) is refused.
    refused = _problem(await http.post(f"/v1/leads/{lead}/disqualify", json={"reason_code": "DQ-COMPETITOR"},
                                       headers=auth("sdr-9")), 403)
    assert "not yours" in refused["detail"]
    # A stage the command does not fit (review is only for manager_review) still answers 403
    # to a stranger: a 409 would tell them the lead's stage.
    _problem(await http.post(f"/v1/leads/{lead}/review", json={"decision": "promote"}, headers=auth("sdrm-9")), 403)
    _problem(await http.post(f"/v1/leads/{lead}/handoff", json={}, headers=auth("sdr-9")), 403)
    # The owner gets the stage check (409), so the order is: read access, then stage.
    _problem(await http.post(f"/v1/leads/{lead}/handoff", json={}, headers=auth(state["owner"])), 409)
    after = (await http.get(f"/v1/leads/{lead}")).json()
    assert after["stage"] == "mql" and not after["permanent"]


async def test_a_manager_token_without_a_team_never_matches_a_null_manager(http):
    # Nobody on the roster covers NZ: the lead waits on territory hold, owner and manager null.
    intake = demo_request(contact={**demo_request().contact.model_dump(exclude_none=True), "country": "NZ"},
                          account={"company": "Kiwi", "industry": "software", "employees": 300, "country": "NZ"})
    created = await http.post("/v1/leads", json=intake.model_dump(mode="json", exclude_none=True))
    assert created.status_code == 201, created.text
    lead = intake.lead_id

    async def stage():
        return (await http.get(f"/v1/leads/{lead}")).json()

    state = await poll(stage, lambda s: s["stage"] == "territory_hold")
    assert state["owner_manager"] is None
    for manager in ("aem-9", "sdrm-9", "aem-1"):
        _problem(await http.get(f"/v1/leads/{lead}", headers=auth(manager)), 403)
        _problem(await http.get(f"/v1/leads/{lead}/history", headers=auth(manager)), 403)
        _problem(await http.post(f"/v1/leads/{lead}/reject", json={"reason_code": "REJ-05"}, headers=auth(manager)),
                 403)
        assert lead not in await _listed(http, manager)
    # RevOps still sees it and owns the hold (T25).
    assert lead in await _listed(http, "ops")


async def test_previous_owners_and_their_managers_keep_reading_a_recycled_lead(http):
    state = await ingest(http)
    lead, sdr = state["lead_id"], state["owner"]
    assert state["owner_manager"] == "sdrm-1"
    touched = await http.post(f"/v1/leads/{lead}/touches", json={"channel": "phone", "outcome": "no_answer"},
                              headers=auth(sdr))
    assert touched.status_code == 200, touched.text
    rejected = await http.post(f"/v1/leads/{lead}/reject", json={"reason_code": "REJ-05"}, headers=auth(sdr))
    assert rejected.status_code == 200, rejected.text
    recycled = (await http.get(f"/v1/leads/{lead}")).json()
    assert recycled["stage"] == "recycled" and recycled["owner"] is None and recycled["owner_manager"] is None

    for reader in (sdr, "sdrm-1"):
        assert (await http.get(f"/v1/leads/{lead}", headers=auth(reader))).status_code == 200
        assert (await http.get(f"/v1/leads/{lead}/history", headers=auth(reader))).status_code == 200

    async def recycled_list(who):
        async def fetch():
            return await _listed(http, who, stage="recycled")
        return fetch

    # The list agrees with the single read, for the SDR and for their manager.
    await poll(await recycled_list(sdr), lambda ids: lead in ids)
    await poll(await recycled_list("sdrm-1"), lambda ids: lead in ids)
    other = "sdr-2" if sdr == "sdr-1" else "sdr-1"
    _problem(await http.get(f"/v1/leads/{lead}", headers=auth(other)), 403)
    assert lead not in await _listed(http, other, stage="recycled")
    assert lead not in await _listed(http, "aem-1", stage="recycled")


# ----------------------------------------------------------------------------- bad input

def _body(**overrides) -> dict:
    """A valid ingest body (a fresh lead id) with raw JSON values replaced."""
    return demo_request().model_dump(mode="json", exclude_none=True) | overrides


def _with(part: str, **fields) -> dict:
    body = _body()
    body[part] = {**body[part], **fields}
    return body


BAD_INGESTS = [
    ("naive received_at", lambda: _body(received_at="2026-11-23T10:00:00"), "received_at"),
    ("received_at in year 1", lambda: _body(received_at="0001-01-01T00:00:00Z"), "received_at"),
    ("received_at in year 9999", lambda: _body(received_at="9999-12-31T00:00:00Z"), "received_at"),
    ("unknown country", lambda: _with("contact", country="XX"), "contact.country"),
    ("unknown account country", lambda: _with("account", country="XX"), "account.country"),
    ("NUL in a name", lambda: _with("contact", first_name="A\x00da"), "contact.first_name"),
    ("NUL in the email", lambda: _with("contact", email="a\x00b@acme.io"), "contact.email"),
    ("NUL in the company", lambda: _with("account", company="Ac\x00me"), "account.company"),
    ("escape in the title", lambda: _with("contact", title="VP\x1b[31m"), "contact.title"),
    ("unknown lead_type", lambda: _body(lead_type="banana"), "lead_type"),
    ("unknown event type", lambda: _body(events=[{"type": "banana", "occurred_at": "2026-11-23T10:00:00Z"}]),
     "events[0].type"),
    ("lead id ..", lambda: _body(lead_id=".."), "lead_id"),
]


@pytest.mark.parametrize("case,body,path", BAD_INGESTS, ids=[c[0] for c in BAD_INGESTS])
async def test_bad_ingest_is_a_422_naming_the_path_and_starts_nothing(http, case, body, path):
    sent = body()
    problem = _problem(await http.post("/v1/leads", json=sent), 422)
    assert path in _paths(problem), problem
    if sent["lead_id"] != "..":
        _problem(await http.get(f"/v1/leads/{sent['lead_id']}"), 404)  # no workflow was started


@pytest.mark.parametrize("raw,path", [
    ('"acv_estimate": 1e400', "acv_estimate"),
    ('"acv_estimate": Infinity', "acv_estimate"),
    ('"account": {"annual_revenue": NaN}', "account.annual_revenue"),
])
async def test_numbers_must_be_finite(http, raw, path):
    body = f'{{"lead_id": "inf-{abs(hash(raw))}", "lead_type": "demo_request", {raw}}}'
    problem = _problem(await http.post("/v1/leads", content=body, headers={"content-type": "application/json"}), 422)
    assert path in _paths(problem), problem


async def test_bad_corrections_events_and_parameters_are_422_never_500(http):
    state = await ingest(http)
    lead = state["lead_id"]
    patched = _problem(await http.patch(f"/v1/leads/{lead}", json={"contact": {"last_name": "L\x00"}}), 422)
    assert "contact.last_name" in _paths(patched)
    patched = _problem(await http.patch(f"/v1/leads/{lead}", json={"account": {"country": "XX"}}), 422)
    assert "account.country" in _paths(patched)
    event = _problem(await http.post(f"/v1/leads/{lead}/events",
                                     json={"events": [{"type": "banana", "occurred_at": "2026-11-23T10:00:00Z"}]}), 422)
    assert "events[0].type" in _paths(event)
    note = _problem(await http.post(f"/v1/leads/{lead}/touches", headers=auth(state["owner"]),
                                    json={"channel": "phone", "outcome": "no_answer", "note": "x\x00"}), 422)
    assert "note" in _paths(note)
    # `..` is not a lead id: nothing is started by signal-with-start under it.
    dots = _problem(await http.post("/v1/leads/%2E%2E/events",
                                    json={"events": [{"type": "demo_request", "occurred_at": "2026-11-23T10:00:00Z"}]}),
                    422)
    assert "lead_id" in _paths(dots)

    for url, path in [
        ("/v1/leads?owner=a%00b", "owner"), ("/v1/leads?stage=%00", "stage"),
        ("/v1/leads?policy_version=%01", "policy_version"), ("/v1/leads?cursor=%00", "cursor"),
        ("/v1/leads/a%00b", "lead_id"), ("/v1/leads/a%00b/history", "lead_id"),
        ("/v1/policies/a%00b", "version"), ("/v1/reports/sla?policy_version=a%00", "policy_version"),
    ]:
        problem = _problem(await http.get(url, headers=auth("ops")), 422)
        assert path in _paths(problem), (url, problem)
    # A cursor that decodes to a NUL inside is not one of ours either.
    forged = base64.urlsafe_b64encode(json.dumps(["2026-11-23T10:00:00+00:00", "a\x00"]).encode()).decode()
    assert "cursor" in _paths(_problem(await http.get("/v1/leads", params={"cursor": forged}), 422))
    rep = _problem(await http.put("/v1/reps/x%00y", json={"name": "N", "role": "sdr"}, headers=auth("ops")), 422)
    assert "rep_id" in _paths(rep)
    rep = _problem(await http.put("/v1/reps/prod-rep-1", json={"name": "N\x00", "role": "sdr"}, headers=auth("ops")),
                   422)
    assert "name" in _paths(rep)


async def test_a_bad_batch_item_is_its_own_422(http):
    good, bad, unknown = demo_request(), _with("contact", first_name="N\x00"), _body(lead_type="banana")
    response = await http.post("/v1/leads:batch", json={"leads": [
        good.model_dump(mode="json", exclude_none=True), bad, unknown]})
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["status"] for r in results] == [201, 422, 422]
    assert {e["path"] for e in results[1]["errors"]} == {"leads[1].contact.first_name"}
    assert {e["path"] for e in results[2]["errors"]} == {"leads[2].lead_type"}


async def test_migrate_never_formats_input_into_the_temporal_query(http):
    problem = _problem(await http.post("/v1/policies/2026.11.0/migrate", headers=auth("ops"),
                                       json={"from_version": "x' OR HandoffStage != 'y"}), 422)
    assert "from_version" in _paths(problem)
    # A well-formed version that nobody is on migrates nothing, and says so.
    response = await http.post("/v1/policies/2026.11.0/migrate", headers=auth("ops"),
                               json={"from_version": "1999.1.0"})
    assert response.status_code == 200, response.text
    assert response.json()["count"] == 0


# ----------------------------------------------------------------------------- the edges

async def test_metrics_need_a_revops_or_integration_token(http):
    _problem(await http.get("/metrics", headers={"Authorization": ""}), 401)
    _problem(await http.get("/metrics", headers=auth("sdr-1")), 403)
    _problem(await http.get("/metrics", headers=auth("sdrm-1")), 403)
    for who in ("ops", "crm"):
        scraped = await http.get("/metrics", headers=auth(who))
        assert scraped.status_code == 200 and "handoff_leads" in scraped.text


async def test_a_405_says_which_methods_are_allowed(http):
    response = await http.get("/v1/leads/any/accept")
    assert _problem(response, 405)["status"] == 405
    assert response.headers["allow"] == "POST"


# ----------------------------------------------------------------------------- the pages

async def test_pages_send_csp_frame_and_referrer_headers(http):
    for path in ("/ui/login", "/ui/leads", "/v1/leads"):
        response = await http.get(path, headers={"Authorization": ""}, follow_redirects=True)
        csp = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp
        assert "script-src 'self';" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] in ("same-origin", "no-referrer", "strict-origin-when-cross-origin")


async def test_login_with_bytes_that_are_not_utf8_is_4xx(http):
    response = await http.post("/ui/login", content=b"token=\xff\xfe\xfa", headers={
        "content-type": "application/x-www-form-urlencoded", "origin": str(http.base_url).rstrip("/")})
    assert 400 <= response.status_code < 500, response.text


async def test_the_session_cookie_is_a_revocable_server_side_id_and_forms_check_origin(http, postgres_url, tokens_file):
    base = str(http.base_url).rstrip("/")
    form = {"content-type": "application/x-www-form-urlencoded"}

    async def login(token: str, **headers):
        return await http.post("/ui/login", content=f"token={token}&next=/ui/leads", headers={**form, **headers})

    # Another site's form (CSRF) and a post naming no origin are refused.
    _problem(await login("ops-2-token", origin="https://evil.example"), 403)
    _problem(await login("ops-2-token"), 403)
    signed = await login("ops-2-token", origin=base)
    assert signed.status_code == 303, signed.text
    session = signed.cookies["handoff_session"]
    assert session != "ops-2-token" and "ops-2-token" not in signed.headers["set-cookie"]
    with psycopg.connect(postgres_url) as conn:
        row = conn.execute("SELECT principal_id, token_sha256 FROM ui_sessions WHERE id_sha256 = %s",
                           (hashlib.sha256(session.encode()).hexdigest(),)).fetchone()
    assert row == ("ops-2", hash_token("ops-2-token"))  # stored hashed: the table never holds the id

    cookie = {"cookie": f"handoff_session={session}", "Authorization": ""}
    assert (await http.get("/ui/leads", headers=cookie)).status_code == 200
    assert (await http.get("/ui/leads", headers={"cookie": "handoff_session=ops-2-token"})).status_code == 303
    # Revoking the token ends the session on the next page.
    revoke_tokens(tokens_file, principal_id="ops-2")
    assert (await http.get("/ui/leads", headers=cookie)).status_code == 303

    # Signing out kills the id itself, even if a copy of the cookie survives.
    signed = await login("ops-token", origin=base)
    cookie = {"cookie": f"handoff_session={signed.cookies['handoff_session']}", "Authorization": ""}
    assert (await http.get("/ui/leads", headers=cookie)).status_code == 200
    _problem(await http.post("/ui/logout", headers={**cookie, "origin": "https://evil.example"}), 403)
    assert (await http.get("/ui/leads", headers=cookie)).status_code == 200
    out = await http.post("/ui/logout", headers={**cookie, "origin": base})
    assert out.status_code == 303
    assert (await http.get("/ui/leads", headers=cookie)).status_code == 303
