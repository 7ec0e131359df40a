"""Every keypad question is served by the one bounded driver."""

from __future__ import annotations

from flask import Flask

from warmline.voice import questions


def test_every_question_is_served_by_the_one_driver(app: Flask) -> None:
    from warmline.web import voice

    assert {step.prompt for step in voice.GATHER_STEPS} == set(questions.ALL)
    endpoints = {rule.rule: rule.endpoint for rule in app.url_map.iter_rules()}
    for prompt in questions.ALL:
        assert endpoints[prompt.path] == f"twilio_voice.gather_{prompt.name}"
