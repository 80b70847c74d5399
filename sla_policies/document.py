"""The human-readable SLA document, rendered from the policy that enforces it.

The document people sign is generated from the system that enforces it, so the two can
never disagree. `document_sections` turns the policy into plain sections (paragraphs,
bullet lists, tables of text); the Jinja2 templates in templates/ only lay them out, as
Markdown or as HTML (autoescaped), so both formats always say the same thing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from sla_policies.model import Cadence, LeadTypeSpec, Metric, Policy, ReasonCode, Window
from sla_policies.span import Span, SpanUnit

# ----------------------------------------------------------------------------- wording

_UNIT_WORDS = {
    SpanUnit.second: ("second", "seconds"),
    SpanUnit.minute: ("minute", "minutes"),
    SpanUnit.hour: ("hour", "hours"),
    SpanUnit.day: ("day", "days"),
    SpanUnit.month: ("month", "months"),
    SpanUnit.business_day: ("business day", "business days"),
}


def human_span(span: Span | None, clock: str = "calendar") -> str:
    """"5 minutes", "2 business hours" (on a business clock), "1 business day",
    "end of business day 14"; "—" for none."""
    if span is None:
        return "—"
    if span.unit is SpanUnit.end_of_business_day:
        return f"end of business day {span.amount}"
    singular, plural = _UNIT_WORDS[span.unit]
    word = singular if span.amount == 1 else plural
    if clock == "business" and span.is_fixed and span.unit is not SpanUnit.day:
        word = f"business {word}"
    return f"{span.amount} {word}"


def words(identifier: str) -> str:
    return identifier.replace("_", " ")


def roles(items: Iterable[str]) -> str:
    return ", ".join(words(r) for r in items) or "—"


def yes(flag: bool) -> str:
    return "yes" if flag else "no"


def after_hours_text(window: Window) -> str:
    rule = window.after_hours
    if rule is None:
        return "clock waits for the next open" if window.clock == "business" else "—"
    if rule.from_next_open is not None:
        return f"{human_span(rule.from_next_open, 'business')} after the next business-day open"
    return f"by {rule.by_next_business_day_at:%H:%M} the next business day"


def escalation_text(window: Window) -> str:
    steps = []
    for step in window.escalation:
        text = words(step.role)
        # Escalation delays run on elapsed time (bd/eod still count business days).
        text += f" {human_span(step.after)} after the breach" if step.after else " at the breach"
        if step.reassign:
            text += " + reassignment"
        if step.proposed:
            text += " (proposed)"
        steps.append(text)
    return ", then ".join(steps) or "—"


def suppression_text(item: ReasonCode) -> str:
    if item.permanent:
        return "permanent"
    if item.until_enriched:
        return "until enriched"
    return human_span(item.suppression) if item.suppression else "none"


def metric_bands(metric: Metric) -> tuple[str, str, str]:
    """(green, amber, red) as people read them; the edges are amber (Q30)."""
    u = metric.unit
    better, worse = (">", "<") if metric.direction == "higher_is_better" else ("<", ">")
    low, high = sorted((metric.green, metric.red))
    return f"{better}{metric.green:g}{u}", f"{low:g}–{high:g}{u}", f"{worse}{metric.red:g}{u}"


def money(amount: float | None) -> str:
    return "" if amount is None else f"${amount:,.0f}"


# ----------------------------------------------------------------------------- structure

@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    caption: str = ""


@dataclass(frozen=True)
class Section:
    title: str
    paragraphs: tuple[str, ...] = ()
    bullets: tuple[str, ...] = ()
    tables: tuple[Table, ...] = ()


def table(headers: tuple[str, ...], rows: Iterable[Iterable[object]], caption: str = "") -> Table:
    return Table(headers, tuple(tuple("" if c is None else str(c) for c in row) for row in rows), caption)


def _version(p: Policy) -> Section:
    s = p.signoff
    return Section(
        "Version and sign-off",
        (f"Version {p.version}, effective {p.effective_date}. Each lead keeps the version active when it "
         f"arrived; a new version applies to new leads.",
         f"MQL definition: owned by {words(s.mql_definition[0])}, signed by {roles(s.mql_definition[1:])}. "
         f"SQL definition: owned by {words(s.sql_definition[0])}, signed by {roles(s.sql_definition[1:])}. "
         f"Final arbiter: {words(s.arbiter)}."),
        bullets=tuple(p.changes),
    )


def _mql(p: Policy) -> Section:
    s, q = p.scoring, p.qualification
    threshold = ("each ACV tier's threshold" if s.threshold_mode == "acv_tier"
                 else f"a score of {s.mql_threshold} or more")
    return Section(
        "MQL definition",
        (f"A lead becomes an MQL at {threshold} when every required criterion holds and no disqualifier "
         f"applies. Scores {s.manager_review.min}–{s.manager_review.max} go to manager review and are never "
         f"auto-routed; below {s.manager_review.min} the lead stays in nurture.",
         f"The same action type scores once per {human_span(s.repeat_window)}; decay is not cumulative; "
         f"the score never falls below {s.floor}. Hand-raises are scored at once"
         f"{'' if s.latency_synchronous_for_handraises else ' (not)'}; other scoring within "
         f"{human_span(p.windows.scoring_latency.target, 'business')}.",
         f"ICP fit score at least {q.icp_fit_min}/100 ("
         + ", ".join(f"{words(fact)} {points}" for fact, points in q.icp_fit_points.items())
         + f"); at least one tracked engagement in the last "
         f"{human_span(q.recency)}; required fields: {', '.join(words(f) for f in q.required_fields)} "
         f"(phone may be waived for {', '.join(q.phone_waivable_for) or 'none'})."),
        tables=(
            table(("signal", "points", "action tier", "tier-1 trigger", "note"),
                  ((x.id, f"{x.points:+d}", x.action_tier, yes(x.tier1_trigger), x.note) for x in s.signals),
                  "Scoring"),
            table(("decay", "no activity for", "total points"),
                  ((d.id, human_span(d.after), f"{d.total_points:+d}") for d in s.decay)),
            table(("criterion", "rule", "required", "source"),
                  ((c.id, c.rule, yes(c.required), c.source) for c in q.criteria), "Mandatory entry criteria"),
            table(("automatic disqualifier", "outcome", "suppression", "source"),
                  ((d.id, words(d.outcome), "permanent" if d.permanent else human_span(d.suppression), d.source)
                   for d in q.disqualifiers), "Automatic disqualifiers (override any score)"),
        ),
    )


def _acv(p: Policy) -> Section:
    c = p.qualification.committee_engaged
    return Section(
        "ACV tiers",
        (f"Bands are half-open [low, high). Without an estimate a lead is treated as "
         f"{p.defaults.default_acv_tier}. Committee-Engaged: distinct contacts of one account within "
         f"{human_span(c.window)}{', at least one Director+' if c.director_plus_required else ''}; "
         f"{'required for qualification' if c.mode == 'required' else 'stored on the account as a signal'}.",),
        tables=(table(
            ("ACV tier", "range", "MQL threshold (range)", "expected MQL→SQL", "route to", "first contact",
             "handover document", "committee contacts"),
            ((t.id, f"{money(t.min_acv)}–{money(t.max_acv) or 'open'}",
              f"{t.mql_threshold} ({t.threshold_range[0]}–{t.threshold_range[1]})",
              f"{t.expected_mql_to_sql[0]:g}–{t.expected_mql_to_sql[1]:g}%", words(t.route_to),
              human_span(t.first_contact), yes(t.handover_document),
              f"{t.committee_min_contacts}{' + intent' if t.committee_requires_intent else ''}")
             for t in p.acv_tiers)),),
    )


def _first_outreach(lead_type: LeadTypeSpec) -> str:
    text = human_span(lead_type.first_outreach)
    if lead_type.first_outreach_if_no_show:
        text += f" ({human_span(lead_type.first_outreach_if_no_show)} if a no-show)"
    return text


def _leads(p: Policy) -> Section:
    r = p.routing
    return Section(
        "Lead tiers, lead types and routing",
        (f"Routing: {words(r.strategy)} by {', '.join(words(k) for k in r.segment_keys)}; capacity-capped: "
         f"{yes(r.capacity_capped)}; unavailable reps skipped: {yes(r.skip_unavailable)}; reassignment "
         f"{'resets' if r.reassignment_resets_clocks else 'never resets'} clocks. ACV tiers "
         f"{', '.join(r.direct_to_ae_tiers)} go directly to an AE, who takes the SDR's windows.",
         "The highest tier wins; an upgrade restarts the response window and cadence; never downgraded."),
        tables=(
            table(("lead tier", "trigger", "first attempt", "after hours", "cadence"),
                  ((k, v.trigger, human_span(p.window(v.response_window).target, p.window(v.response_window).clock),
                    after_hours_text(p.window(v.response_window)), v.cadence) for k, v in p.lead_tiers.items())),
            table(("lead type", "routing", "first outreach", "multiplier", "default tier", "to SDR"),
                  ((k, human_span(v.routing), _first_outreach(v), f"{v.multiplier}×",
                    v.default_tier or ("by score" if v.to_sdr else "—"),
                    "PLG flow" if v.routes_to_plg else yes(v.to_sdr)) for k, v in p.lead_types.items())),
        ),
    )


def _windows(p: Policy) -> Section:
    cal = p.calendars.default_calendar()
    return Section(
        "Response windows",
        (f"Business hours are {cal.open:%H:%M}–{cal.close:%H:%M}, {', '.join(cal.weekdays)}, in the "
         f"{', then '.join(p.calendars.timezone_precedence)} timezone; public holidays of "
         f"{cal.holiday_country or 'the prospect’s country'} are closed. A window's clock starts only when the "
         "sender has met its obligations. Missing the target is recorded; the breach escalates. After-hours "
         "arrivals: the after-hours rule replaces the target, the breach counts from the next open.",),
        tables=(table(
            ("window", "stage", "owner", "target", "warning", "breach", "clock", "after hours", "escalation", "note"),
            ((name + (" (proposed)" if w.proposed else ""), w.stage, words(w.owner), human_span(w.target, w.clock),
              human_span(w.warning, w.clock) if w.warning else "at target" if w.target else "—",
              human_span(w.breach, w.clock), w.clock, after_hours_text(w), escalation_text(w), w.note)
             for name, w in p.windows.items())),),
    )


def _cadence_table(cid: str, c: Cadence) -> Table:
    return table(("touch", "business day", "channel", "purpose"),
                 ((t.number, t.day, t.channel, t.purpose) for t in c.touches),
                 f"{cid}: {c.attempts} attempts over {human_span(c.span)}, recycle at {human_span(c.recycle_at)}")


def _cadences(p: Policy) -> Section:
    floor = next(iter(p.cadences.values())).floor
    return Section(
        "Cadences",
        ("Day 1 is the routing day (the next business day when routed after hours). Exhausted without a "
         "reply: recycled to nurture, never deleted. A live call that does not convert needs a follow-up "
         "and the cadence continues.",
         f"Never unreachable before {floor.min_attempts} attempts over {floor.min_channels} channels."),
        tables=(table(("cadence", "attempts", "span", "recycle at", "then"),
                      ((cid, c.attempts, human_span(c.span), human_span(c.recycle_at),
                        f"{c.on_exhausted.path}, {human_span(c.on_exhausted.suppression)} suppression")
                       for cid, c in p.cadences.items())),
                *(_cadence_table(cid, c) for cid, c in p.cadences.items())),
    )


_CODE_TITLES = {
    "mql_rejection": "MQL rejection by the SDR",
    "sql_rejection": "SQL rejection by the AE",
    "sal_disposition": "SAL dispositions (recycle)",
    "disqualification": "Manual disqualification",
    "mql_rejection_alt": "Alternative MQL rejection set",
}


def _codes(p: Policy) -> Section:
    rc = p.reason_codes
    return Section(
        "Reason codes",
        ("No rejection is saved without a code of that handoff's set; free text alone is refused; a note "
         "may accompany the code.",
         f"Active MQL rejection set: {'REJ' if rc.active_mql_set == 'REJ' else 'R1–R8'}."),
        tables=tuple(
            table(("code", "reason", "lead path", "suppression", "scope", "action", "reviewer", "maps to"),
                  ((c.code, c.reason, words(c.path), suppression_text(c)
                    + (f", check-in after {human_span(c.check_in)}" if c.check_in else ""),
                    c.scope, c.marketing_action or c.required_action, roles(c.reviewer) if c.reviewer else "",
                    ", ".join(c.maps_to)) for c in items), _CODE_TITLES.get(group, words(group)))
            for group, items in rc.groups().items()),
    )


def _sql_gate(p: Policy) -> Section:
    g = p.sql_gate
    return Section(
        "SQL gate",
        ("Hard requirements (the handoff is refused with the missing items listed): "
         + ", ".join(words(x) for x in g.hard_requirements) + ".",
         "Briefing document: " + ", ".join(words(x) for x in g.briefing_doc_fields) + "."
         + (" The AE confirms reading it when accepting." if g.ae_requires_briefing_read else ""),
         f"A timeline of {g.max_timeline_months} months or more is not ready."),
        tables=(table(("MEDDPIC element", "gate"), ((words(k), v) for k, v in g.meddpic.items())),),
    )


def _opportunity(p: Policy) -> Section:
    o = p.opportunity
    return Section(
        "Opportunity hygiene",
        (f"Alerts: no next step for {human_span(o.no_next_step_after)}; no activity for "
         f"{human_span(o.zero_activity_after)}; close date pushed {o.close_date_push_limit}× in a quarter; "
         f"deal size more than {o.acv_change_threshold_pct:g}% off the original estimate.",),
        tables=(
            table(("stage", "name", "definition", "max age", "next action", "close within"),
                  ((st.id.upper(), st.name, st.definition, human_span(st.max_age),
                    st.next_action + (f" within {human_span(st.next_action_within)}" if st.next_action_within else ""),
                    human_span(st.close_within)) for st in o.stages)),
            table(("alert", "condition", "alert to", "required action", "deadline"),
                  ((a.id, a.condition, roles(a.alert_to), a.required_action, human_span(a.deadline))
                   for a in o.alerts)),
        ),
    )


def _recycling(p: Policy) -> Section:
    r = p.recycling
    return Section(
        "Recycling and suppression",
        (f"No suppression is shorter than {human_span(r.minimum_suppression)}; never shortened when pipeline "
         "is thin. Records are never deleted." + (" A tier-1 hand-raise ends a time-boxed suppression; "
                                                  "scoring alone never does, and nothing ends a permanent one."
                                                  if r.tier1_handraise_overrides else ""),),
        tables=(table(("scenario", "outcome", "suppression", "re-MQL trigger", "owner"),
                      ((s.id, s.outcome,
                        "permanent" if s.permanent else "until enriched" if s.until_enriched
                        else human_span(s.suppression) if s.suppression else "none",
                        s.re_mql_trigger, words(s.owner)) for s in r.scenarios)),),
    )


def _escalation(p: Policy) -> Section:
    return Section(
        "Escalation",
        ("Escalation is designed-in behavior, not blame; alerts fire automatically.",),
        tables=(
            table(("window", "ladder"), ((name, escalation_text(w)) for name, w in p.windows.items() if w.escalation),
                  "Per-window ladders"),
            table(("consecutive weeks in breach", "level", "notify", "action"),
                  ((f"≥{lv.weeks}", lv.level, roles(lv.notify), lv.action) for lv in p.pattern_escalation),
                  "Pattern ladder (either side; a week is in breach when any of that side's metrics is red)"),
        ),
    )


def _metrics(p: Policy) -> Section:
    return Section(
        "Metrics",
        ("Band edges count as amber: exactly at a threshold is amber.",),
        tables=(table(("metric", "definition", "green", "amber", "red", "cadence", "commitment"),
                      ((m.id, m.definition, *metric_bands(m), m.cadence,
                        f"{m.commitment:g}{m.unit}" if m.commitment is not None else "") for m in p.metrics)),),
    )


def _reviews(p: Policy) -> Section:
    return Section(
        "Review cadence",
        ("Reviews are facilitated by RevOps or the CRO, never by one side alone.",),
        tables=(table(("review", "cadence", "who", "content"),
                      ((r.id, r.cadence + (f", {r.duration_min} min" if r.duration_min else ""), roles(r.who),
                        r.content) for r in p.reviews)),),
    )


def document_sections(policy: Policy, signatures: list[tuple[str, str, str]] | None = None) -> list[Section]:
    """The SLA document as data, in reading order; `signatures` (role, principal, when) are
    the release's sign-offs, shown under the version's change list."""
    sections = [builder(policy) for builder in (
        _version, _mql, _acv, _leads, _windows, _cadences, _codes, _sql_gate, _opportunity, _recycling,
        _escalation, _metrics, _reviews,
    )]
    if signatures is not None:
        first = sections[0]
        signed = table(("Role", "Signed by", "At"), [(words(r), who, at) for r, who, at in signatures],
                       caption="Sign-offs on this version's content" if signatures else "Not signed yet")
        sections[0] = Section(first.title, first.paragraphs, first.bullets, (*first.tables, signed))
    return sections


# ----------------------------------------------------------------------------- rendering

def _md_cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


_env = Environment(
    loader=PackageLoader("sla_policies", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
_env.filters["md_cell"] = _md_cell

_TEMPLATES = {"markdown": "policy.md.j2", "html": "policy.html.j2"}


def render_policy(policy: Policy, fmt: Literal["markdown", "html"] = "markdown",
                  signatures: list[tuple[str, str, str]] | None = None) -> str:
    """The SLA document as Markdown or as a standalone HTML page (with its sign-offs, if given)."""
    if fmt not in _TEMPLATES:
        raise ValueError(f"unknown document format {fmt!r}: use markdown or html")
    return _env.get_template(_TEMPLATES[fmt]).render(p=policy, sections=document_sections(policy, signatures))
