"""Voice contacts whose hang-up was never seen (the status callback came during an outage) end
all the same: abandoned once Twilio says the call is over, never twice, never while it is live."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.support.jobs import run_jobs
from tests.support.workers import add_line
from warmline.models import CallbackRequest, Contact, ContactEvent, Line
from warmline.runtime import Runtime
from warmline.services.contacts import open_contact
from warmline.services.upkeep.contact_repair import REPAIR_AFTER, close_unseen_hangups


def _contact(runtime: Runtime, line_id: int, sid: str, arrived: datetime) -> str:
    with runtime.sessions.begin() as session:
        line = session.get(Line, line_id)
        contact = open_contact(runtime, session, line=line, channel="voice",
                               caller_hash="c" * 64, provider_sid=sid, now=arrived)
        return contact.id


def test_a_stale_contact_whose_call_is_over_is_abandoned_once(runtime: Runtime) -> None:
    line_id = add_line(runtime)
    now = datetime.now(UTC)
    old = now - REPAIR_AFTER - timedelta(seconds=5)
    over = _contact(runtime, line_id, "CA" + "1" * 32, old)
    live = _contact(runtime, line_id, "CA" + "2" * 32, old)
    fresh = _contact(runtime, line_id, "CA" + "3" * 32, now)
    waiting_for_call_back = _contact(runtime, line_id, "CA" + "4" * 32, old)
    with runtime.sessions.begin() as session:
        session.add(CallbackRequest(
            contact_id=waiting_for_call_back, line_id=line_id, caller_hash="c" * 64,
            number_encrypted="x", window_start=old, window_end=now + timedelta(hours=1),
            expires_at=now + timedelta(hours=1), status="pending"))
    run_jobs(runtime.redis)

    def call_is_live(sid: str) -> bool:  # Twilio's answer, per call
        return sid == "CA" + "2" * 32

    assert close_unseen_hangups(runtime, call_is_live, now) == [over]
    run_jobs(runtime.redis)
    assert close_unseen_hangups(runtime, call_is_live, now) == []  # it has its outcome now
    run_jobs(runtime.redis)
    with runtime.sessions() as session:
        outcomes = {c.id: c.outcome for c in session.query(Contact)}
        recorded = [e.contact_id for e in session.query(ContactEvent) if e.outcome is not None]
    assert outcomes == {over: "abandoned", live: None, fresh: None, waiting_for_call_back: None}
    assert recorded == [over]
