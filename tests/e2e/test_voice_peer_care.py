"""The peer's wellbeing around a call: long-call reminder, "need support", ending an abusive call."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from tests.support.dashboard import post_form, sign_in
from tests.support.live import LEE, LINE, ROSTER, SAM, LiveWarmline
from warmline.models import Block
from warmline.services.accounts.users import set_password

CALLER = "+15005550006"


def _bridged_call(live: LiveWarmline, roster: str = ROSTER):  # type: ignore[no-untyped-def]
    live.import_roster(roster)
    sam = live.peer(SAM)
    live.go_available(live.peer_id("sam@example.org"))
    call = live.standin.caller(CALLER, press={"For Substance use recovery": "1"}).dial(LINE)
    assert call.wait_until_bridged(timeout=60) == [SAM]
    return sam, call


def test_at_max_call_minutes_the_peer_gets_a_gentle_text_and_nobody_is_cut_off(
    live: LiveWarmline,
) -> None:
    from warmline.clock import utc_now
    from warmline.services.voice.peer import remind_long_call

    sam, call = _bridged_call(live)
    contact = live.contact_of_call(call.sid)
    assert contact is not None
    # The reminder is scheduled at accept + max_call_minutes; run it now instead of waiting.
    assert remind_long_call(live.runtime, contact.id, live.peer_id("sam@example.org"), utc_now())
    text = sam.wait_for_text("gentle reminder", timeout=60)
    assert text.from_ == LINE
    assert call.status == "in-progress" and call.bridged_with() == [SAM]
    assert CALLER not in text.body and CALLER[-4:] not in text.body


def test_end_and_report_abuse_hangs_up_the_call_and_blocks_the_caller(live: LiveWarmline) -> None:
    _, call = _bridged_call(live)
    with live.runtime.sessions() as session:
        set_password(session, "sam@example.org", "correct horse battery staple",
                     now=datetime.now(UTC))
        session.commit()
    client = live.app.test_client()
    sign_in(client, "sam@example.org", "correct horse battery staple")
    post_form(client, "/dashboard/report-abuse")
    assert call.wait_until_ended(timeout=60) == "completed"
    with live.runtime.sessions() as session:
        assert session.scalars(select(Block)).one().caller_hash
    again = live.standin.caller(CALLER).dial(LINE)
    again.wait_until_heard("We're not able to take your call", timeout=60)


def test_need_support_texts_the_admin_when_no_admin_is_on_shift(live: LiveWarmline) -> None:
    # Lee is an admin with no shift: nobody who could answer a "need support" is on shift.
    roster = ROSTER.replace('name: "Lee", phone: "+12125550103"',
                            'name: "Lee", phone: "+12125550103", role: admin')
    lee_shift = next(row for row in roster.splitlines() if row.startswith("  - {peer: lee@"))
    roster = roster.replace(lee_shift + "\n", "")
    live.import_roster(roster)
    lee = live.standin.phone(LEE)
    with live.runtime.sessions() as session:
        set_password(session, "sam@example.org", "correct horse battery staple",
                     now=datetime.now(UTC))
        session.commit()
    client = live.app.test_client()
    sign_in(client, "sam@example.org", "correct horse battery staple")
    post_form(client, "/dashboard/support")
    text = lee.wait_for_text("need support", timeout=60)
    assert "Sam" in text.body and LINE not in text.body
