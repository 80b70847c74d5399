"""The human-readable SLA document, rendered from the policy that enforces it.

The document people sign is generated from the system that enforces it, so the two can
never disagree. Templates are package data next to this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from sla_policies.model import Policy, Window
from sla_policies.span import Span, SpanUnit

_UNIT_WORDS = {
    SpanUnit.second: ("second", "seconds"),
    SpanUnit.minute: ("min", "min"),
    SpanUnit.hour: ("hour", "hours"),
    SpanUnit.day: ("day", "days"),
    SpanUnit.month: ("month", "months"),
    SpanUnit.business_day: ("business day", "business days"),
}


def human_span(span: Span | None, clock: str = "calendar") -> str:
    """"5 business min", "2 business hours", "1 business day", "end of business day 14"."""
    if span is None:
        return "—"
    if span.unit is SpanUnit.end_of_business_day:
        return f"end of business day {span.amount}"
    singular, plural = _UNIT_WORDS[span.unit]
    word = singular if span.amount == 1 else plural
    if clock == "business" and span.unit in (SpanUnit.second, SpanUnit.minute, SpanUnit.hour):
        word = f"business {word}"
    return f"{span.amount} {word}"


def after_hours_text(window: Window) -> str:
    rule = window.after_hours
    if rule is None:
        return "paused" if window.clock == "business" else "—"
    if rule.from_next_open is not None:
        return f"{human_span(rule.from_next_open, 'business')} after the next business-day open"
    return f"by {rule.by_next_business_day_at:%H:%M} the next business day"


def escalation_text(window: Window) -> str:
    steps = []
    for step in window.escalation:
        text = step.role.replace("_", " ")
        if step.after is not None:
            text += f" ({human_span(step.after, window.clock)} later)"
        if step.reassign:
            text += " + reassignment"
        if step.proposed:
            text += " (proposed)"
        steps.append(text)
    return ", then ".join(steps) or "—"


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Section:
    title: str
    paragraphs: tuple[str, ...] = ()
    tables: tuple[Table, ...] = ()


def _t(headers: tuple[str, ...], rows) -> Table:
    return Table(headers, tuple(tuple(str(c) for c in row) for row in rows))


def document_sections(p: Policy) -> list[Section]:
    """The SLA document as data; the templates only lay it out (Markdown or HTML)."""
    s = p.scoring
    q = p.qualification
    yes = lambda b: "yes" if b else "no"  # noqa: E731
    return [
        Section("Version", (
            f"Version {p.version}, effective {p.effective_date}.",
            f"MQL definition signed by {', '.join(p.signoff.mql_definition)}; SQL definition by "
            f"{', '.join(p.signoff.sql_definition)}; final arbiter: {p.signoff.arbiter}.",
            *(f"Change: {c}" for c in p.changes),
        )),
        Section("MQL definition", (
            f"A lead becomes an MQL at a score of {s.mql_threshold} or more ({s.threshold_mode} threshold) "
            f"when every mandatory criterion holds. Scores {s.manager_review.min}–{s.manager_review.max} go to "
            f"manager review and are never auto-routed; below {s.manager_review.min} the lead stays in nurture.",
            f"The same action type scores once per {human_span(s.repeat_window)}; decay is not cumulative; "
            f"the score never falls below {s.floor}.",
        ), (
            _t(("signal", "points", "action tier", "tier-1 trigger", "note"),
               ((x.id, x.points, x.action_tier, yes(x.tier1_trigger), x.note or "") for x in s.signals)),
            _t(("no activity for", "total decay"), ((human_span(d.after), d.total_points) for d in s.decay)),
            _t(("criterion", "rule", "required", "source"),
               ((c.id, c.rule, yes(c.required), c.source) for c in q.criteria)),
            _t(("automatic disqualifier", "outcome", "permanent", "suppression"),
               ((d.id, d.outcome, yes(d.permanent), human_span(d.suppression)) for d in q.disqualifiers)),
        )),
        Section("ACV tiers and routing", (
            f"Routing: {p.routing.strategy.replace('_', ' ')}, capacity-capped: {yes(p.routing.capacity_capped)}, "
            f"unavailable reps skipped: {yes(p.routing.skip_unavailable)}; reassignment never resets clocks.",
        ), (
            _t(("ACV tier", "range", "MQL threshold", "expected MQL→SQL", "route to", "first contact"),
               ((t.id, f"{t.min_acv:,.0f}–{'' if t.max_acv is None else f'{t.max_acv:,.0f}'}", t.mql_threshold,
                 f"{t.expected_mql_to_sql[0]:g}–{t.expected_mql_to_sql[1]:g}%", t.route_to, human_span(t.first_contact))
                for t in p.acv_tiers)),
            _t(("lead type", "routing", "first outreach", "multiplier", "default tier", "to SDR"),
               ((k, human_span(v.routing), human_span(v.first_outreach), f"{v.multiplier}×",
                 v.default_tier or "by score", yes(v.to_sdr)) for k, v in p.lead_types.items())),
            _t(("lead tier", "trigger", "response window", "cadence"),
               ((k, v.trigger, v.response_window, v.cadence) for k, v in p.lead_tiers.items())),
        )),
        Section("Response windows", (
            "A business clock runs 08:00–18:00 in the prospect's timezone on business days; public "
            "holidays of the prospect's country are closed. The breach threshold escalates.",
        ), (
            _t(("window", "owner", "target", "warning", "breach", "clock", "after hours", "escalate to"),
               ((name, w.owner, human_span(w.target, w.clock), human_span(w.warning, w.clock),
                 human_span(w.breach, w.clock), w.clock, after_hours_text(w), escalation_text(w))
                for name, w in p.windows.items())),
        )),
        Section("Cadences", (), tuple(
            _t((f"{cid}: touch", "business day", "channel", "purpose"),
               ((t.number, t.day, t.channel, t.purpose) for t in c.touches))
            for cid, c in p.cadences.items()
        ) + (
            _t(("cadence", "attempts", "span", "recycle at", "then"),
               ((cid, c.attempts, human_span(c.span), human_span(c.recycle_at),
                 f"{c.on_exhausted.path}, {human_span(c.on_exhausted.suppression)} suppression")
                for cid, c in p.cadences.items())),
        )),
        Section("Feedback codes", (
            "No rejection is saved without a code of that handoff's set; a note may accompany it.",
        ), tuple(
            _t((f"{group.replace('_', ' ')} code", "reason", "lead path", "suppression", "action"),
               ((c.code, c.reason, c.path,
                 "permanent" if c.permanent else ("until enriched" if c.until_enriched else human_span(c.suppression)),
                 c.marketing_action or c.required_action or "")
                for c in getattr(p.reason_codes, group)))
            for group in ("mql_rejection", "sql_rejection", "sal_disposition", "disqualification", "mql_rejection_alt")
        )),
        Section("SQL gate", (
            "Hard requirements (handoff refused with the missing items listed): "
            + ", ".join(x.replace("_", " ") for x in p.sql_gate.hard_requirements) + ".",
            f"A timeline of {p.sql_gate.max_timeline_months} months or more is not ready.",
        ), (_t(("MEDDPIC element", "gate"), ((k.replace("_", " "), v) for k, v in p.sql_gate.meddpic.items())),)),
        Section("Opportunity hygiene", (), (
            _t(("stage", "name", "max age", "next action", "close within"),
               ((st.id.upper(), st.name, human_span(st.max_age),
                 f"{st.next_action} ≤{human_span(st.next_action_within)}", human_span(st.close_within))
                for st in p.opportunity.stages)),
            _t(("alert", "condition", "alert to", "deadline"),
               ((a.id, a.condition, ", ".join(a.alert_to), human_span(a.deadline)) for a in p.opportunity.alerts)),
        )),
        Section("Recycling and suppression", (
            f"Never shorter than {human_span(p.recycling.minimum_suppression)}.",
        ), (_t(("scenario", "outcome", "suppression", "re-MQL trigger", "owner"),
               ((r.id, r.outcome,
                 "permanent" if r.permanent else ("until enriched" if r.until_enriched else human_span(r.suppression)),
                 r.re_mql_trigger, r.owner) for r in p.recycling.scenarios)),)),
        Section("Escalation", (
            "Per-window ladders are listed with the response windows. Pattern ladder, either side:",
        ), (_t(("consecutive weeks in breach", "level", "notify", "action"),
               ((lv.weeks, lv.level, ", ".join(lv.notify), lv.action) for lv in p.pattern_escalation)),)),
        Section("Metrics", (
            "Edges are amber: exactly at a threshold counts as amber.",
        ), (_t(("metric", "definition", "green", "red", "cadence"),
               ((m.id, m.definition, f"{'>' if m.direction == 'higher_is_better' else '<'}{m.green:g}",
                 f"{'<' if m.direction == 'higher_is_better' else '>'}{m.red:g}", m.cadence) for m in p.metrics)),)),
        Section("Review cadence", (), (
            _t(("review", "cadence", "who", "content"),
               ((r.id, r.cadence, ", ".join(r.who), r.content) for r in p.reviews)),
        )),
    ]


_env = Environment(
    loader=PackageLoader("sla_policies", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_policy(policy: Policy, fmt: Literal["markdown", "html"] = "markdown") -> str:
    template = _env.get_template("policy.md.j2" if fmt == "markdown" else "policy.html.j2")
    return template.render(p=policy, sections=document_sections(policy))
