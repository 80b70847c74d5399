"""Human names for the ids people see on pages: SLA windows (clock items), metrics and
stages. Pure: the ids stay the one name of each concept (in code, policy, API, DB), and
the pages show these names with the id on hover."""

from __future__ import annotations

# Words that are acronyms or read better spelled out, wherever they appear in an id.
_WORDS = {"sdr": "SDR", "ae": "AE", "mql": "MQL", "sal": "SAL", "sql": "SQL", "opp": "opportunity",
          "sla": "SLA", "icp": "ICP", "vp": "VP", "revops": "RevOps", "os1": "OS1", "os2": "OS2", "os3": "OS3",
          "os4": "OS4", "os5": "OS5"}

# The windows of docs/domain.md §5 whose id alone says too little.
WINDOWS = {
    "scoring_latency": "Scoring",
    "enrichment_before_routing": "Enrichment before routing",
    "routing": "Routing",
    "sdr_notification": "SDR notified",
    "sdr_response": "First response",
    "sal_accept_after_first_attempt": "Accept after first attempt",
    "sal_reject": "Reject decision",
    "sal_decision": "Accept or reject",
    "activity_logging": "Log the activity",
    "sequence_enrollment": "Enrol in the sequence",
    "sal_resolution": "Resolve the SAL",
    "post_call_follow_up": "Follow up after the call",
    "sql_completeness": "SQL completeness",
    "briefing_doc": "Briefing document",
    "ae_notification": "AE notified",
    "three_way_intro": "Three-way intro",
    "ae_acceptance": "AE accepts the SQL",
    "opportunity_creation": "Create the opportunity",
    "ae_first_touch": "AE first touch",
    "internal_debrief": "Internal debrief",
    "discovery_meeting": "Discovery meeting",
    "opp_next_step": "Opportunity next step",
    "opp_activity": "Opportunity activity",
    "opp_stage_age": "Opportunity stage age",
}

# The metrics of docs/domain.md §12.1.
METRICS = {
    "mql_response_tier1": "Tier-1 first response in 5 min",
    "mql_response_tier2": "Tier-2 first response in 2 h",
    "mql_live_contact_rate": "Live conversations",
    "mql_to_sal_rate": "MQL → SAL",
    "sal_to_sql_rate": "SAL → SQL",
    "sql_acceptance_rate": "SQL accepted by AEs",
    "sql_to_opp_rate": "SQL → opportunity",
    "mql_quality_rate": "MQL quality",
    "sla_breach_rate": "Leads with a breach",
}

STAGES = {"inquiry": "Inquiry", "mql": "MQL", "sal": "SAL", "sql": "SQL", "opportunity": "Opportunity",
          "recycled": "Recycled", "disqualified": "Disqualified", "closed_won": "Closed won",
          "closed_lost": "Closed lost", "nurture": "Nurture"}


def humanize(identifier: str) -> str:
    """`post_call_follow_up` -> `Post call follow up`; known acronyms upper-cased."""
    words = [_WORDS.get(w, w) for w in identifier.replace(".", " ").split("_") for w in w.split()]
    text = " ".join(words)
    return text[:1].upper() + text[1:] if text else identifier


def window_label(item: str) -> str:
    """A clock item is `<window>` or `<window>.<variant>`: `sdr_response.tier1` ->
    `First response (tier 1)`."""
    window, _, variant = item.partition(".")
    name = WINDOWS.get(window) or humanize(window)
    if not variant:
        return name
    if variant.startswith("tier") and variant[4:].isdigit():
        variant = f"tier {variant[4:]}"
    else:
        variant = humanize(variant).lower()
    return f"{name} ({variant})"


def metric_label(metric_id: str) -> str:
    return METRICS.get(metric_id) or humanize(metric_id)


def stage_label(stage: str) -> str:
    return STAGES.get(stage) or humanize(stage)
