"""The bench's open leads add no SLA instants of their own during a run, whatever the hour it
runs at (bench/parts.py `quiet_timezone`): a lead from that zone, routed at its arrival,
waits at least nine hours for its first instant. Checked on the pure core, every hour of
eight days (a weekend and both ends of a business day in every zone)."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bench.parts import quiet_timezone
from sla_policies import clockbook
from sla_policies.loader import default_policy
from tests.core import CoreLead
from tests.lifecycle import demo_request


def test_a_lead_from_the_quiet_zone_waits_nine_hours_for_its_first_instant():
    policy = default_policy()
    start = datetime(2026, 11, 27, 0, 7, tzinfo=UTC)  # a Friday: the weekend is in the range
    for hour in range(8 * 24):
        now = start + timedelta(hours=hour)
        zone = quiet_timezone(now)
        assert now.astimezone(ZoneInfo(zone)).hour == 22
        intake = demo_request()
        intake = intake.model_copy(update={"contact": intake.contact.model_copy(update={"timezone": zone})})
        lead = CoreLead(intake, policy=policy)
        lead.start(now)
        assert lead.state is not None and lead.state.owner is not None  # routed, its clocks running
        wake = clockbook.next_wakeup(lead.state)
        assert wake is not None and wake - now >= timedelta(hours=9), (now, zone, wake)


def test_new_york_leads_are_not_quiet_in_new_york_business_hours():
    # Why the zone is needed: the same lead from New York at 10:00 local wakes within minutes.
    now = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
    lead = CoreLead(demo_request(), policy=default_policy())
    assert lead.intake.contact.timezone == "America/New_York"
    lead.start(now)
    assert lead.state is not None
    wake = clockbook.next_wakeup(lead.state)
    assert wake is not None and wake - now < timedelta(hours=1)
