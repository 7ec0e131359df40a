"""Warm transfer to another peer, through routing (DESIGN step 8): the second peer is offered the
call like any other, joins the same room, is briefed, and the first peer hands over."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import requests
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from tests.support.bridged import bridged_call, dashboard_page, sams_dashboard
from tests.support.dashboard import post_form, post_text
from tests.support.live import LEE, LINE, ROSTER, SAM, SPEED, LiveWarmline, running_warmline
from tests.support.services import TEST_AUTH_TOKEN
from warmline.models import Contact, ContactEvent, DailyAggregate, Line
from warmline.services import routing
from warmline.services.admin.board import build_board
from warmline.services.upkeep.aggregates import recompute_day
from warmline.standin import CallbackPolicy
from warmline.voice import urls
from warmline.voice.state import CallState


def _state_of(live: LiveWarmline, contact_id: str) -> str | None:
    return routing.routing_engine(live.runtime, datetime.now(UTC)).contact_state(contact_id)


def _events(live: LiveWarmline, contact_id: str) -> list[tuple[str, str | None]]:
    with live.runtime.sessions() as session:
        return sorted((e.kind, e.outcome) for e in session.scalars(
            select(ContactEvent).where(ContactEvent.contact_id == contact_id)))


def _linked_contact(live: LiveWarmline, contact_id: str) -> str:
    found = CallState(live.runtime.redis).transfer(contact_id)
    assert found is not None and found.linked
    return found.linked


def _hand_over_to_lee(live: LiveWarmline):  # type: ignore[no-untyped-def]
    call, ring, sam_id = bridged_call(live)
    contact = live.contact_of_call(call.sid)
    assert contact is not None
    lee_id = live.peer_id("lee@example.org")
    lee_phone = live.peer(LEE)
    live.go_available(lee_id)
    client = sams_dashboard(live)
    assert 'id="transfer-peer"' in dashboard_page(client)

    post_form(client, "/dashboard/transfer", {"target": "peer"})
    lee = lee_phone.wait_for_ring(timeout=60)
    # The usual neutral whisper first; after the 1, Lee joins Sam's room (not a new one).
    lee.wait_until_heard("Warmline call. Press 1 to accept.", timeout=60)
    lee.wait_until_heard("take over their call", timeout=60)
    live.wait_for(lambda: LEE in call.bridged_with() and SAM in call.bridged_with(), timeout=60)
    assert list(live.standin.net.conferences) == [contact.id]
    live.wait_for(lambda: 'id="transfer-hand-over"' in dashboard_page(client), timeout=60)
    assert live.presence(lee_id) == "busy" and live.presence(sam_id) == "busy"

    # Sam holds the caller and briefs Lee: the caller hears music, not them.
    post_form(client, "/dashboard/transfer/hold", {"held": "1"})
    call.wait_until_heard("hold.wav", timeout=60)
    ring.say("they lost their sponsor last month")
    lee.wait_until_heard("they lost their sponsor last month", timeout=60)
    assert "they lost their sponsor last month" not in call.heard
    post_form(client, "/dashboard/transfer/hold", {"held": "0"})

    # Hand over: Sam leaves, the caller stays with Lee.
    post_form(client, "/dashboard/transfer/hand-over")
    ring.wait_until_heard("The call has ended", timeout=60)
    live.wait_for(lambda: call.bridged_with() == [LEE], timeout=60)
    return call, lee, contact, sam_id, lee_id


def test_another_peer_is_found_through_routing_briefed_and_handed_the_call(
    live: LiveWarmline,
) -> None:
    call, lee, contact, sam_id, lee_id = _hand_over_to_lee(live)
    assert live.outcome_of(call.sid) == "connected"
    live.wait_for(lambda: live.presence(sam_id) in ("wrap_up", "available"), timeout=60)
    assert live.presence(lee_id) == "busy"  # Lee holds the capacity while the caller talks
    assert call.status == "in-progress"
    call.say("thank you for taking over")
    lee.wait_until_heard("thank you for taking over", timeout=60)

    def transfer_events() -> list[dict[str, object]]:
        with live.runtime.sessions() as session:
            return [e.detail for e in session.scalars(select(ContactEvent).where(
                ContactEvent.contact_id == contact.id, ContactEvent.kind == "transferred"))]

    # Written by the event log's worker, so waited for; anonymous: no number, no peer.
    live.wait_for(lambda: transfer_events() == [{"to": "peer", "warm": True}], timeout=60)

    # Lee's hang-up ends the room: the caller is never left alone in it, and ends once.
    linked = _linked_contact(live, contact.id)
    lee.hang_up()
    assert call.wait_until_ended(timeout=60) == "completed"
    live.wait_for(lambda: live.presence(lee_id) in ("wrap_up", "available"), timeout=60)
    live.wait_for(lambda: ("ended", "connected") in _events(live, linked), timeout=60)
    assert [k for k, _ in _events(live, contact.id)].count("ended") == 1
    assert live.outcome_of(call.sid) == "connected"
    # The linked contact never arrived (no caller came): it is not a second call in reports.
    assert "arrived" not in [k for k, _ in _events(live, linked)]
    with live.runtime.sessions() as session:
        row = session.get(Contact, linked)
        assert row is not None and row.caller_hash != contact.caller_hash
        # Reports: one call, answered, one transfer (the linked contact is not a second call).
        line = session.get(Line, contact.line_id)
        assert line is not None
        now = datetime.now(UTC)
        assert recompute_day(session, line, now.astimezone(ZoneInfo(line.timezone)).date(), now)
        session.commit()
        rows = session.scalars(select(DailyAggregate).where(
            DailyAggregate.line_id == line.id)).all()
        assert (sum(r.offered for r in rows), sum(r.answered for r in rows),
                sum(r.transfers for r in rows)) == (1, 1, 1)


def test_a_caller_who_drops_after_the_hand_over_is_linked_to_the_peer_they_were_handed_to(
    live: LiveWarmline,
) -> None:
    call, _, contact, _, lee_id = _hand_over_to_lee(live)
    call.hang_up()
    live.wait_for(lambda: CallState(live.runtime.redis).dropped_call(contact.caller_hash),
                  timeout=60)
    dropped = CallState(live.runtime.redis).dropped_call(contact.caller_hash)
    assert dropped is not None and dropped.peer_id == lee_id
    live.wait_for(lambda: live.presence(lee_id) in ("wrap_up", "available"), timeout=60)


def test_a_redis_loss_after_the_hand_over_keeps_the_second_peer_busy(live: LiveWarmline) -> None:
    call, lee, _, _, lee_id = _hand_over_to_lee(live)
    live.runtime.redis.flushdb()  # Redis restarted empty: the rebuild asks Twilio
    assert live.presence(lee_id) == "busy"  # their leg is live: still holding the capacity
    call.say("are you still there")
    lee.wait_until_heard("are you still there", timeout=60)


def test_the_peer_can_stop_once_the_second_peer_joined_or_while_routing_looks(
    live: LiveWarmline,
) -> None:
    call, ring, _ = bridged_call(live)
    contact = live.contact_of_call(call.sid)
    assert contact is not None
    lee_id = live.peer_id("lee@example.org")
    lee_phone = live.peer(LEE)
    client = sams_dashboard(live)
    # While routing looks (Lee not available yet): stopping withdraws the search.
    post_form(client, "/dashboard/transfer", {"target": "peer"})
    first = _linked_contact(live, contact.id)
    post_form(client, "/dashboard/transfer/cancel")
    live.wait_for(lambda: ("ended", "abandoned") in _events(live, first), timeout=60)
    assert _state_of(live, first) not in ("waiting", "offered")
    # Again, with Lee available: Lee joins, then Sam stops; Lee's leg ends, Lee is released.
    live.go_available(lee_id)
    post_form(client, "/dashboard/transfer", {"target": "peer"})
    second = _linked_contact(live, contact.id)
    assert second != first
    lee = lee_phone.wait_for_ring(timeout=60)
    live.wait_for(lambda: 'id="transfer-cancel"' in dashboard_page(client)
                  and LEE in call.bridged_with(), timeout=60)
    live.wait_for(lambda: "They have joined your call." in dashboard_page(client), timeout=60)
    post_form(client, "/dashboard/transfer/cancel")
    assert lee.wait_until_ended(timeout=60)
    live.wait_for(lambda: call.bridged_with() == [SAM], timeout=60)
    live.wait_for(lambda: ("ended", "connected") in _events(live, second), timeout=60)
    live.wait_for(lambda: live.presence(lee_id) in ("wrap_up", "available"), timeout=60)
    # Sam's leaving ends the room again (their hold on it was given back).
    ring.hang_up()
    call.wait_until_heard("Your peer has ended the call", timeout=60)
    assert live.outcome_of(call.sid) == "connected"
    with live.runtime.sessions() as session:
        assert not list(session.scalars(select(ContactEvent).where(
            ContactEvent.contact_id == contact.id, ContactEvent.kind == "transferred")))


def test_nobody_else_who_shares_the_experience_on_shift_is_said_at_once(
    live: LiveWarmline,
) -> None:
    roster = ROSTER.replace("experiences: [veteran, recovery]", "experiences: [veteran]")
    call, ring, _ = bridged_call(live, roster)
    lee_phone = live.peer(LEE)
    live.go_available(live.peer_id("lee@example.org"))
    client = sams_dashboard(live)
    page = post_text(client, "/dashboard/transfer", target="peer")
    assert "No other peer who can take this call is on shift right now." in page
    contact = live.contact_of_call(call.sid)
    assert contact is not None and CallState(live.runtime.redis).transfer(contact.id) is None
    assert lee_phone.rang() == []
    assert call.bridged_with() == [SAM]
    ring.hang_up()
    assert live.outcome_of(call.sid) == "connected"


def test_when_no_peer_takes_it_in_time_the_search_is_withdrawn_and_the_peer_told(
    live: LiveWarmline,
) -> None:
    call, ring, _ = bridged_call(live)
    contact = live.contact_of_call(call.sid)
    assert contact is not None
    lee_phone = live.standin.phone(LEE, mode="no_answer")
    live.go_available(live.peer_id("lee@example.org"))
    live.runtime.clock_speed = SPEED  # the search's bound, on the stand-in's clock
    client = sams_dashboard(live)
    post_form(client, "/dashboard/transfer", {"target": "peer"})
    assert "Looking for another peer on shift" in dashboard_page(client)
    lee_phone.wait_for_ring(timeout=60)
    live.wait_for(lambda: 'id="transfer-failed"' in dashboard_page(client), timeout=120)
    assert "No other peer took the call" in dashboard_page(client)
    linked = _linked_contact(live, contact.id)
    assert _state_of(live, linked) not in (
        "waiting", "offered", "connected")
    live.wait_for(lambda: ("ended", "abandoned") in _events(live, linked), timeout=60)
    assert call.bridged_with() == [SAM]
    assert 'id="transfer-peer"' in dashboard_page(client)  # Sam can try again
    ring.hang_up()
    call.wait_until_heard("Your peer has ended the call", timeout=60)
    assert live.outcome_of(call.sid) == "connected"


def test_the_caller_hanging_up_while_routing_looks_withdraws_the_search(
    live: LiveWarmline,
) -> None:
    call, _, sam_id = bridged_call(live)
    contact = live.contact_of_call(call.sid)
    assert contact is not None
    lee_phone = live.standin.phone(LEE, mode="manual")  # would ring, never answered
    client = sams_dashboard(live)
    post_form(client, "/dashboard/transfer", {"target": "peer"})  # Lee is not available yet
    linked = _linked_contact(live, contact.id)
    assert _state_of(live, linked) == "waiting"
    # the admin's live board: no new caller is waiting, a peer is looking for a colleague
    board = build_board(live.runtime, datetime.now(UTC))
    assert board.waiting == [] and len(board.seeking) == 1
    call.hang_up()
    assert live.outcome_of(call.sid) == "connected"
    live.wait_for(lambda: _state_of(live, linked) not in (
        "waiting", "offered"), timeout=60)
    live.wait_for(lambda: ("ended", "abandoned") in _events(live, linked), timeout=60)
    # Lee, available afterwards, is offered nothing.
    lee_id = live.peer_id("lee@example.org")
    live.go_available(lee_id)
    assert live.presence(lee_id) == "available"
    live.never(lee_phone.rang, within=5, why="Lee was rung for a call that had ended")
    live.wait_for(lambda: live.presence(sam_id) in ("wrap_up", "available"), timeout=60)


def _post_signed(live: LiveWarmline, path: str, query: dict[str, str],
                 params: dict[str, str]) -> None:
    url = urls.absolute(live.url, path, **query)
    signature = RequestValidator(TEST_AUTH_TOKEN).compute_signature(url, params)
    answer = requests.post(url, data=params, headers={"X-Twilio-Signature": signature},
                           timeout=30)
    assert answer.status_code == 200
    assert "<Response" in answer.text


def test_duplicated_and_replayed_callbacks_of_a_peer_transfer_change_nothing_twice(
    database_url: str, tmp_path: Path,
) -> None:
    policy = CallbackPolicy(duplicate=True)
    with running_warmline(database_url, tmp_path, standin_options={"callbacks": policy}) as live:
        call, lee, contact, sam_id, lee_id = _hand_over_to_lee(live)
        linked = _linked_contact(live, contact.id)
        assert live.outcome_of(call.sid) == "connected"
        lee.hang_up()
        assert call.wait_until_ended(timeout=60) == "completed"
        live.wait_for(lambda: ("ended", "connected") in _events(live, linked), timeout=60)
        live.wait_for(lambda: live.presence(sam_id) == "available"
                      and live.presence(lee_id) == "available", timeout=60)
        live.wait_for(lambda: ("transferred", None) in _events(live, contact.id), timeout=60)
        before = (_events(live, contact.id), _events(live, linked))
        assert [k for k, _ in before[0]].count("ended") == 1
        assert [k for k, _ in before[1]].count("ended") == 1
        with live.runtime.sessions() as session:
            sam_sid = session.get(Contact, contact.id).offer_call_sid  # type: ignore[union-attr]
            linked_row = session.get(Contact, linked)
            assert linked_row is not None and sam_sid
            lee_offer = linked_row.offer_id or ""
        room = live.standin.net.conferences[contact.id].sid
        joins_and_leaves = [
            {"StatusCallbackEvent": event, "ConferenceSid": room, "CallSid": sid,
             "FriendlyName": contact.id, "AccountSid": live.runtime.settings.twilio_account_sid}
            for event, sid in itertools.product(("participant-join", "participant-leave"),
                                                (lee.sid, sam_sid, call.sid))]
        for params in [*joins_and_leaves, *reversed(joins_and_leaves)]:
            _post_signed(live, urls.CONFERENCE_STATUS, {"contact": contact.id}, params)
        for status in ("in-progress", "completed", "completed"):
            _post_signed(live, urls.PEER_STATUS, {"offer": lee_offer},
                         {"CallSid": lee.sid, "CallStatus": status, "From": LINE, "To": LEE,
                          "AccountSid": live.runtime.settings.twilio_account_sid})
        assert (_events(live, contact.id), _events(live, linked)) == before
        assert live.presence(sam_id) == "available" and live.presence(lee_id) == "available"
        assert len(live.standin.net.phones[LEE].rang()) == 1
        assert live.pump is not None and not live.pump.errors
