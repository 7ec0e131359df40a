"""The virtual mode's pure parts: rates by hour of week, the options, the start of a run."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import yaml

from warmline.simulate.__main__ import build_parser, read_hour_rates, scenario_from
from warmline.simulate.scenario import Behaviour, HourRate, Scenario, default_roster, plan_arrivals
from warmline.simulate.virtual_setup import hour_of_week, load_virtual_line

KEYS = ["recovery", "veteran"]


def test_hourly_rates_bring_arrivals_only_in_their_hour_of_the_week() -> None:
    # Tuesday 20:00-21:00 (hour 44) only, over two weeks from a Monday midnight.
    rates = (HourRate(44, "voice", "recovery", 30.0), HourRate(44, "sms", "any", 6.0))
    scenario = Scenario(shift_minutes=14 * 24 * 60, hour_rates=rates, seed=4)
    arrivals = plan_arrivals(scenario, KEYS, lambda offset: int(offset // 3600) % 168)
    assert 40 <= sum(a.channel == "voice" for a in arrivals) <= 80  # 60 expected
    assert {a.experience for a in arrivals if a.channel == "voice"} == {"recovery"}
    assert {a.experience for a in arrivals if a.channel == "sms"} == {None}
    assert all(44 <= (a.at // 3600) % 168 < 45 for a in arrivals)


def test_exponential_talk_times_and_no_floors_are_what_theory_assumes() -> None:
    behaviour = Behaviour(talk_minutes=5, talk_distribution="exponential", min_talk_seconds=0)
    arrivals = plan_arrivals(Scenario(shift_minutes=6000, calls_per_hour=60, texts_per_hour=0,
                                      behaviour=behaviour, mix={"any": 1}), KEYS)
    talks = sorted(a.talk_seconds for a in arrivals)
    mean = sum(talks) / len(talks)
    assert 270 < mean < 330
    # Exponential: the median is mean x ln 2, below the mean (a log-normal's is near it).
    assert 0.6 < talks[len(talks) // 2] / mean < 0.78
    assert talks[0] < 30  # no 30-second floor


def test_the_options_reach_a_virtual_scenario(tmp_path: Path) -> None:
    csv = tmp_path / "arrivals.csv"
    csv.write_text("hour_of_week,channel,experience,per_hour\n0,voice,recovery,2.5\n1,sms,,1\n")
    args = build_parser().parse_args(["--virtual", "--arrivals", str(csv), "--start", "2026-03-02 06:00",
                                      "--all-on-shift", "--talk-distribution", "exponential"])
    scenario = scenario_from(args)
    assert args.virtual
    assert scenario.hour_rates == (HourRate(0, "voice", "recovery", 2.5), HourRate(1, "sms", "any", 1.0))
    assert scenario.start == "2026-03-02 06:00" and scenario.roster_shifts is False
    assert scenario.behaviour.talk_distribution == "exponential"
    assert read_hour_rates(csv) == scenario.hour_rates


def test_a_run_starts_on_the_rosters_first_monday_in_the_lines_zone() -> None:
    roster = yaml.safe_load(default_roster(2))
    email = roster["peers"][0]["email"]
    roster["shifts"] = [{"peer": email, "line": roster["lines"][0]["number"],
                         "start": "2026-07-01 09:00", "end": "17:00", "repeat": "FREQ=DAILY"}]
    line = load_virtual_line(yaml.safe_dump(roster), {"wrap_up_seconds": 45}, start=None,
                             roster_shifts=True)
    # Wednesday 1 July: the first Monday is 6 July, midnight in New York (EDT, UTC-4).
    assert line.start == datetime(2026, 7, 6, 4, 0, tzinfo=UTC)
    assert line.wrap_up_seconds == 45.0 and len(line.shifts) == 1
    assert hour_of_week(line, 0) == 0 and hour_of_week(line, 3600 * 25) == 25
