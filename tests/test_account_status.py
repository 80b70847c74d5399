"""Q28's account match, answered from the read model (real PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg
import pytest
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from activities.read_model import AccountEngagementActivities
from sla_policies.state import AccountStatusQuery

NOW = datetime(2026, 11, 2, 15, tzinfo=UTC)


def put_lead(conn, lead_id: str, stage: str, email: str, account_domain: str | None = None) -> None:
    state = {"intake": {"account": {"domain": account_domain}}}
    conn.execute(
        "INSERT INTO leads (lead_id, workflow_id, stage, policy_version, lead_type, email, state, created_at,"
        " updated_at)"
        " VALUES (%s, %s, %s, 'v', 'demo_request', %s, %s, %s, %s) ON CONFLICT (lead_id) DO NOTHING",
        (lead_id, f"lead-{lead_id}", stage, email, Jsonb(state), NOW, NOW))


@pytest.fixture
async def accounts(postgres_url):
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        put_lead(conn, "q28-won", "closed_won", "cfo@won-q28.com")
        put_lead(conn, "q28-opp", "opportunity", "vp@opp-q28.com")
        put_lead(conn, "q28-lost", "closed_lost", "vp@lost-q28.com")
        put_lead(conn, "q28-byaccount", "opportunity", "x@gmail.com", account_domain="acct-q28.com")
    async with AsyncConnectionPool(postgres_url, min_size=1, max_size=2) as pool:
        yield AccountEngagementActivities(pool)


@pytest.mark.parametrize("domain, customer, opportunity", [
    ("won-q28.com", True, None),          # a closed-won lead makes the account a customer
    ("opp-q28.com", False, "q28-opp"),    # an open opportunity names its lead
    ("lost-q28.com", False, None),        # a lost deal is neither
    ("acct-q28.com", False, "q28-byaccount"),  # matched on the account's own domain too
    ("nobody-q28.com", False, None),
])
async def test_account_status_matches_customers_and_open_opportunities(accounts, domain, customer, opportunity):
    status = await accounts.account_status(AccountStatusQuery(domain=domain, exclude_lead_id="new"))
    assert (status.existing_customer, status.open_opportunity) == (customer, opportunity)
    assert status.matched == (customer or opportunity is not None)


async def test_a_lead_never_matches_itself(accounts):
    status = await accounts.account_status(AccountStatusQuery(domain="opp-q28.com", exclude_lead_id="q28-opp"))
    assert not status.matched
