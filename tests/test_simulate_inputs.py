"""The simulator's inputs without servers: the generator, the CSV files and TEAM.yaml."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from handoff.simulate.files import read_leads, read_script, write_leads
from handoff.simulate.generate import LEAD_TYPE_MIX, generate_leads, parse_quarter
from handoff.simulate.rows import InputError
from handoff.simulate.team import Minutes, default_team, load_team


def test_a_generated_quarter_is_repeatable_and_inside_the_quarter(tmp_path):
    rows = generate_leads(300, "2027Q2", seed=11)
    assert rows == generate_leads(300, "2027Q2", seed=11)
    assert rows != generate_leads(300, "2027Q2", seed=12)
    first, following = parse_quarter("2027Q2")
    assert all(first <= r.arrived_at.date() < following for r in rows)  # local dates
    assert [r.arrived_at for r in rows] == sorted(r.arrived_at for r in rows)
    assert set(Counter(r.lead_type for r in rows)) == set(LEAD_TYPE_MIX)
    assert len({r.lead_id for r in rows}) == 300
    hours = Counter(r.arrived_at.hour for r in rows)  # local time of day
    assert sum(hours[h] for h in range(8, 18)) > sum(hours.values()) * 0.6 > sum(hours[h] for h in range(7))
    write_leads(tmp_path / "leads.csv", rows)
    assert read_leads(tmp_path / "leads.csv") == rows


@pytest.mark.parametrize(("text", "expected"), [("2027Q1", (date(2027, 1, 1), date(2027, 4, 1))),
                                                ("2026q4", (date(2026, 10, 1), date(2027, 1, 1)))])
def test_quarters(text, expected):
    assert parse_quarter(text) == expected


def test_a_bad_quarter_is_refused():
    with pytest.raises(ValueError, match="2027Q1"):
        parse_quarter("2027-Q5")


def test_csv_errors_name_the_line(tmp_path):
    path = tmp_path / "leads.csv"
    path.write_text("lead_id,arrived_at,lead_type\na,2027-01-05T10:00:00-05:00,demo_request\n"
                    "b,yesterday,demo_request\na,2027-01-05T11:00:00-05:00,webinar\n")
    with pytest.raises(InputError, match=r"leads.csv:3: arrived_at: Input should be a valid datetime"):
        read_leads(path)
    path.write_text("lead_id,arrived_at,lead_type\na,2027-01-05T10:00:00-05:00,demo_request\n"
                    "a,2027-01-05T11:00:00-05:00,webinar\n")
    with pytest.raises(InputError, match="appears twice"):
        read_leads(path)
    script = tmp_path / "script.csv"
    script.write_text("lead_id,at,action,actor,args\nz,2027-01-05T10:00:00-05:00,accept,owner,\n")
    with pytest.raises(InputError, match="not in the leads file: z"):
        read_script(script, {"a"})
    script.write_text("lead_id,at,action,actor,args\na,2027-01-05T10:00:00-05:00,wave,owner,\n")
    with pytest.raises(InputError, match="action"):
        read_script(script, {"a"})


def test_team_yaml_is_checked(tmp_path):
    example = Path(__file__).resolve().parent.parent / "handoff" / "simulate" / "team.example.yaml"
    team = load_team(example)
    assert team.rep("sdr-3").response.median == 25 and team.behaviour.accept_rate == 0.75
    bad = tmp_path / "team.yaml"
    bad.write_text("reps:\n  - {id: sdr-1, role: sdr}\nbehaviour:\n  first_response: {median: 10, p90: 5}\n")
    with pytest.raises(InputError, match="behaviour.first_response: Value error, p90 must not be below median"):
        load_team(bad)
    bad.write_text("reps:\n  - {id: ae-1, role: ae}\nbehaviour:\n  rejection_mix: {REJ-02: 0}\n")
    with pytest.raises(InputError, match="rejection_mix: give codes with non-negative weights"):
        load_team(bad)
    bad.write_text("reps:\n  - {id: sdr-1, role: sdr}\n")
    with pytest.raises(InputError, match="at least one ae"):
        load_team(bad)
    with pytest.raises(InputError, match="REJ-99"):
        team.model_copy(update={"behaviour": team.behaviour.model_copy(update={"rejection_mix": {"REJ-99": 1}})}) \
            .check_codes({"REJ-02"}, {"AE-REJ-01", "AE-REJ-02", "AE-REJ-03", "AE-REJ-04"}, "x")
    assert {r.role for r in default_team().reps} == {"sdr", "ae", "sdr_manager", "ae_manager"}


def test_response_times_follow_median_and_p90():
    rng = random.Random(3)
    draws = sorted(Minutes(median=10, p90=60).draw(rng) for _ in range(4000))
    assert 9 < draws[2000] < 11 and 52 < draws[3600] < 68
