"""A mentor's side of DESIGN step 9 through the stand-in: the alert on their dashboard ("Join",
"Can't now") and shadowing sessions (the paired mentor rung in muted on each of the peer's calls)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.support.dashboard import post_form, sign_in
from tests.support.live import LEE, LINE, ROSTER, SAM, LiveWarmline
from tests.support.privacy import assert_absent, number_forms, redis_dump, sql_dump
from warmline.models import ContactEvent, DailyAggregate, Line, Shift
from warmline.services.accounts.users import set_password
from warmline.services.admin.audit import Actor
from warmline.services.admin.forms import FormValues
from warmline.services.admin.shadowing import pair
from warmline.services.upkeep.aggregates import recompute_day

CALLER = "+15005550006"
KIM = "+12125550104"
PASSWORD = "correct horse battery staple"
MENTORS = ROSTER.replace(
    'name: "Lee", phone: "+12125550103"', 'name: "Lee", phone: "+12125550103", mentor: true',
).replace("shifts:\n", f"""  - {{email: kim@example.org, name: "Kim", phone: "{KIM}", experiences: [veteran],
     languages: [en], channels: [voice], mentor: true}}
shifts:
  - {{peer: kim@example.org, line: "{LINE}", start: "2026-01-01 00:00", end: "00:00", repeat: "FREQ=DAILY"}}
