"""The SQL gate (docs/domain.md §8): what must be true before an SAL becomes an SQL."""

from __future__ import annotations

from sla_policies.model import Policy


def missing_for_sql(policy: Policy, *, meddpic: dict[str, bool], meeting_booked: bool, meeting_link: str | None,
                    pain_statement: str | None, timeline_months: int | None,
                    briefing: dict[str, object]) -> list[str]:
    """Every unmet hard requirement and required MEDDPIC element, named for the rep."""
    gate = policy.sql_gate
    missing: list[str] = []
    present = {
        "meeting_booked": meeting_booked,
        "pain_statement": bool(pain_statement and pain_statement.strip()),
        "timeline": timeline_months is not None,
        "meeting_link": bool(meeting_link and meeting_link.strip()),
        "briefing_doc_complete": all(bool(briefing.get(f)) for f in gate.briefing_doc_fields),
    }
    for requirement in gate.hard_requirements:
        if not present[requirement]:
            missing.append(requirement)
    if "briefing_doc_complete" in missing:
        missing += [f"briefing.{f}" for f in gate.briefing_doc_fields if not briefing.get(f)]
    for element, level in gate.meddpic.items():
        if level == "required" and not meddpic.get(element):
            missing.append(f"meddpic.{element}")
    if timeline_months is not None and timeline_months >= gate.max_timeline_months:
        missing.append(f"timeline under {gate.max_timeline_months} months (Q36)")
    return missing


def flags_for_ae(policy: Policy, meddpic: dict[str, bool]) -> list[str]:
    """Preferred elements not confirmed: flagged to the AE, who accepts the risk."""
    return [e for e, level in policy.sql_gate.meddpic.items() if level == "preferred" and not meddpic.get(e)]
