"""Who may read a lead, at the HTTP edge: the one rule of sla_policies/access.py for the
single read, the history, the list, the dashboard, the reports and the pages.

The rule is membership: a lead keeps the keys of the people who may read it
(`LeadState.reader_keys()`), the read model stores the same keys in `leads.readers`, and a
principal holds keys (`access.principal_keys`). So the predicate on a state and the SQL
filter cannot disagree, and a null manager matches nobody: a null is never a key.
Commands are not checked here: the lifecycle core checks the same rule first, in the
workflow's Update validator, so a stranger learns nothing of the lead's stage.
"""

from __future__ import annotations

from api.auth import Principal
from api.problems import ProblemError
from sla_policies.access import EVERYTHING, principal_keys, read_refusal
from sla_policies.state import LeadState


def require_read(principal: Principal, state: LeadState) -> None:
    refused = read_refusal(principal, state)
    if refused is not None:
        raise ProblemError(403, "Forbidden", refused)


def sql_filter(principal: Principal, *, alias: str = "") -> tuple[list[str], dict]:
    """The same rule over the read model: `{alias}readers` holds `reader_keys()` of the
    lead's last projected state (activities/read_model.py)."""
    keys = principal_keys(principal)
    if keys is EVERYTHING:
        return [], {}
    return [f"{alias}readers && %(reader_keys)s::text[]"], {"reader_keys": sorted(keys)}
