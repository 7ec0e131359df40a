"""Callbacks end to end through the stand-in: the peer first, then the caller, bridged; three
misses end as "callback failed"; the number is erased either way."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.support.callbacks import (
    CALLBACK_QUESTION,
    CALLER,
    ask_for_callback,
    contact_outcome,
    request_of,
    sweep,
)
from tests.support.live import LINE, ROSTER, SAM, LiveWarmline
from warmline.models import CallbackAttempt
from warmline.services.callbacks import placing as callbacks
from warmline.services.peers import dashboard
from warmline.standin import Phone


def test_a_callback_rings_the_peer_first_then_the_caller_and_bridges_them(
        live: LiveWarmline) -> None:
    live.import_roster(ROSTER)
    callback_id = ask_for_callback(live)
    caller_phone: Phone = live.standin.phone(CALLER, answer_after=0.5,
                                             press={CALLBACK_QUESTION: "1"})
    sam = live.peer(SAM)
    live.go_available(live.peer_id("sam@example.org"))
    assert sweep(live).started == [callback_id]

    peer_call = sam.wait_for_ring(timeout=60)
    peer_call.wait_until_heard("Warmline call back. Press 1 to accept", timeout=60)
    peer_call.wait_until_heard("A caller who asked for Substance use recovery", timeout=60)
    # Only once the peer is on the line is the caller called, from the line's number.
    caller_call = live.wait_for(lambda: next(iter(caller_phone.rang()), None), timeout=60)
    assert caller_call.caller_id == LINE
    caller_call.wait_until_heard(CALLBACK_QUESTION, timeout=60)
    assert caller_call.wait_until_bridged(timeout=60) == [SAM]
    # Nothing identifying was said to whoever answered before the 1.
    before = caller_call.heard[: caller_call.heard.index(next(
        h for h in caller_call.heard if CALLBACK_QUESTION in h))]
    assert not any("recovery" in h.lower() or "warmline" in h.lower() for h in before)
    caller_call.hang_up()

    live.wait_for(lambda: request_of(live, callback_id).status == "connected", timeout=60)
    request = request_of(live, callback_id)
    assert request.number_encrypted is None and request.attempts == 1
    assert live.wait_for(lambda: contact_outcome(live, callback_id), timeout=60) \
        == "callback_connected"
    assert len(sam.rang()) == 1 and len(caller_phone.rang()) == 1
    sam_id = live.peer_id("sam@example.org")
    live.wait_for(lambda: live.presence(sam_id) == "available", timeout=60)


def test_a_caller_who_does_not_answer_three_times_ends_as_callback_failed(
        live: LiveWarmline, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(callbacks, "RETRY_SPACING", callbacks.RETRY_SPACING * 0)
    live.import_roster(ROSTER)
    callback_id = ask_for_callback(live, message_ok=False)
    caller_phone = live.standin.phone(CALLER, mode="no_answer")
    sam = live.peer(SAM)
    sam_id = live.peer_id("sam@example.org")
    live.go_available(sam_id)

    for attempt in (1, 2, 3):
        live.wait_for(lambda: live.presence(sam_id) == "available", timeout=60)
        assert sweep(live).started == [callback_id], attempt
        live.wait_for(lambda n=attempt: len(caller_phone.rang()) == n, timeout=60)
        live.wait_for(lambda n=attempt: _missed(live, callback_id) == n, timeout=60)
    live.wait_for(lambda: request_of(live, callback_id).status == "failed", timeout=60)
    request = request_of(live, callback_id)
    assert request.number_encrypted is None and request.attempts == 3
    assert live.wait_for(lambda: contact_outcome(live, callback_id), timeout=60) \
        == "callback_failed"
    # Each attempt rang the peer first; the peer heard that the caller did not answer.
    assert len(sam.rang()) == 3
    assert any("didn't answer" in h for c in sam.rang() for h in c.heard)
    assert sweep(live).started == []  # nothing left to place
    assert len(caller_phone.rang()) == 3


def test_voicemail_hears_only_the_neutral_words_and_only_when_allowed(
        live: LiveWarmline) -> None:
    live.import_roster(ROSTER)
    callback_id = ask_for_callback(live, message_ok=True)
    caller_phone = live.standin.phone(CALLER, mode="voicemail")
    live.peer(SAM)
    live.go_available(live.peer_id("sam@example.org"))
    sweep(live)
    call = live.wait_for(lambda: next(iter(caller_phone.rang()), None), timeout=60)
    call.wait_until_ended(timeout=60)
    assert call.heard == ["This is the warmline returning your call."]
    live.wait_for(lambda: _missed(live, callback_id) == 1, timeout=60)
    assert request_of(live, callback_id).status == "pending"


def test_a_peer_who_takes_a_callback_on_the_dashboard_is_the_one_rung(
        live: LiveWarmline) -> None:
    from tests.support.live import LEE

    live.import_roster(ROSTER)
    callback_id = ask_for_callback(live)
    caller_phone = live.standin.phone(CALLER, answer_after=0.5, press={CALLBACK_QUESTION: "1"})
    sam, lee = live.peer(SAM), live.peer(LEE)
    lee_id = live.peer_id("lee@example.org")
    views = dashboard.list_callbacks(live.runtime, lee_id)
    assert [v.id for v in views] == [callback_id]
    assert dashboard.take_callback(live.runtime, lee_id, callback_id) is None
    # Sam is available too (and idle longer), yet the callback waits for Lee.
    live.go_available(live.peer_id("sam@example.org"))
    live.go_available(lee_id)
    sweep(live)  # the recurring sweep places a taken callback once its peer is available
    call = lee.wait_for_ring(timeout=60)
    call.wait_until_heard("Warmline call back", timeout=60)
    caller_call = live.wait_for(lambda: next(iter(caller_phone.rang()), None), timeout=60)
    assert caller_call.wait_until_bridged(timeout=60) == [LEE]
    caller_call.hang_up()
    live.wait_for(lambda: request_of(live, callback_id).status == "connected", timeout=60)
    assert sam.rang() == []
    live.wait_for(lambda: live.presence(lee_id) == "available", timeout=60)


def _missed(live: LiveWarmline, callback_id: int) -> int:
    with live.runtime.sessions() as session:
        return len(session.scalars(select(CallbackAttempt).where(
            CallbackAttempt.callback_id == callback_id,
            CallbackAttempt.state == "missed")).all())


def test_a_peer_who_reads_spanish_hears_the_callback_in_spanish_and_the_caller_english(
        live: LiveWarmline) -> None:
    from sqlalchemy import update

    from warmline.models import User

    live.import_roster(ROSTER)
    with live.runtime.sessions.begin() as session:
        session.execute(update(User).where(User.email == "sam@example.org").values(language="es"))
    callback_id = ask_for_callback(live)
    caller_phone: Phone = live.standin.phone(CALLER, answer_after=0.5,
                                             press={CALLBACK_QUESTION: "1"})
    sam = live.peer(SAM, press={"Oprima 1 para aceptar": "1"})
    live.go_available(live.peer_id("sam@example.org"))
    assert sweep(live).started == [callback_id]
    peer_call = sam.wait_for_ring(timeout=60)
    peer_call.wait_until_heard("Llamada devuelta de la línea de apoyo. Oprima 1", timeout=60)
    caller_call = live.wait_for(lambda: next(iter(caller_phone.rang()), None), timeout=60)
    caller_call.wait_until_heard(CALLBACK_QUESTION, timeout=60)  # the caller's own language
    assert caller_call.wait_until_bridged(timeout=60) == [SAM]
    caller_call.hang_up()
    live.wait_for(lambda: request_of(live, callback_id).status == "connected", timeout=60)
    assert not any("Warmline call back" in words for words in peer_call.heard)
