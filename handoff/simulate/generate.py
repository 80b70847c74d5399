"""A quarter of synthetic inbound leads (LEADS.csv) from a seed: lead types in a typical
inbound mix, firmographics that mostly fit the ICP (and some that do not, so that every
path of the policy is exercised), and arrival times that follow the working day of the
prospect's timezone with a share of evenings and weekends."""

from __future__ import annotations

import random
import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from handoff.simulate.rows import LeadRow

LEAD_TYPE_MIX = {"demo_request": 0.22, "pricing_form": 0.08, "contact_sales": 0.08, "free_trial": 0.07,
                 "gated_content": 0.25, "webinar": 0.2, "newsletter": 0.1}
# (country, timezone, weight)
GEOGRAPHY = [("US", "America/New_York", 0.35), ("US", "America/Chicago", 0.12), ("US", "America/Los_Angeles", 0.18),
             ("CA", "America/Toronto", 0.07), ("GB", "Europe/London", 0.12), ("DE", "Europe/Berlin", 0.08),
             ("AU", "Australia/Sydney", 0.04), ("BR", "America/Sao_Paulo", 0.04)]
INDUSTRIES = {"software": 0.3, "saas": 0.15, "fintech": 0.1, "manufacturing": 0.1, "logistics": 0.07,
              "professional services": 0.08, "retail": 0.1, "education": 0.05, "gambling": 0.05}
TITLES = {"VP Sales": 0.12, "Director of Marketing": 0.15, "Head of RevOps": 0.1, "CFO": 0.05, "Sales Manager": 0.2,
          "Senior Engineer": 0.1, "Marketing Manager": 0.13, "Student": 0.05, "Intern": 0.05, "Analyst": 0.05}
FIRST = ["Ada", "Grace", "Alan", "Linus", "Margaret", "Ken", "Barbara", "Dennis", "Frances", "Edsger", "Radia", "Tim"]
LAST = ["Lovelace", "Hopper", "Turing", "Torvalds", "Hamilton", "Thompson", "Liskov", "Ritchie", "Allen", "Dijkstra"]
WORDS = ["acme", "globex", "initech", "umbrella", "stark", "wayne", "tyrell", "cyberdyne", "hooli", "vandelay",
         "soylent", "wonka", "oscorp", "massive", "aperture", "nakatomi", "gringotts", "monarch", "dunder", "pied"]
# Holiday subdivisions (Q2), drawn without the generator's stream so a seed keeps its leads:
# most British leads are English, one in five Scottish; German ones alternate two Länder.
_REGIONS = {"GB": lambda n: "SCT" if n % 5 == 0 else "ENG", "DE": lambda n: "BY" if n % 2 else "BE"}
FREE_EMAIL = "gmail.com"
COMPETITOR = "rivalcorp.com"


def parse_quarter(text: str) -> tuple[date, date]:
    """'2027Q1' -> (first day, first day of the next quarter)."""
    match = re.fullmatch(r"(\d{4})Q([1-4])", text.strip().upper())
    if match is None:
        raise ValueError(f"quarter {text!r}: expected e.g. 2027Q1")
    year, q = int(match[1]), int(match[2])
    first = date(year, 3 * q - 2, 1)
    following = date(year + (q == 4), 1 if q == 4 else 3 * q + 1, 1)
    return first, following


def _pick(rng: random.Random, weights: dict):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _arrival(rng: random.Random, days: list[date], tz: str) -> datetime:
    # Weekdays carry ~93% of inbound; within a day, mostly 08:00-18:00 local with a tail.
    weights = [1.0 if d.weekday() < 5 else 0.15 for d in days]
    day = rng.choices(days, weights=weights)[0]
    weights = [1, 1, 1, 1, 1, 2, 3, 5, 9, 11, 12, 11, 9, 10, 11, 11, 9, 7, 5, 4, 3, 2, 2, 1]
    hour = rng.choices(range(24), weights=weights)[0]
    local = datetime.combine(day, time(hour, rng.randrange(60)), tzinfo=ZoneInfo(tz))
    return local


def generate_leads(count: int, quarter: str, seed: int) -> list[LeadRow]:
    """`count` leads arriving during `quarter`, the same for the same seed."""
    first, following = parse_quarter(quarter)
    return generate_between(count, first, following, seed, label=quarter)


def generate_between(count: int, first: date, following: date, seed: int, *, label: str | None = None) -> list[LeadRow]:
    """`count` leads arriving on the days `first` .. `following` (exclusive), local dates."""
    quarter = label or f"{first:%Y%m%d}"
    rng = random.Random(f"handoff-simulate:{quarter}:{seed}")
    days = [first + timedelta(days=i) for i in range((following - first).days)]
    rows: list[LeadRow] = []
    for n in range(1, count + 1):
        country, tz, _ = rng.choices(GEOGRAPHY, weights=[g[2] for g in GEOGRAPHY])[0]
        lead_type = _pick(rng, LEAD_TYPE_MIX)
        company_word = rng.choice(WORDS)
        company = f"{company_word.title()} {rng.choice(['Labs', 'Systems', 'Group', 'Analytics', 'Works'])} {n}"
        domain = f"{company_word}{n}.com"
        employees = max(3, int(rng.lognormvariate(5.3, 1.2)))
        first_name, last_name = rng.choice(FIRST), rng.choice(LAST)
        email_domain = domain
        roll = rng.random()
        if roll < 0.04:
            email_domain = FREE_EMAIL
        elif roll < 0.055:
            email_domain = COMPETITOR
        acv = None
        if rng.random() < 0.7:  # most forms ask for a budget or seat count
            acv = float(round(min(400_000, employees * rng.uniform(60, 260)), -2))
        arrived = _arrival(rng, days, tz)
        events = []
        if lead_type in ("gated_content", "webinar") and rng.random() < 0.45:
            # A behavioural cluster before the form: the tier-2 path (>=3 medium/high actions).
            for signal, back in (("product_pages", 3), ("case_study_download", 2), ("roi_calculator", 1)):
                if rng.random() < 0.8:
                    events.append({"type": signal, "occurred_at": (arrived - timedelta(days=back)).isoformat()})
        rows.append(LeadRow(
            lead_id=f"{quarter.lower()}-{seed}-{n:05d}", arrived_at=arrived, lead_type=lead_type,
            email=f"{first_name.lower()}.{last_name.lower()}@{email_domain}", first_name=first_name,
            last_name=last_name, phone=None if rng.random() < 0.05 else f"+1 555 {rng.randrange(10000):04d}",
            title=_pick(rng, TITLES), company=company, domain=domain, industry=_pick(rng, INDUSTRIES),
            employees=employees, country=country, timezone=tz, acv_estimate=acv, events=events,
            region=_REGIONS.get(country, lambda _: None)(n)))
    return sorted(rows, key=lambda r: (r.arrived_at, r.lead_id))
