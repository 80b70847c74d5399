"""The account questions read one account's leads, not every lead (migration 0016): each
new lead asks them, so a scan would make a lead's cost grow with the read model. Checked
on the real PostgreSQL by the plans of the queries the code runs, with sequential scans
priced out (on a small table the planner would rightly prefer one): a query whose
expression drifts from its index's plans a Seq Scan on `leads` even so."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg
import pytest

from activities.read_model import ENGAGEMENT_SQL, OPEN_LEADS_SQL
from readmodel.lookups import ACCOUNT_STATUS_SQL
from sla_policies.model.transitions import OPEN_STAGES

PARAMS = {"domain": "acme.example.com", "exclude": "L-1", "since": datetime(2026, 1, 1, tzinfo=UTC),
          "senior": "director", "own_email": "a@acme.example.com", "open": list(OPEN_STAGES),
          "before": datetime(2026, 1, 1, tzinfo=UTC)}


@pytest.mark.parametrize("sql", [ACCOUNT_STATUS_SQL, ENGAGEMENT_SQL, OPEN_LEADS_SQL],
                         ids=["account_status", "account_engagement", "account_open_leads"])
def test_an_account_question_reads_the_account_by_index(postgres_url, sql):
    with psycopg.connect(postgres_url) as conn:
        conn.execute("SET LOCAL enable_seqscan = off")
        plan = "\n".join(row[0] for row in conn.execute(f"EXPLAIN {sql}", PARAMS))
    assert "Seq Scan on leads" not in plan, plan
    assert "leads_email_domain_idx" in plan, plan
    if sql is ACCOUNT_STATUS_SQL:  # its other side: the domain the intake named
        assert "leads_account_domain_idx" in plan, plan
