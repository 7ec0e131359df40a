"""`<Enqueue>` with waitUrl loops, `<Leave>`, hang-ups in the queue, and `<Dial><Queue>`."""

from __future__ import annotations

from tests.support.twiml_app import LINE, PEER, TwimlApp, wait
from warmline.standin import Standin

CALLER_A, CALLER_B = "+15550003001", "+15550003002"


def queue_per_caller(twiml: TwimlApp) -> None:
    """The app's shape: each caller waits in a queue named after their call."""
    def voice(form: dict[str, str]) -> str:
        return (f"<Response><Enqueue waitUrl='/wait' action='/queue-done'>q-{form['From']}"
                "</Enqueue><Say>After the queue</Say></Response>")

    def wait_doc(form: dict[str, str]) -> str:
        return ("<Response><Gather action='/hold-choice' numDigits='1' timeout='5'>"
                f"<Say>You are number {form['QueuePosition']}. Press 9 to leave.</Say>"
                "</Gather></Response>")

    def choice(form: dict[str, str]) -> str:
        if form["Digits"] == "9":
            return "<Response><Leave/></Response>"
        return "<Response><Say>Still waiting</Say></Response>"

    twiml.on("/voice", voice)
    twiml.on("/wait", wait_doc)
    twiml.on("/hold-choice", choice)
    twiml.on("/queue-done", lambda f: f"<Response><Say>Queue said {f['QueueResult']}</Say>"
                                      "</Response>")


def test_peer_presses_1_and_is_bridged_with_exactly_that_caller(standin: Standin,
                                                                  twiml: TwimlApp) -> None:
    queue_per_caller(twiml)
    standin.add_number(LINE, voice_url=twiml.url + "/voice")
    first = standin.caller(CALLER_A).dial(LINE)
    second = standin.caller(CALLER_B).dial(LINE)
    first.wait_until_heard("You are number 1")
    second.wait_until_heard("You are number 1")  # each caller is alone in their own queue
    peer = standin.peer_phone(PEER)
    twiml.on("/whisper", "<Response><Gather action='/accept' numDigits='1'>"
                         "<Say>Warmline call. Press 1 to accept.</Say></Gather></Response>")
    twiml.on("/accept", f"<Response><Say>Connecting you</Say><Dial action='/peer-done'>"
                        f"<Queue url='/connecting'>q-{CALLER_B}</Queue></Dial></Response>")
    twiml.on("/connecting", "<Response><Say>A peer is here for you</Say></Response>")
    twiml.on("/peer-done", "<Response><Say>Thank you</Say></Response>")
    call = standin.client().calls.create(to=PEER, from_=LINE, url=twiml.url + "/whisper",
                                         timeout=60)
    ring = peer.wait_for_ring()
    assert ring.caller_id == LINE  # the peer sees the line's number, never the caller's
    ring.answer()
    ring.wait_until_heard("Press 1 to accept")
    ring.press("1")
    assert second.wait_until_heard("A peer is here") == "A peer is here for you"
    assert ring.wait_until_bridged() == [CALLER_B]
    assert second.wait_until_bridged() == [PEER]
    assert not first.bridged_with() and "A peer is here for you" not in first.heard
    ring.say("Hi, I'm here")
    second.wait_until_heard("Hi, I'm here")
    dequeue = twiml.requests("/connecting")[0].form
    assert dequeue["CallSid"] == second.sid and dequeue["DequeingCallSid"] == call.sid
    ring.hang_up()
    second.wait_until_heard("Queue said bridged")
    done = twiml.wait_for("/peer-done")[0].form
    assert done["DialCallStatus"] == "completed" and done["DialBridged"] == "true"
    assert done["DialCallSid"] == second.sid
    first.hang_up()
    assert twiml.wait_for("/queue-done", 2)[1].form["QueueResult"] == "hangup"