""")


def _client(live: LiveWarmline, email: str) -> FlaskClient:
    with live.runtime.sessions() as session:
        set_password(session, email, PASSWORD, now=datetime.now(UTC))
        session.commit()
    client = live.app.test_client()
    sign_in(client, email, PASSWORD)
    return client


def _page(client: FlaskClient) -> str:
    return client.get("/dashboard/live").get_data(as_text=True)


def _bridged(live: LiveWarmline):  # type: ignore[no-untyped-def]
    sam = live.peer(SAM)
    live.go_available(live.peer_id("sam@example.org"))
    call = live.standin.caller(CALLER, press={"For Substance use recovery": "1"}).dial(LINE)
    assert call.wait_until_bridged(timeout=60) == [SAM]
    return call, sam.rang()[0]


def _assert_no_caller_number(live: LiveWarmline, caplog: pytest.LogCaptureFixture) -> None:
    needles = number_forms(CALLER)
    assert_absent("\n".join(caplog.messages), needles, "the logs")
    assert_absent(sql_dump(live.runtime), needles, "SQL")
    assert_absent(redis_dump(live.runtime, decrypt=False), needles, "Redis")


def test_the_mentor_asked_sees_it_says_cant_now_and_the_next_mentor_is_asked(
    live: LiveWarmline, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    live.import_roster(MENTORS)
    lee_phone = live.standin.phone(LEE, mode="manual")
    kim_phone = live.standin.phone(KIM, answer_after=0.5)
    call, ring = _bridged(live)
    sam, lee, kim = (_client(live, f"{name}@example.org") for name in ("sam", "lee", "kim"))
    assert 'id="mentor-alert"' not in _page(lee)

    post_form(sam, "/dashboard/mentor")
    lee_ring = lee_phone.wait_for_ring(timeout=60)
    alert = _page(lee)
    assert "Sam asks for support on a call" in alert and "Test Warmline" in alert
    assert 'id="mentor-join"' in alert and 'id="mentor-decline"' in alert
    assert CALLER not in alert and CALLER[-4:] not in alert
    assert 'id="mentor-alert"' not in _page(kim)  # offered to one mentor at a time

    post_form(lee, "/dashboard/mentor/decline")
    lee_ring.wait_until_ended(timeout=60)
    kim_ring = kim_phone.wait_for_ring(timeout=60)
    assert 'id="mentor-alert"' not in _page(lee)
    call.wait_until_heard("Another peer has joined this call", timeout=60)
    live.wait_for(lambda: KIM in ring.bridged_with(), timeout=60)
    assert KIM not in call.bridged_with()
    kim_ring.say("I'm with you")
    ring.wait_until_heard("I'm with you", timeout=60)
    # Once the mentor has joined, the alert has done its work and goes.
    live.wait_for(lambda: 'id="mentor-alert"' not in _page(kim), timeout=60)
    call.hang_up()
    assert live.outcome_of(call.sid) == "connected"
    _assert_no_caller_number(live, caplog)


def test_join_rings_the_mentor_again_after_a_missed_ring_and_the_alert_goes_when_the_call_ends(
    live: LiveWarmline,
) -> None:
    live.import_roster(MENTORS)
    lee_phone = live.standin.phone(LEE, mode="manual")
    call, _ring = _bridged(live)
    sam, lee = _client(live, "sam@example.org"), _client(live, "lee@example.org")
    post_form(sam, "/dashboard/mentor")
    lee_phone.wait_for_ring(timeout=60).decline()
    live.wait_for(lambda: "No mentor answered" in _page(sam), timeout=60)
    assert 'id="mentor-join"' in _page(lee)  # still theirs to take
    post_form(lee, "/dashboard/mentor/join")
    live.wait_for(lambda: len(lee_phone.rang()) == 2, timeout=60)
    assert "Ringing a mentor" in _page(sam)
    call.hang_up()
    live.wait_for(lambda: 'id="mentor-alert"' not in _page(lee), timeout=60)


def _shadow_today(live: LiveWarmline) -> None:
    with live.runtime.sessions() as session:
        shift_id = session.scalars(select(Shift.id).where(
            Shift.peer_id == live.peer_id("sam@example.org"))).one()
    today = datetime.now(ZoneInfo("America/New_York")).date().isoformat()
    errors = pair(live.runtime, Actor(None, "admin@example.org"), shift_id,
                  FormValues({"date": [today], "mentor": [str(live.peer_id("lee@example.org"))]}),
                  datetime.now(UTC))
    assert not errors, errors.by_field


def test_a_shadowing_mentor_listens_muted_then_coaches_the_peer_only(
    live: LiveWarmline, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    live.import_roster(MENTORS)
    _shadow_today(live)
    lee_phone = live.standin.phone(LEE, answer_after=0.5)
    call, ring = _bridged(live)
    sam = _client(live, "sam@example.org")

    heads_up = lee_phone.wait_for_text("shadowing", timeout=60)
    assert "Sam" in heads_up.body and CALLER not in heads_up.body
    mentor = lee_phone.wait_for_ring(timeout=60)
    call.wait_until_heard("Another peer has joined this call", timeout=60)
    # Muted: the mentor hears the peer and the caller; nobody hears the mentor.
    live.wait_for(lambda: {SAM, CALLER} <= set(mentor.bridged_with()), timeout=60)
    assert LEE not in ring.bridged_with() and LEE not in call.bridged_with()
    lee = _client(live, "lee@example.org")
    page = _page(lee)
    assert "Shadowing Sam on Test Warmline" in page and 'id="mentor-unmute"' in page
    assert CALLER not in page and CALLER[-4:] not in page
    live.wait_for(lambda: "Your shadowing mentor is listening, muted" in _page(sam), timeout=60)

    post_form(lee, "/dashboard/mentor/unmute")
    live.wait_for(lambda: LEE in ring.bridged_with(), timeout=60)
    assert LEE not in call.bridged_with()  # coaching: the peer only
    mentor.say("slow down a little")
    ring.wait_until_heard("slow down a little", timeout=60)
    assert "slow down a little" not in call.heard
    assert 'id="mentor-unmute"' not in _page(lee)
    # Then Sam lets them talk with the caller, as with any mentor.
    post_form(sam, "/dashboard/mentor/speak")
    live.wait_for(lambda: LEE in call.bridged_with(), timeout=60)
    assert "they both hear you" in _page(lee)
    assert len(lee_phone.rang()) == 1  # the room's repeated joins ring the mentor once
    call.hang_up()
    assert live.outcome_of(call.sid) == "connected"
    with live.runtime.sessions() as session:
        joined = session.scalars(select(ContactEvent).where(
            ContactEvent.kind == "mentor_joined")).all()
    assert [(e.peer_id, e.detail) for e in joined] == [(None, {"shadow": True})]
    # reports count the contact a mentor joined, as an anonymous figure
    with live.runtime.sessions() as session:
        line = session.scalars(select(Line)).one()
        now = datetime.now(UTC)
        assert recompute_day(session, line, now.astimezone(ZoneInfo(line.timezone)).date(), now)
        session.commit()
        rows = session.scalars(select(DailyAggregate).where(
            DailyAggregate.line_id == line.id)).all()
        assert sum(r.mentored for r in rows) == 1
    _assert_no_caller_number(live, caplog)
