"""Every voice step, made to fail by a Redis or a database outage, still answers valid TwiML.

Each Twilio voice URL the app serves is requested, signed, while Redis (or the database) refuses
connections; every answer must be a 200 with a document that Twilio's schema accepts. The wait
step's failure answer once was a bare `<Leave />` without `<Response>`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask

from tests.support.services import TEST_AUTH_TOKEN, make_test_settings
from tests.support.twiml_schema import assert_valid_voice_twiml
from warmline.app import create_app
from warmline.runtime import build_runtime
from warmline.telephony.signature import compute_signature
from warmline.voice import urls

NOWHERE_REDIS = "redis://127.0.0.1:1/0"
NOWHERE_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:1/nowhere"
# Every id a step may be requested with: contact, offer, callback ring and attempt.
QUERY = "contact=1&offer=1&ring=1&callback=1&attempt=1"
FORM = {
    "CallSid": "CA" + "1" * 32,
    "AccountSid": "AC" + "1" * 32,
    "From": "+15005550006",
    "To": "+12125550100",
    "CallStatus": "completed",
    "SequenceNumber": "1",
    "Digits": "1",
    "DialCallStatus": "completed",
    "QueueResult": "hangup",
    "QueueTime": "30",
    "StatusCallbackEvent": "conference-end",  # a room event that ends the call, so it is looked up
    "ConferenceSid": "CF" + "1" * 32,
}
# Answers only from memory by design: it has nothing to fail on.
ANSWERS_FROM_MEMORY = {urls.FALLBACK}
# Each kind of outage reaches different steps: a step that finds no contact in a working
# database stops before Redis, so "both" is there to reach every step's failure answer.
OUTAGES = {
    "redis": {"REDIS_URL": NOWHERE_REDIS},
    "database": {"DATABASE_URL": NOWHERE_DATABASE},
    "both": {"REDIS_URL": NOWHERE_REDIS, "DATABASE_URL": NOWHERE_DATABASE},
}


@contextmanager
def outage_app(database_url: str, tmp_path: Path, down: dict[str, str]) -> Iterator[Flask]:
    runtime = build_runtime(make_test_settings(database_url, tmp_path, **down))
    try:
        yield create_app(runtime=runtime)
    finally:
        runtime.close()


def _voice_paths(app: Flask) -> list[str]:
    paths = sorted({rule.rule for rule in app.url_map.iter_rules()
                    if rule.rule.startswith("/twilio/voice") and "POST" in (rule.methods or set())})
    assert urls.WAIT in paths and len(paths) >= 20, paths
    return paths


def _answers_during_outage(app: Flask, caplog: pytest.LogCaptureFixture) -> set[str]:
    """Request every voice step; check each answer; return the steps whose handler failed."""
    client = app.test_client()
    failed: set[str] = set()
    for path in _voice_paths(app):
        caplog.clear()
        target = f"{path}?{QUERY}"
        signature = compute_signature(TEST_AUTH_TOKEN, f"http://localhost{target}", FORM)
        with caplog.at_level(logging.ERROR, logger="warmline.web.twilio_guard"):
            response = client.post(target, data=FORM, headers={"X-Twilio-Signature": signature})
        assert response.status_code == 200, (path, response.status_code)
        assert response.mimetype == "text/xml", path
        body = response.get_data(as_text=True)
        try:
            assert_valid_voice_twiml(body)
        except Exception as exc:  # the schema names the element; the message adds the step
            raise AssertionError(f"{path} answered invalid TwiML during an outage: {body}") from exc
        if any(record.getMessage().startswith(f"webhook {path} failed") for record in caplog.records):
            failed.add(path)
    return failed


def test_every_voice_step_answers_valid_twiml_when_redis_or_the_database_is_down(
    database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    failed: dict[str, set[str]] = {}
    for name, down in OUTAGES.items():
        with outage_app(database_url, tmp_path, down) as app:
            failed[name] = _answers_during_outage(app, caplog)
            paths = set(_voice_paths(app))
    # The outages really reached the steps: every step but the memory-only fallback failed in
    # at least one of them and answered its failure TwiML (one that never failed proves nothing).
    never_failed = paths - set().union(*failed.values()) - ANSWERS_FROM_MEMORY
    assert not never_failed, never_failed
