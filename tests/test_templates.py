"""Every notification the workflow sends has a template, and the digest templates lay
out their inputs (subject on the first line, the body below)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from activities.digests import render_daily_flash, render_weekly_report
from activities.notify import render, template_environment
from sla_policies.digests import (
    BreachLine,
    DailyFlash,
    MetricLine,
    OwnerBreaches,
    PriorityLead,
    RejectionPattern,
    RepeatBreach,
    WeeklyReport,
)
from sla_policies.state import Notification

AT = datetime(2030, 1, 8, 15, 30, tzinfo=UTC)


@pytest.mark.parametrize("kind", ["routed", "touch_due", "warning", "breach", "escalation", "sql_briefing",
                                  "three_way_intro", "info"])
def test_each_notification_kind_renders_a_subject_and_body(kind):
    n = Notification(seq=4, lead_id="L-77", kind=kind, recipient_role="sdr", recipient="sdr-9", at=AT,
                     item="sdr_response.tier1", detail="AE ae-3, meeting 2030-01-10 15:00Z", due_at=AT)
    subject, body = render(template_environment(), f"{kind}.txt.j2", n=n)
    assert subject.startswith("[Handoff]") and "L-77" in subject
    assert body and "{" not in body


def test_three_way_intro_is_a_draft_for_the_sdr():
    n = Notification(seq=5, lead_id="L-78", kind="three_way_intro", recipient_role="sdr", recipient="sdr-9",
                     at=AT, detail="Meet Ana (ae-3): Thursday 10:00 ET.", due_at=AT)
    subject, body = render(template_environment(), "three_way_intro.txt.j2", n=n)
    assert subject == "[Handoff] Send the three-way intro for lead L-78"
    assert body.startswith("sdr-9, the lead L-78 is an SQL")
    assert "Send it by 2030-01-08T15:30:00+00:00 (three_way_intro window)." in body
    assert "  Meet Ana (ae-3): Thursday 10:00 ET." in body


def test_daily_flash_lists_breaches_by_owner():
    flash = DailyFlash(
        day=date(2030, 1, 7),
        compliance=[MetricLine(metric="sdr_response", value="91%", target="95%", status="amber")],
        owners=[
            OwnerBreaches(owner="sdr-1", owner_role="sdr", breaches=[
                BreachLine(lead_id="L-1", item="sdr_response.tier1", breached_at=AT, escalated_to=["sdr_manager"]),
                BreachLine(lead_id="L-2", item="sal_decision", breached_at=AT)]),
            OwnerBreaches(owner=None, breaches=[BreachLine(lead_id="L-3", item="routing.standard", breached_at=AT)]),
        ],
        open_priority=[PriorityLead(lead_id="L-9", tier=1, owner="sdr-2", item="sdr_response.tier1", due_at=AT)],
    )
    subject, body = render_daily_flash(flash)
    assert subject == "[Handoff] SLA flash 2030-01-07: 3 breaches"
    assert body.splitlines() == [
        "[AMBER] sdr_response: 91% (target 95%)",
        "sdr-1 (sdr): 2",
        "  - L-1 sdr_response.tier1 breached 2030-01-08 15:30Z, escalated to sdr_manager",
        "  - L-2 sal_decision breached 2030-01-08 15:30Z",
        "unassigned: 1",
        "  - L-3 routing.standard breached 2030-01-08 15:30Z",
        "Open priority leads",
        "  - L-9 tier 1 (sdr-2): sdr_response.tier1 due 2030-01-08 15:30Z",
    ]


def test_a_quiet_day_says_so():
    subject, body = render_daily_flash(DailyFlash(day=date(2030, 1, 7), owners=[]))
    assert subject == "[Handoff] SLA flash 2030-01-07: 0 breaches"
    assert body == "No SLA breaches on 2030-01-07."


def test_weekly_report_has_scorecard_patterns_and_repeats():
    report = WeeklyReport(
        week_start=date(2030, 1, 7), week_end=date(2030, 1, 11), policy_version="2026.11.0",
        scorecard=[MetricLine(metric="mql_acceptance", value="72%", target="70%", status="green"),
                   MetricLine(metric="routing", value="9 min", target="5 min", status="red")],
        top_rejections=[RejectionPattern(reason_code="REJ-01", source="webinar", acv_tier="mid", count=7,
                                         action="tighten the webinar form's company-size field")],
        repeat_breaches=[RepeatBreach(item="sdr_response.tier1", weeks=2, notify="VP Sales + VP Marketing")],
        breaches_by_owner=[OwnerBreaches(owner="sdr-1", breaches=[
            BreachLine(lead_id="L-1", item="sal_decision", breached_at=AT)])],
    )
    subject, body = render_weekly_report(report)
    assert subject == "[Handoff] Weekly SLA report 2030-01-07 to 2030-01-11 (policy 2026.11.0)"
    lines = body.splitlines()
    assert lines[:3] == ["SLA scorecard", "  [GREEN] mql_acceptance: 72% (target 70%)",
                         "  [RED] routing: 9 min (target 5 min)"]
    assert ("  1. REJ-01 from webinar, ACV mid: 7 - action: tighten the webinar form's company-size field"
            in lines)
    assert "  sdr_response.tier1: 2 consecutive weeks - VP Sales + VP Marketing" in lines
    assert lines[-1] == "  sdr-1: 1"
