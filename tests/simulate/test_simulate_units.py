"""The simulator's pure parts: arrivals, rosters, percentiles, Gini, the table and the options."""

from __future__ import annotations

import yaml

from warmline.simulate.__main__ import build_parser, plan_runs
from warmline.simulate.metrics import ExperienceFigures, Figures, PeerLoad, gini, percentile
from warmline.simulate.report import format_table
from warmline.simulate.scenario import Scenario, default_roster, plan_arrivals, whole_shift_roster

KEYS = ["recovery", "survivor", "lgbtq", "veteran", "grief"]


def test_arrivals_are_the_same_for_the_same_seed_and_differ_for_another() -> None:
    first = plan_arrivals(Scenario(seed=7), KEYS)
    assert first == plan_arrivals(Scenario(seed=7), KEYS)
    assert first != plan_arrivals(Scenario(seed=8), KEYS)


def test_arrivals_follow_the_rates_and_the_mix_over_many_hours() -> None:
    scenario = Scenario(shift_minutes=600, calls_per_hour=40, texts_per_hour=15,
                        mix={"recovery": 3, "veteran": 1}, seed=3)
    arrivals = plan_arrivals(scenario, KEYS)
    calls = [a for a in arrivals if a.channel == "voice"]
    texts = [a for a in arrivals if a.channel == "sms"]
    assert 340 <= len(calls) <= 460  # 400 expected
    assert 110 <= len(texts) <= 190  # 150 expected
    recovery = sum(a.experience == "recovery" for a in calls)
    assert 0.65 <= recovery / len(calls) <= 0.85  # 3 in 4
    assert {a.experience for a in arrivals} == {"recovery", "veteran"}
    assert all(0 <= a.at < 600 * 60 for a in arrivals)
    assert [a.at for a in arrivals] == sorted(a.at for a in arrivals)
    assert len({a.number for a in arrivals}) == len(arrivals)


def test_an_experience_the_roster_lacks_is_not_asked_for_and_any_means_anyone() -> None:
    arrivals = plan_arrivals(Scenario(mix={"astronaut": 1, "any": 1}, shift_minutes=300), KEYS)
    assert arrivals
    assert {a.experience for a in arrivals} == {None}


def test_the_whole_shift_roster_puts_every_peer_on_and_opens_the_line() -> None:
    text = default_roster(3)
    roster = yaml.safe_load(text)
    roster["lines"][0]["hours"] = [{"days": ["mon"], "open": "09:00", "close": "10:00"}]
    changed, number = whole_shift_roster(yaml.safe_dump(roster))
    loaded = yaml.safe_load(changed)
    assert number == roster["lines"][0]["number"]
    assert "hours" not in loaded["lines"][0]
    assert loaded["lines"][0]["daily_contact_limit"] == 0
    assert sorted(s["peer"] for s in loaded["shifts"]) == sorted(p["email"] for p in roster["peers"])
    assert all(s["start"].endswith(s["end"]) for s in loaded["shifts"])  # 24 hours


def test_percentiles_use_the_nearest_rank() -> None:
    values = list(range(1, 101))
    assert percentile(values, 50) == 50
    assert percentile(values, 90) == 90
    assert percentile(values, 95) == 95
    assert percentile([], 50) is None
    assert percentile([7.0], 95) == 7.0


def test_gini_is_zero_when_even_and_near_one_when_one_peer_takes_all() -> None:
    assert gini([3, 3, 3, 3]) == 0.0
    assert gini([0, 0, 0, 10]) == 0.75  # (n-1)/n for n = 4
    assert gini([0, 0]) == 0.0
    assert gini([]) is None
    assert 0 < gini([1, 2, 3, 4]) < 0.5  # type: ignore[operator]


def test_the_table_has_a_column_per_run_and_every_figure() -> None:
    one = Figures(offered={"voice": 4, "sms": 1}, answered={"voice": 3, "sms": 1}, abandoned=1,
                  answer_seconds=[10, 20, 30, 40], callers=4, callers_offered_fallback=4,
                  experiences={"veteran": ExperienceFigures(asked=2, answered=2, matched=1)},
                  peers=[PeerLoad("Sam Peer", calls=3, texts=1, busy_seconds=600)])
    two = Figures()
    table = format_table([one, two], ["roster-a.yaml", "roster-b.yaml"])
    for words in ("contacts offered", "5 (4 + 1)", "answer rate", "80%", "p50", "20 s", "p90",
                  "p95", "40 s", "abandonment (calls)", "25% (1)", "callbacks", "transfers",
                  "match rate: veteran", "50% (1/2 of 2)", "load: Sam Peer",
                  "3 calls, 1 texts, 10 min", "Gini", "roster-a.yaml", "roster-b.yaml"):
        assert words in table, words


def test_options_reach_the_scenario_and_compare_keeps_the_seed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    other = tmp_path / "friday.yaml"
    other.write_text(default_roster(11))
    args = build_parser().parse_args([
        "--seed", "5", "--shift-minutes", "30", "--calls-per-hour", "12", "--texts-per-hour", "0",
        "--mix", "recovery=1,any=1", "--talk-minutes", "3", "--answer-rate", "0.5",
        "--patience-minutes", "9", "--speed", "60", "--line-setting", "max_wait_seconds=120",
        "--compare", str(other), "--compare-line-setting", "wrap_up_seconds=0"])
    runs = plan_runs(args)
    assert [title for title, _ in runs] == ["10 peers", "friday.yaml", "wrap_up_seconds=0"]
    first, friday, settings = (scenario for _, scenario in runs)
    assert first.seed == friday.seed == settings.seed == 5
    assert first.mix == {"recovery": 1.0, "any": 1.0}
    assert first.behaviour.talk_minutes == 3 and first.behaviour.answer_rate == 0.5
    assert first.line_settings == {"max_wait_seconds": 120}
    assert settings.line_settings == {"max_wait_seconds": 120, "wrap_up_seconds": 0}
    assert friday.roster_text == other.read_text() and first.roster_text is None


def test_help_says_the_data_is_never_touched() -> None:
    text = build_parser().format_help()
    assert "throwaway SQLite" in text and "Redis DB index 4" in text and "FLUSHES" in text
