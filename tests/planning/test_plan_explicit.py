"""`plan` with explicit rates: `peers needed: K` is Erlang C's, checked against the textbook formula."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.planning import textbook_peers, textbook_service_level
from warmline.domain.erlang import predict_erlang_a, predict_erlang_c
from warmline.planning.command import main

REPO = Path(__file__).resolve().parents[2]


ROWS = [  # calls per hour, handle minutes, answer within (s), share
    (200, 3, 20, 0.8),  # the contact-centre textbook case: 10 erlangs
    (100, 8, 20, 0.8),
    (100, 8, 60, 0.8),
    (12, 15, 60, 0.8),  # a quiet warmline evening
    (6, 20, 30, 0.9),
    (30, 10, 120, 0.5),
    (1, 10, 60, 0.8),
    (400, 12, 30, 0.95),
]


@pytest.mark.parametrize(("calls", "handle", "within", "share"), ROWS)
def test_peers_needed_is_erlang_cs_for_one_pool(capsys: pytest.CaptureFixture[str], calls: float,
                                                handle: float, within: float, share: float) -> None:
    assert main(["--calls-per-hour", str(calls), "--handle-minutes", str(handle),
                 "--answer-within", str(within), "--share", str(share)]) == 0
    out = capsys.readouterr().out
    expected = textbook_peers(calls, handle, within, share)
    assert f"peers needed: {expected}\n" in out
    # ...and one fewer would miss the target.
    assert textbook_service_level(expected - 1, calls, handle, within) < share <= \
        textbook_service_level(expected, calls, handle, within)


def test_the_textbook_case_needs_fourteen() -> None:
    # 200 calls an hour of 3 minutes, 80% within 20 s: 13 give 79.6%, 14 give 88.8% (as published).
    assert textbook_service_level(13, 200, 3, 20) == pytest.approx(0.796, abs=5e-4)
    assert textbook_service_level(14, 200, 3, 20) == pytest.approx(0.888, abs=5e-4)
    assert textbook_peers(200, 3, 20, 0.8) == 14
    assert predict_erlang_c(13, 200 / 3600, 180, 20).answered_within == pytest.approx(
        textbook_service_level(13, 200, 3, 20), abs=1e-12)


def test_erlang_a_with_endless_patience_is_erlang_c_and_impatience_needs_fewer_peers(
        capsys: pytest.CaptureFixture[str]) -> None:
    c = predict_erlang_c(16, 100 / 3600, 480, 20)
    a = predict_erlang_a(16, 100 / 3600, 480, 20, patience_seconds=1e8)
    assert a.answered_within == pytest.approx(c.answered_within, abs=1e-4)
    assert a.mean_wait_seconds == pytest.approx(c.mean_wait_seconds, rel=1e-3)
    main(["--calls-per-hour", "100", "--handle-minutes", "8", "--answer-within", "20",
          "--share", "80%", "--patience-minutes", "4"])
    impatient = int(capsys.readouterr().out.split("peers needed: ")[1].split()[0])
    assert impatient < textbook_peers(100, 8, 20, 0.8)


@pytest.mark.parametrize("share", ["0.8", "80%", "80"])
def test_a_share_may_be_a_fraction_or_a_percent(capsys: pytest.CaptureFixture[str], share: str) -> None:
    main(["--calls-per-hour", "200", "--handle-minutes", "3", "--answer-within", "20", "--share", share])
    assert "peers needed: 14\n" in capsys.readouterr().out


@pytest.mark.parametrize("share", ["0", "1", "100", "150", "most"])
def test_a_share_outside_0_to_1_is_refused(capsys: pytest.CaptureFixture[str], share: str) -> None:
    with pytest.raises(SystemExit):
        main(["--calls-per-hour", "200", "--handle-minutes", "3", "--answer-within", "20",
              "--share", share])
    assert "share" in capsys.readouterr().err


def test_partial_rates_are_refused_with_what_is_missing(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["--calls-per-hour", "10", "--share", "0.8"])
    assert "--handle-minutes" in str(stopped.value) and "--answer-within" in str(stopped.value)


def test_the_command_line_prints_the_line_a_script_reads() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-m", "warmline", "plan", "--calls-per-hour", "200",
                           "--handle-minutes", "3", "--answer-within", "20", "--share", "0.8"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert "peers needed: 14" in done.stdout.splitlines()


def test_erlang_a_agrees_with_two_independent_checks() -> None:
    # Patience as long as the handle time: everyone leaves at the same rate, waiting or served,
    # so the number in the system is Poisson (M/M/infinity) and P(wait) is its tail.
    load, peers = 3.0, 4
    a = predict_erlang_a(peers, load / 300, 300, 60, patience_seconds=300)
    tail = 1 - sum(math.exp(-load) * load ** k / math.factorial(k) for k in range(peers))
    assert a.wait_probability == pytest.approx(tail, abs=1e-9)
    # Everyone is answered in the end or hangs up: answered "within forever" is 1 - abandonment.
    forever = predict_erlang_a(peers, 30 / 3600, 300, 1e7, patience_seconds=180)
    assert forever.answered_within == pytest.approx(1 - forever.abandonment, abs=1e-6)
