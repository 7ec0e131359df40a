"""Status callbacks with sequence numbers, delivered twice or out of order on demand; pacing."""

from __future__ import annotations

import itertools
import time

from tests.support.twiml_app import LINE, PEER, TwimlApp
from warmline.standin import CallbackOrder, CallbackPolicy, Standin

EVENTS = ["initiated", "ringing", "answered", "completed"]


def ring_once(standin: Standin, twiml: TwimlApp) -> str:
    standin.add_number(LINE)
    standin.phone(PEER, answer_after=0.5)
    call = standin.client().calls.create(
        to=PEER, from_=LINE, twiml="<Response><Say>Hello</Say></Response>",
        status_callback=twiml.on("/status", ""), status_callback_event=EVENTS)
    return str(call.sid)


def test_callbacks_in_order_with_sequence_numbers(standin: Standin, twiml: TwimlApp) -> None:
    sid = ring_once(standin, twiml)
    seen = [s.form for s in twiml.wait_for("/status", 4)]
    assert [f["CallStatus"] for f in seen] == ["initiated", "ringing", "in-progress",
                                               "completed"]
    assert [f["SequenceNumber"] for f in seen] == ["0", "1", "2", "3"]
    assert all(f["CallSid"] == sid for f in seen)
    assert "CallDuration" in seen[-1] and "CallDuration" not in seen[0]


def test_callbacks_reversed_and_duplicated(twiml: TwimlApp) -> None:
    policy = CallbackPolicy(duplicate=True, order=CallbackOrder.REVERSED)
    with Standin(speed=10, auth_token=twiml.validator.token.decode(),
                 callbacks=policy) as odd:
        ring_once(odd, twiml)
        seen = [s.form for s in twiml.wait_for("/status", 8)]
    assert [f["SequenceNumber"] for f in seen] == ["3", "3", "2", "2", "1", "1", "0", "0"]
    assert seen[0]["CallStatus"] == "completed" and seen[-1]["CallStatus"] == "initiated"


def test_callbacks_late(twiml: TwimlApp) -> None:
    with Standin(speed=10, auth_token=twiml.validator.token.decode(),
                 callbacks=CallbackPolicy(delay=5)) as late:
        started = time.monotonic()
        ring_once(late, twiml)
        twiml.wait_for("/status", 1)
        assert time.monotonic() - started >= 0.5  # 5 stand-in seconds at speed 10


def test_five_outbound_calls_in_a_burst_start_about_a_second_apart(twiml: TwimlApp) -> None:
    with Standin(speed=1, auth_token=twiml.validator.token.decode()) as paced:
        paced.add_number(LINE)
        client = paced.client()
        peers = [f"+1555000200{i}" for i in range(5)]
        for number in peers:
            paced.phone(number, "no_answer")
        created = [client.calls.create(to=n, from_=LINE, url=twiml.url + "/x", timeout=10)
                   for n in peers]
        assert all(c.status == "queued" for c in created)  # accepted at once, not refused
        starts = [e.at for e in paced.record.wait_for(
            lambda: len(paced.events("initiated")) == 5 and paced.events("initiated"), 8)]
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert all(0.85 <= gap <= 1.3 for gap in gaps), gaps
