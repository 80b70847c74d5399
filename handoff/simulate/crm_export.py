"""LEADS.csv as a CRM exports it: replay last quarter's real leads without reformatting.

A file is read as an export when its header has neither `lead_id` nor `arrived_at`.
Headers are matched without regard to case, spaces or punctuation (`Create Date`,
`create_date` and `CREATE-DATE` are one column); columns not listed are ignored.

| field        | export headers (first found wins)                                         |
|--------------|---------------------------------------------------------------------------|
| lead_id      | Record ID, Lead ID, Contact ID, Id                                        |
| arrived_at   | Create Date, Created Date, Created At, Created, Createdate                |
| lead_type    | Lead Type, Lead Source, Original Source, Source                           |
| email        | Email, Email Address                                                      |
| first_name   | First Name                                                                |
| last_name    | Last Name                                                                 |
| phone        | Phone Number, Phone, Mobile Phone Number                                  |
| title        | Job Title, Title                                                          |
| company      | Company Name, Company, Account Name                                        |
| domain       | Company Domain Name, Website URL, Website, Domain                         |
| industry     | Industry                                                                  |
| employees    | Number of Employees, Employees, No. of Employees                          |
| country      | Country/Region, Country                                                   |
| region       | State/Region, State/Province, State, Region                               |
| territory    | Territory, Sales Territory                                                |
| timezone     | Time Zone, Timezone                                                       |
| acv_estimate | ACV Estimate, Annual Contract Value, Amount                               |

Values as CRMs write them: a created date as ISO 8601 (`2026-10-05 14:32`, with or without
seconds or offset) or US style (`10/05/2026 2:32 PM`); without an offset it is read in
`--leads-timezone`, else in the row's own time zone. `Lead Source` values become lead
types (`Demo Request` -> `demo_request`). A website becomes its bare domain. Employee
counts may carry thousands separators, and a range (`201-500`) counts as its lower bound.
A country is an ISO 3166 two-letter code or a common English name (`United States`).
An amount may carry a currency sign and separators. Every error names the file, the line
and the export's own column.
"""

from __future__ import annotations

import csv
import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError

from handoff.simulate.rows import InputError, LeadRow

ALIASES: dict[str, list[str]] = {
    "lead_id": ["record id", "lead id", "contact id", "id"],
    "arrived_at": ["create date", "created date", "created at", "created", "createdate"],
    "lead_type": ["lead type", "lead source", "original source", "source"],
    "email": ["email", "email address"],
    "first_name": ["first name"],
    "last_name": ["last name"],
    "phone": ["phone number", "phone", "mobile phone number"],
    "title": ["job title", "title"],
    "company": ["company name", "company", "account name"],
    "domain": ["company domain name", "website url", "website", "domain"],
    "industry": ["industry"],
    "employees": ["number of employees", "employees", "no of employees"],
    "country": ["country region", "country"],
    "region": ["state region", "state province", "state", "region"],
    "territory": ["territory", "sales territory"],
    "timezone": ["time zone", "timezone"],
    "acv_estimate": ["acv estimate", "annual contract value", "amount"],
}
REQUIRED = ("lead_id", "arrived_at", "lead_type")
COUNTRIES = {"united states": "US", "united states of america": "US", "usa": "US", "us": "US",
             "united kingdom": "GB", "uk": "GB", "great britain": "GB", "england": "GB", "scotland": "GB",
             "canada": "CA", "germany": "DE", "deutschland": "DE", "france": "FR", "australia": "AU",
             "brazil": "BR", "brasil": "BR", "ireland": "IE", "netherlands": "NL", "spain": "ES", "italy": "IT",
             "india": "IN", "japan": "JP", "mexico": "MX", "sweden": "SE", "switzerland": "CH",
             "new zealand": "NZ", "singapore": "SG"}
_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y %I:%M %p",
            "%m/%d/%Y %I:%M:%S %p", "%Y-%m-%d")


