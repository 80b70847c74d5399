"""Deadlines that explain themselves (issue 16), on the pure core: every clock says why it
is due when it is, in a rep's words, from the same computation and the same calendar
snapshot the core used (holiday names included); breach and escalation notifications carry
the words, so the dispute cites what the clock really did."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sla_policies.lifecycle.types import Notify
from tests.core import CoreLead
from tests.lifecycle import demo_request

NY = ZoneInfo("America/New_York")


def test_an_after_hours_arrival_explains_the_next_open_the_rule_and_the_breach():
    lead = CoreLead(demo_request())
    lead.start(datetime(2027, 4, 6, 19, 0, tzinfo=NY))  # a Tuesday evening
    assert lead.state is not None
    response = next(c for c in lead.state.clocks if c.item == "sdr_response.tier1")
    assert response.why == ("started Tue 6 Apr 19:00 New York (after hours) → next open Wed 7 Apr 08:00"
                            " → + 30 business minutes after the next open (after-hours rule) → due Wed 7 Apr 08:30"
                            " → + 2 business hours from the clock start → breach Wed 7 Apr 10:00")


def test_a_window_over_thanksgiving_names_the_holiday_and_the_breach_notification_carries_it():
    lead = CoreLead(demo_request())
    lead.start(datetime(2026, 11, 25, 17, 0, tzinfo=NY))  # Wednesday before Thanksgiving, 17:00
    assert lead.state is not None
    response = next(c for c in lead.state.clocks if c.item == "sdr_response.tier1")
    assert response.breach_at == datetime(2026, 11, 27, 9, 0, tzinfo=NY)  # 1 h Wed, Thanksgiving, 1 h Fri
    assert response.why is not None and response.why.endswith("; Thanksgiving Day (Thu 26 Nov) skipped")
    lead.advance_to(response.breach_at + timedelta(minutes=1))
    sent = [e.notification for d in lead.decisions for e in d.effects if isinstance(e, Notify)]
    breach = next(n for n in sent if n.kind == "breach" and n.item == "sdr_response.tier1")
    escalation = next(n for n in sent if n.kind == "escalation" and n.item == "sdr_response.tier1")
    assert breach.detail == response.why and escalation.detail == response.why
