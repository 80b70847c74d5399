"""`handoff dev --demo`: the dev stack plus a time-compressed policy, a demo roster, a
token per demo rep and a stream of sample leads worked (or not) by simulated reps.

Everything goes through the public API with the reps' own tokens, so the demo shows the
product exactly as a newcomer would drive it. Within two minutes `GET /v1/leads` and the
lead histories show routing, touches, warnings, a breach with its escalation to the SDR
manager, SAL acceptances and recycles.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg

from api.auth import Principal, create_token
from api.policy_registry import PolicyRegistry
from sla_policies.compressed import DEMO_FACTOR, time_compressed
from sla_policies.lead import Account, Contact, LeadIntake

log = logging.getLogger("handoff.demo")
logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per demo request would drown the banner

FEED = Principal(id="demo-feed", role="integration")


@dataclass(frozen=True)
class DemoRep:
    rep_id: str
    name: str
    role: str
    manager_id: str | None = None


ROSTER = [
    DemoRep("demo-vp-sales", "Vera (VP Sales)", "vp_sales"),
    DemoRep("demo-sdrm", "Sam (SDR manager)", "sdr_manager", "demo-vp-sales"),
    DemoRep("demo-aem", "Alex (AE manager)", "ae_manager", "demo-vp-sales"),
    DemoRep("demo-sdr-1", "Dana (SDR)", "sdr", "demo-sdrm"),
    DemoRep("demo-sdr-2", "Eli (SDR)", "sdr", "demo-sdrm"),
    DemoRep("demo-sdr-3", "Fay (SDR)", "sdr", "demo-sdrm"),
    DemoRep("demo-ae-1", "Gus (AE)", "ae", "demo-aem"),
    DemoRep("demo-ae-2", "Hana (AE)", "ae", "demo-aem"),
]
_TOKEN_ROLES = {"sdr", "ae", "sdr_manager", "ae_manager"}  # the roles an API principal can have


def demo_policies() -> PolicyRegistry:
    """The bundled versions, plus the compressed copy of the newest one, active."""
    registry = PolicyRegistry.from_bundled()
    registry.add(time_compressed(registry.active(), DEMO_FACTOR), activate=True)
    return registry


def seed_roster(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        for rep in ROSTER:
            conn.execute(
                "INSERT INTO reps (rep_id, name, role, manager_id, capacity) VALUES (%s, %s, %s, %s, 100000)"
                " ON CONFLICT (rep_id) DO UPDATE SET name = EXCLUDED.name, role = EXCLUDED.role,"
                " manager_id = EXCLUDED.manager_id, available = true, updated_at = now()",
                (rep.rep_id, rep.name, rep.role, rep.manager_id))


def create_tokens(tokens_file: Path) -> dict[str, str]:
    """A fresh token per demo rep (and the lead feed), stored hashed like any other."""
    tokens = {FEED.id: create_token(tokens_file, FEED)}
    for rep in ROSTER:
        if rep.role in _TOKEN_ROLES:
            team = rep.rep_id if rep.role.endswith("_manager") else None
            tokens[rep.rep_id] = create_token(tokens_file, Principal(id=rep.rep_id, role=rep.role, team=team))
    return tokens


def banner(tokens: dict[str, str]) -> str:
    lines = [f"  Demo: policy compressed x{DEMO_FACTOR} (a 2 h window lasts 40 s), a lead every few seconds.",
             "  Demo tokens (new at each start, stored hashed):"]
    names = {rep.rep_id: rep.name for rep in ROSTER}
    lines += [f"    {rep_id:<12} {names.get(rep_id, 'lead feed (integration)'):<22} {token}"
              for rep_id, token in tokens.items()]
    return "\n".join(lines) + "\n"


# -------------------------------------------------------------------------- sample leads

_PEOPLE = [("Ada", "Lovelace", "VP Engineering"), ("Grace", "Hopper", "CTO"), ("Alan", "Kay", "Director of IT"),
           ("Barbara", "Liskov", "Head of Operations"), ("Ken", "Thompson", "VP Sales"),
           ("Frances", "Allen", "Chief Revenue Officer"), ("Edsger", "Dijkstra", "Director of Engineering")]
_COMPANIES = [("Acme Analytics", "software"), ("Globex", "saas"), ("Initech", "fintech"), ("Umbrella", "logistics"),
              ("Hooli", "software"), ("Vandelay", "manufacturing"), ("Stark Ledger", "financial services")]
# Hand-raises only: they become tier-1 MQLs at once, the fastest clocks of the policy.
_TYPES = ["demo_request", "pricing_form", "demo_request", "contact_sales", "free_trial"]
# What the simulated rep does with the n-th lead it owns; "ignore" lets the clocks run out.
SCENARIOS = ["ignore", "accept", "reject", "recycle"]


def sample_lead(run: str, n: int) -> LeadIntake:
    first, last, title = _PEOPLE[n % len(_PEOPLE)]
    company, industry = _COMPANIES[n % len(_COMPANIES)]
    # A company per lead: a rejection that suppresses a company must not silence the stream.
    slug = f"{company.lower().replace(' ', '')}-{run}-{n}"
    return LeadIntake(
        lead_id=f"demo-{run}-{n}", lead_type=_TYPES[n % len(_TYPES)], source="demo",
        contact=Contact(first_name=first, last_name=last, email=f"{first.lower()}@{slug}.example.com",
                        phone=f"+1 555 01{n % 100:02d}", title=title, timezone="America/New_York", country="US"),
        account=Account(company=f"{company} {n}", domain=f"{slug}.example.com", industry=industry,
                        employees=250 + 10 * n, country="US"),
    )


class LeadStream:
    """Posts a sample lead every `interval` seconds and plays each one's scenario."""

    def __init__(self, api: str, tokens: dict[str, str], *, interval: float = 5.0, limit: int = 500):
        self.api, self.tokens, self.interval, self.limit = api, tokens, interval, limit
        self.run = datetime.now(UTC).strftime("%H%M%S")
        self._tasks: set[asyncio.Task] = set()

    def _headers(self, principal_id: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[principal_id]}"}

    async def run_forever(self) -> None:
        async with httpx.AsyncClient(base_url=self.api, timeout=30) as http:
            for n in itertools.count():
                if n >= self.limit:
                    log.info("demo: %d leads sent; the stream stops here", n)
                    return
                lead = sample_lead(self.run, n)
                try:
                    answer = await http.post("/v1/leads", json=lead.model_dump(mode="json", exclude_none=True),
                                             headers=self._headers(FEED.id))
                    if answer.status_code in (200, 201):
                        task = asyncio.create_task(self._play(http, lead.lead_id, SCENARIOS[n % len(SCENARIOS)]))
                        self._tasks.add(task)
                        task.add_done_callback(self._tasks.discard)
                    else:
                        log.warning("demo: lead %s refused: %s", lead.lead_id, answer.text)
                except httpx.HTTPError as exc:
                    log.warning("demo: cannot post lead %s: %s", lead.lead_id, exc)
                await asyncio.sleep(self.interval)

    async def _owner(self, http: httpx.AsyncClient, lead_id: str, timeout: float = 30) -> str | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = (await http.get(f"/v1/leads/{lead_id}", headers=self._headers(FEED.id))).json()
            if state.get("owner") and state.get("stage") == "mql":
                return state["owner"]
            if state.get("stage") not in (None, "inquiry", "mql"):
                return None  # not an MQL (nurture, hold): nothing for a rep to do
            await asyncio.sleep(0.5)
        return None

    async def _play(self, http: httpx.AsyncClient, lead_id: str, scenario: str) -> None:
        try:
            owner = await self._owner(http, lead_id)
            if owner is None or owner not in self.tokens or scenario == "ignore":
                return
            rep = self._headers(owner)
            await asyncio.sleep(3)  # past the 2 s target: the owner is warned, then acts
            await http.post(f"/v1/leads/{lead_id}/touches", json={"channel": "phone", "outcome": "connected"},
                            headers=rep)
            if scenario == "reject":
                # Previously disqualified, still suppressed: back to recycled (REJ-05).
                await http.post(f"/v1/leads/{lead_id}/reject", json={"reason_code": "REJ-05"}, headers=rep)
                return
            await http.post(f"/v1/leads/{lead_id}/accept", json={}, headers=rep)
            if scenario == "recycle":
                await asyncio.sleep(5)
                await http.post(f"/v1/leads/{lead_id}/recycle",
                                json={"reason_code": "SAL-TIMELINE-12M", "note": "budget next year"}, headers=rep)
        except httpx.HTTPError as exc:
            log.warning("demo: rep action on %s failed: %s", lead_id, exc)

    async def run_until(self, stop: asyncio.Event) -> None:
        runner = asyncio.create_task(self.run_forever())
        await stop.wait()
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)
        await self.aclose()

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