def _key(header: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", header.lower()).split())


def _header(path: Path) -> list[str]:
    try:
        with path.open(newline="") as handle:
            return next(csv.reader(handle), [])
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None


def is_export(path: Path) -> bool:
    header = {h.strip() for h in _header(path)}
    return not header & {"lead_id", "arrived_at"}


class _Bad(ValueError):
    pass


def _instant(text: str, zone: str | None) -> datetime:
    text = text.strip()
    try:
        at = datetime.fromisoformat(text)  # Python 3.11 reads a trailing Z
    except ValueError:
        for fmt in _FORMATS:
            try:
                at = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        else:
            raise _Bad(f"{text!r} is not a date and time (e.g. 2026-10-05 14:32 or 10/05/2026 2:32 PM)") from None
    if at.tzinfo is None:
        if zone is None:
            raise _Bad(f"{text!r} has no UTC offset and the row has no time zone: give one, or --leads-timezone")
        try:
            at = at.replace(tzinfo=ZoneInfo(zone))
        except (ZoneInfoNotFoundError, ValueError):
            raise _Bad(f"time zone {zone!r} is not an IANA time zone name") from None
    return at


def _number(text: str, *, lower_bound: bool = False) -> float:
    cleaned = re.sub(r"[\s,$€£]", "", text)
    if lower_bound:  # "201-500" -> 201, "10000+" -> 10000
        match = re.match(r"\d+(\.\d+)?(?=[-–+]|$)", cleaned)
        cleaned = match.group(0) if match else cleaned
    try:
        return float(cleaned)
    except ValueError:
        raise _Bad(f"{text!r} is not a number") from None


def _convert(field: str, text: str, row: dict[str, str], default_timezone: str | None):
    if field == "arrived_at":
        return _instant(text, default_timezone or row.get("timezone") or None)
    if field == "lead_type":
        return "_".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())
    if field == "domain":
        return re.sub(r"^(https?://)?(www\.)?", "", text.strip().lower()).split("/")[0] or None
    if field == "employees":
        return int(_number(text, lower_bound=True))
    if field == "acv_estimate":
        return _number(text)
    if field == "country":
        value = text.strip()
        if re.fullmatch(r"[A-Za-z]{2}", value):
            return value.upper()
        if value.lower() in COUNTRIES:
            return COUNTRIES[value.lower()]
        raise _Bad(f"{value!r} is not a country this reader knows: use the ISO 3166 two-letter code")
    return text.strip()


def read_export(path: Path, default_timezone: str | None) -> list[LeadRow]:
    header = _header(path)
    columns: dict[str, str] = {}  # field -> the export's own header
    by_key: dict[str, str] = {}
    for h in header:
        by_key.setdefault(_key(h), h)
    for field, names in ALIASES.items():
        found = next((by_key[n] for n in names if n in by_key), None)
        if found is not None:
            columns[field] = found
    missing = [f"{f} ({' / '.join(ALIASES[f][:2])})" for f in REQUIRED if f not in columns]
    if missing:
        raise InputError(f"{path}: not LEADS.csv (no lead_id, arrived_at) and not a CRM export this reader knows: "
                         f"missing column(s) for {', '.join(missing)}")
    rows, errors = [], []
    with path.open(newline="") as handle:
        for line, raw in enumerate(csv.DictReader(handle), start=2):
            texts = {f: (raw.get(h) or "").strip() for f, h in columns.items()}
            values, bad = {}, False
            for field, text in texts.items():
                if not text:
                    continue
                try:
                    values[field] = _convert(field, text, texts, default_timezone)
                except _Bad as exc:
                    errors.append(f"{path}:{line}: {columns[field]}: {exc}")
                    bad = True
            if bad:
                continue
            try:
                rows.append(LeadRow.model_validate(values))
            except ValidationError as exc:
                for e in exc.errors():
                    field = str(e["loc"][0]) if e["loc"] else ""
                    errors.append(f"{path}:{line}: {columns.get(field, field)}: {e['msg']}")
    if errors:
        shown = errors[:20] + ([f"... and {len(errors) - 20} more"] if len(errors) > 20 else [])
        raise InputError("\n".join(shown))
    return rows