def test_wait_url_is_requested_again_with_queue_parameters(standin: Standin,
                                                          twiml: TwimlApp) -> None:
    twiml.on("/voice", "<Response><Enqueue waitUrl='/wait'>shared</Enqueue></Response>")
    twiml.on("/wait", "<Response><Say>Hold on</Say><Pause length='2'/></Response>")
    standin.add_number(LINE, voice_url=twiml.url + "/voice")
    standin.caller(CALLER_A).dial(LINE)
    twiml.wait_for("/wait", 1)
    standin.caller(CALLER_B).dial(LINE)
    seen = twiml.wait_for("/wait", 5)
    second = next(s.form for s in seen if s.form["From"] == CALLER_B)
    assert second["QueuePosition"] == "2" and second["CurrentQueueSize"] == "2"
    assert {"QueueSid", "QueueTime", "AvgQueueTime", "MaxQueueSize"} <= set(second)
    later = [s.form for s in seen if s.form["From"] == CALLER_A]
    assert len(later) >= 2 and int(later[-1]["QueueTime"]) >= 1


def test_leave_from_the_wait_gather(standin: Standin, twiml: TwimlApp) -> None:
    queue_per_caller(twiml)
    standin.add_number(LINE, voice_url=twiml.url + "/voice")
    call = standin.caller(CALLER_A).dial(LINE)
    call.wait_until_heard("Press 9 to leave")
    call.press("9")
    call.wait_until_heard("Queue said leave")
    assert twiml.requests("/queue-done")[0].form["QueueResult"] == "leave"
    assert standin.net.queues[f"q-{CALLER_A}"].members == []


def test_leave_without_action_runs_the_next_verb(standin: Standin, twiml: TwimlApp) -> None:
    twiml.on("/voice", "<Response><Enqueue waitUrl='/wait'>q</Enqueue><Say>Next verb</Say>"
                       "</Response>")
    twiml.on("/wait", "<Response><Leave/></Response>")
    standin.add_number(LINE, voice_url=twiml.url + "/voice")
    call = standin.caller(CALLER_A).dial(LINE)
    call.wait_until_heard("Next verb")


def test_caller_hanging_up_in_the_queue(standin: Standin, twiml: TwimlApp) -> None:
    queue_per_caller(twiml)
    standin.add_number(LINE, voice_url=twiml.url + "/voice")
    call = standin.caller(CALLER_A).dial(LINE)
    # On hold (the wait URL asked), then three stand-in seconds in the queue, then the hang-up.
    # A `patience` timer started at the dial raced the first webhook on a loaded machine: the
    # caller sometimes gave up before the call was answered ("canceled").
    wait(lambda: twiml.requests("/wait"))
    enqueued = standin.net.clock.elapsed()
    wait(lambda: standin.net.clock.elapsed() - enqueued >= 3)
    call.hang_up()
    assert call.wait_until_ended() == "completed"
    form = twiml.wait_for("/queue-done")[0].form
    assert form["QueueResult"] == "hangup" and form["CallStatus"] == "completed"
    assert int(form["QueueTime"]) >= 2
    assert standin.net.queues[f"q-{CALLER_A}"].members == []


def test_dial_queue_waits_for_timeout_and_queue_full(standin: Standin, twiml: TwimlApp) -> None:
    twiml.on("/voice", "<Response><Enqueue action='/done' maxQueueSize='1'>tiny</Enqueue>"
                       "</Response>")
    twiml.on("/done", lambda f: f"<Response><Say>Result {f['QueueResult']}</Say></Response>")
    standin.add_number(LINE, voice_url=twiml.url + "/voice")
    standin.caller(CALLER_A).dial(LINE)
    wait(lambda: standin.net.queues.get("tiny") and standin.net.queues["tiny"].members)
    full = standin.caller(CALLER_B).dial(LINE)
    full.wait_until_heard("Result queue-full")
    standin.peer_phone(PEER, mode="answer")
    twiml.on("/empty", "<Response><Dial timeout='2' action='/dialed'><Queue>nobody</Queue>"
                       "</Dial></Response>")
    twiml.on("/dialed", "<Response/>")
    standin.net.queue("nobody")
    standin.client().calls.create(to=PEER, from_=LINE, url=twiml.url + "/empty")
    assert twiml.wait_for("/dialed")[0].form["DialCallStatus"] == "no-answer"
