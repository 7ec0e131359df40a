"""Shifts through the real app, workers and stand-in, on scenarios whose answers are known."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.support.services import TEST_REDIS_URL
from warmline.simulate.run import simulate
from warmline.simulate.scenario import Behaviour, Scenario, default_roster

REPO = Path(__file__).resolve().parents[2]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# The people and the stand-in run on a compressed clock, the app in real time: at the command's
# 120x, a stand-in thread woken 100 ms late on a busy machine is 12 simulated seconds late, past a
# peer's ring or a keypress's gather (a loaded run answered 7 of 10 where everyone must be
# answered). Tests that assert who was answered run at 20x: a wait of the same wall length is
# then 2 simulated seconds.
SPEED = 20.0


def _roster_without_peers() -> str:
    roster = yaml.safe_load(default_roster(1))
    roster["peers"] = []
    return yaml.safe_dump(roster)


def test_no_peers_answers_nobody_and_offers_every_caller_a_call_back_or_the_backup_line() -> None:
    scenario = Scenario(
        roster_text=_roster_without_peers(), shift_minutes=10, calls_per_hour=36,
        texts_per_hour=0, seed=4, drain_minutes=10,
        # The shortest wait the line allows, and callers patient enough to reach it.
        line_settings={"max_wait_seconds": 30},
        behaviour=Behaviour(patience_minutes=60, callback_share=0.5), speed=SPEED)
    figures = simulate(scenario, redis_url=TEST_REDIS_URL)
    assert figures.callers >= 3, "the seed should bring a few callers"
    assert figures.offered["voice"] == figures.callers
    assert figures.answer_rate == 0
    assert sum(figures.answered.values()) == 0 and figures.answer_seconds == []
    assert figures.callers_offered_fallback == figures.callers
    # Each caller either asked for a call back or was put through to the backup line.
    assert figures.callbacks_requested + figures.transfers_backup == figures.callers
    assert figures.callbacks_requested >= 1 and figures.transfers_backup >= 1
    assert figures.abandoned == 0
    assert figures.job_errors == 0


def test_more_peers_than_callers_answers_everyone_and_nobody_abandons() -> None:
    scenario = Scenario(
        peers=10, shift_minutes=10, calls_per_hour=42, texts_per_hour=12, seed=1,
        mix={"any": 1.0}, speed=SPEED, drain_minutes=5,
        behaviour=Behaviour(answer_rate=1.0, patience_minutes=60, talk_minutes=3, text_minutes=3))
    figures = simulate(scenario, redis_url=TEST_REDIS_URL)
    assert figures.offered["voice"] >= 3 and figures.offered["sms"] >= 1
    assert figures.answer_rate == 1
    assert figures.channel_answer_rate("voice") == 1 and figures.channel_answer_rate("sms") == 1
    assert figures.abandoned == 0 and figures.abandonment == 0
    assert figures.transfers_backup == 0 and figures.callbacks_requested == 0
    assert len(figures.answer_seconds) == figures.total_offered
    # How long they waited is a figure, not a check: the app's own milliseconds are multiplied by
    # the speed, so a busy machine reads as long waits (README, "simulate").
    print(f"time to answer p95: {figures.answer_percentile(95)} s")
    assert sum(p.contacts for p in figures.peers) == figures.total_offered
    assert figures.unfinished == 0 and figures.job_errors == 0


def _run_cli(*args: str, timeout: float) -> tuple[subprocess.CompletedProcess[str], float]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "warmline", "simulate", "--redis-url",
                           TEST_REDIS_URL, *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=timeout, check=False)
    return done, time.monotonic() - started


def _assert_table(output: str) -> None:
    for words in ("contacts offered", "answer rate", "time to answer p50", "time to answer p90",
                  "time to answer p95", "abandonment (calls)", "callbacks asked / connected",
                  "transfers backup / crisis", "match rate: recovery", "load: Sam Peer",
                  "fairness of load (Gini"):
        assert words in output, words


def test_the_command_prints_the_table_and_writes_a_valid_png(tmp_path: Path) -> None:
    plot = tmp_path / "shift.png"
    done, _wall = _run_cli("--shift-minutes", "10", "--peers", "6", "--seed", "3",
                           "--plot", str(plot), timeout=600)
    assert done.returncode == 0, done.stderr
    _assert_table(done.stdout)
    assert plot.read_bytes()[:8] == PNG_MAGIC
    assert plot.stat().st_size > 10_000
    from matplotlib import image

    pixels = image.imread(plot)
    assert pixels.shape[0] > 200 and pixels.shape[1] > 500


def test_compare_runs_two_rosters_side_by_side_on_the_same_seed(tmp_path: Path) -> None:
    small, large = tmp_path / "four.yaml", tmp_path / "eight.yaml"
    small.write_text(default_roster(4))
    large.write_text(default_roster(8))
    plot = tmp_path / "compare.svg"
    done, _wall = _run_cli("--roster", str(small), "--compare", str(large), "--shift-minutes", "6",
                           "--calls-per-hour", "60", "--texts-per-hour", "10", "--plot", str(plot),
                           timeout=600)
    assert done.returncode == 0, done.stderr
    header = done.stdout.splitlines()[0]
    assert "four.yaml" in header and "eight.yaml" in header
    offered = next(line for line in done.stdout.splitlines() if line.startswith("contacts offered"))
    # The same seed brings the same callers and texters to both rosters.
    counts = re.findall(r"\d+ \(\d+ \+ \d+\)", offered)
    assert len(counts) == 2 and counts[0] == counts[1], offered
    eighth = next(line for line in done.stdout.splitlines() if line.startswith("load: Ife Peer"))
    assert eighth.split()[3] == "-", eighth  # only the larger roster has an eighth peer
    assert plot.read_text().lstrip().startswith("<?xml")


@pytest.mark.slow
def test_the_defaults_run_and_print_the_table(tmp_path: Path) -> None:
    # The timeout guards against a hang only: how fast the defaults run is a figure for the
    # README, printed here, never a pass/fail bound (these machines are shared and noisy).
    done, wall = _run_cli("--plot", str(tmp_path / "defaults.png"), timeout=600)
    assert done.returncode == 0, done.stderr
    _assert_table(done.stdout)
    print(f"the defaults took {wall:.1f} s")
