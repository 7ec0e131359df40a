"""Every bridged call lives in a conference named after the contact, driven by the room's callbacks."""

from __future__ import annotations

import itertools
import random
from pathlib import Path

import pytest
import requests
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from tests.support.bridged import bridged_call
from tests.support.live import SAM, LiveWarmline, running_warmline
from tests.support.services import TEST_AUTH_TOKEN
from warmline.models import ContactEvent
from warmline.standin import CallbackOrder, CallbackPolicy
from warmline.voice import urls


def _event_kinds(live: LiveWarmline, contact_id: str) -> list[str]:
    with live.runtime.sessions() as session:
        return list(session.scalars(select(ContactEvent.kind).where(
            ContactEvent.contact_id == contact_id)))


def test_the_caller_is_moved_from_their_queue_into_the_contacts_conference(
    live: LiveWarmline,
) -> None:
    call, ring, sam_id = bridged_call(live)
    contact = live.contact_of_call(call.sid)
    assert contact is not None
    room = live.standin.net.conferences[contact.id]
    assert {p.leg.sid for p in room.participants} == {call.sid, ring.sid}
    # The caller's call left the queue by a REST update, not by a <Dial><Queue>.
    assert [e.call_sid for e in live.standin.events("rest_call_redirected")] == [call.sid]
    assert not live.standin.events("dequeued")
    call.say("it has been a hard week")
    ring.wait_until_heard("it has been a hard week", timeout=60)
    call.hang_up()
    # The caller leaving ends the room: the peer hears that the call ended.
    ring.wait_until_heard("The call has ended", timeout=60)
    assert live.outcome_of(call.sid) == "connected"
    live.wait_for(lambda: live.presence(sam_id) == "available", timeout=60)


def test_the_peer_hanging_up_first_ends_the_call_for_the_caller_with_a_word_not_silence(
    live: LiveWarmline,
) -> None:
    call, ring, sam_id = bridged_call(live)
    ring.hang_up()
    call.wait_until_heard("Thank you for calling. Take care.", timeout=60)
    assert call.wait_until_ended(timeout=60) == "completed"
    assert live.outcome_of(call.sid) == "connected"
    live.wait_for(lambda: live.presence(sam_id) == "available", timeout=60)


def _room_callbacks(contact_id: str, conference_sid: str, caller_sid: str,
                    peer_sid: str) -> list[dict[str, str]]:
    def event(name: str, call_sid: str = "") -> dict[str, str]:
        params = {"AccountSid": "AC" + "0" * 32, "ConferenceSid": conference_sid,
                  "FriendlyName": contact_id, "StatusCallbackEvent": name}
        if call_sid:
            params["CallSid"] = call_sid
        return params

    return [event("participant-join", caller_sid), event("conference-start"),
            event("participant-join", peer_sid), event("participant-leave", peer_sid),
            event("participant-leave", caller_sid), event("conference-end")]


def _post_signed(live: LiveWarmline, contact_id: str, params: dict[str, str]) -> None:
    """One room callback, signed as Twilio signs it, straight to the app."""
    url = urls.absolute(live.url, urls.CONFERENCE_STATUS, contact=contact_id)
    signature = RequestValidator(TEST_AUTH_TOKEN).compute_signature(url, params)
    answer = requests.post(url, data=params, headers={"X-Twilio-Signature": signature},
                           timeout=30)
    assert answer.status_code == 200
    assert "<Response" in answer.text


@pytest.mark.parametrize("order", [CallbackOrder.REVERSED, CallbackOrder.SHUFFLED])
def test_reordered_and_duplicated_room_callbacks_change_nothing_twice(
    database_url: str, tmp_path: Path, order: CallbackOrder,
) -> None:
    policy = CallbackPolicy(duplicate=True, order=order, seed=11)
    with running_warmline(database_url, tmp_path, standin_options={"callbacks": policy}) as live:
        call, ring, sam_id = bridged_call(live)
        contact = live.contact_of_call(call.sid)
        assert contact is not None
        conference_sid = live.standin.net.conferences[contact.id].sid
        ring.hang_up()
        call.wait_until_ended(timeout=60)
        assert live.outcome_of(call.sid) == "connected"
        # The room's held-back callbacks (six, each twice) have all been answered.
        live.wait_for(lambda: len([e for e in live.standin.events("status_callback")
                                   if "/conference/" in e.data["url"]]) >= 12, timeout=60)
        live.wait_for(lambda: live.presence(sam_id) == "available", timeout=60)
        before = sorted(_event_kinds(live, contact.id))
        assert before.count("ended") == 1 and before.count("accepted") == 1
        # Replayed again, in every kind of order and twice over: nothing changes, nothing moves back.
        callbacks = _room_callbacks(contact.id, conference_sid, call.sid, ring.sid)
        shuffled = random.Random(5).sample(callbacks, len(callbacks))
        for number, params in enumerate(itertools.chain(reversed(callbacks), shuffled, shuffled)):
            _post_signed(live, contact.id, {**params, "SequenceNumber": str(number % 6)})
        assert sorted(_event_kinds(live, contact.id)) == before
        assert live.presence(sam_id) == "available"
        assert live.outcome_of(call.sid) == "connected"
        assert len(live.standin.net.phones[SAM].rang()) == 1
        assert not live.pump.errors
