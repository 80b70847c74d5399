"""The SLA document people sign, rendered from the default policy."""

from __future__ import annotations

import pytest

from sla_policies.document import document_sections, human_span, metric_bands, render_policy
from sla_policies.loader import default_policy
from sla_policies.span import Span

P = default_policy()
MD = render_policy(P)
HTML = render_policy(P, fmt="html")


@pytest.mark.parametrize("span,clock,text", [
    ("5m", "calendar", "5 minutes"),
    ("1m", "calendar", "1 minute"),
    ("5m", "business", "5 business minutes"),
    ("2h", "business", "2 business hours"),
    ("24h", "calendar", "24 hours"),
    ("1bd", "business", "1 business day"),
    ("14bd", "calendar", "14 business days"),
    ("eod14", "business", "end of business day 14"),
    ("90d", "business", "90 days"),
    ("6mo", "calendar", "6 months"),
    (None, "calendar", "—"),
])
def test_spans_read_as_people_say_them(span, clock, text):
    assert human_span(Span.parse(span) if span else None, clock) == text


def test_every_part_of_the_sla_has_a_section():
    assert [s.title for s in document_sections(P)] == [
        "Version and sign-off", "MQL definition", "ACV tiers", "Lead tiers, lead types and routing",
        "Response windows", "Cadences", "Reason codes", "SQL gate", "Opportunity hygiene",
        "Recycling and suppression", "Escalation", "Metrics", "Review cadence",
    ]
    for title in ("MQL definition", "Response windows", "Reason codes", "Metrics", "Review cadence"):
        assert f"\n## {title}\n" in MD
        assert f"<h2>{title}</h2>" in HTML


@pytest.mark.parametrize("text", [
    "# Marketing-to-Sales Lead Handling SLA (default)",
    "Version 2026.11.0 · effective 2026-11-23",
    "MQL definition: owned by vp marketing, signed by vp sales.",
    "A lead becomes an MQL at a score of 60 or more",
    "Scores 40–59 go to manager review",
    "| demo_request | +40 | high | yes |",
    "| pricing_form | +35 | high | yes |",
    "| email_unsubscribe | -50 | negative | no |",
    "| no_activity_60d | 60 days | -20 |",
    "| competitor_domain | disqualified | permanent |",
    "| 200k_plus | $200,000–open | 80 (80–95) | 35–55% | named ae | 30 minutes | yes | 5 + intent |",
    "| 2 | >=3 medium/high actions in trailing 30 d (Q34) | 2 business hours | by 10:00 the next business day"
    " | tier2 |",
    "| webinar | 4 hours | end of business day 1 (end of business day 2 if a no-show) | 3× | by score | yes |",
    "| sdr_response.tier1 | L2→L3 | sdr | 5 business minutes | at target | 2 business hours | business | "
    "30 business minutes after the next business-day open | sdr manager at the breach, then vp sales 2 business "
    "days after the breach + reassignment (proposed) |",
    "| sal_resolution | L3→L4 | sdr | end of business day 14 | end of business day 12 | end of business day 14 |",
    "| ae_first_touch | L5 | ae | 1 business day | at target | 2 business days | business | clock waits for the next "
    "open | ae manager at the breach, then vp sales 24 hours after the breach (proposed) |",
    "| briefing_doc | L4 | sdr | — | — | — | gate |",
    "| tier1 | 8 | 7 business days | end of business day 7 | recycled, 90 days suppression |",
    "**tier3: 5 attempts over 14 business days, recycle at end of business day 14**",
    "| REJ-06 | competitor employee | disqualified | permanent | domain |",
    "| AE-REJ-02 | timeline >12 months | recycled | 6 months, check-in after 6 months |",
    "| AE-REJ-05 | territory conflict / account ownership | reassign | none |  | RevOps arbitrates; reassign or "
    "redirect | revops, sales ops |",
    "Hard requirements (the handoff is refused with the missing items listed): meeting booked, pain statement, "
    "timeline, meeting link, briefing doc complete.",
    "| metrics | required |",
    "| OS2 | Qualification | MEDDPIC validated, economic buyer known, fit confirmed | 30 days |",
    "| opp_acv_change | deal size >30% off original estimate | vp sales, revops | scope and risk review | 24 hours |",
    "No suppression is shorter than 90 days",
    "| ≥4 | tier2 | ceo |",
    "| mql_quality_rate | % MQLs meeting all criteria (inverse of SDR rejection) | >95% | 85–95% | <85% | monthly"
    " | 95% |",
    "| sla_breach_rate | % leads/deals with >=1 breach | <5% | 5–15% | >15% | weekly |",
    "| friday_pipeline_review | weekly, 60 min | vp marketing, vp sales |",
])
def test_markdown_states_the_rules_people_sign(text):
    assert text in MD


def test_markdown_tables_are_well_formed():
    for line in MD.splitlines():
        if line.startswith("|"):
            assert line.endswith("|"), line
    header = next(line for line in MD.splitlines() if line.startswith("| window | stage |"))
    assert header.count("|") == 11


def test_a_pipe_in_a_value_does_not_break_a_markdown_table():
    data = P.model_dump(mode="json")
    data["windows"]["scoring_latency"]["note"] = "a | b"
    from sla_policies.loader import policy_from_data

    assert "| a \\| b |" in render_policy(policy_from_data(data))


def test_html_is_a_standalone_escaped_page():
    assert HTML.startswith("<!doctype html>") and HTML.rstrip().endswith("</html>")
    assert "<th>window</th>" in HTML and "<td>REJ-06</td>" in HTML
    assert "<caption>Per-window ladders</caption>" in HTML
    data = P.model_dump(mode="json")
    data["title"] = "<script>alert(1)</script>"
    from sla_policies.loader import policy_from_data

    html = render_policy(policy_from_data(data), fmt="html")
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_metric_bands_put_the_edges_in_amber():
    assert metric_bands(P.metric("mql_response_tier1")) == (">80%", "60–80%", "<60%")
    assert metric_bands(P.metric("sla_breach_rate")) == ("<5%", "5–15%", ">15%")


def test_unknown_format_is_refused():
    with pytest.raises(ValueError, match="unknown document format"):
        render_policy(P, fmt="pdf")  # type: ignore[arg-type]
