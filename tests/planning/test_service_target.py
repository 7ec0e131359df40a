"""The roster's `service_target`: read, checked with its path, defaulted, exported back."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from warmline.roster.validate import InvalidRosterError, parse_roster

EXAMPLE = (Path(__file__).resolve().parents[1] / "fixtures" / "roster.example.yaml").read_text()


def _with_target(target: object) -> str:
    roster = yaml.safe_load(EXAMPLE)
    if target is None:
        roster["lines"][0].pop("service_target", None)
    else:
        roster["lines"][0]["service_target"] = target
    return yaml.safe_dump(roster, allow_unicode=True)


def test_the_examples_target_is_read() -> None:
    line = parse_roster(EXAMPLE).lines[0]
    assert (line.target_answer_seconds, line.target_share) == (60, 0.8)


def test_a_line_without_a_target_plans_for_80_percent_within_a_minute() -> None:
    line = parse_roster(_with_target(None)).lines[0]
    assert (line.target_answer_seconds, line.target_share) == (60, 0.8)
    line = parse_roster(_with_target({"share": 0.9})).lines[0]
    assert (line.target_answer_seconds, line.target_share) == (60, 0.9)


@pytest.mark.parametrize(("target", "path", "words"), [
    ({"answer_within_seconds": 60, "share": 1.5}, "lines[0].service_target.share", "below 1"),
    ({"answer_within_seconds": 0, "share": 0.8}, "lines[0].service_target.answer_within_seconds",
     "from 1 to 3600"),
    ({"answer_within": 60}, "lines[0].service_target.answer_within", "unknown key"),
    ("fast", "lines[0].service_target", "expected a mapping"),
])
def test_a_wrong_target_is_reported_with_its_path(target: object, path: str, words: str) -> None:
    with pytest.raises(InvalidRosterError) as raised:
        parse_roster(_with_target(target))
    assert any(e.path == path and words in e.message for e in raised.value.errors), raised.value.errors
