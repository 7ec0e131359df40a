"""`<Enqueue>`: a caller waits in a named queue, looping its waitUrl, until bridged or out."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET

from warmline.standin.model import Dequeue, Queue, QueueMember, Source
from warmline.standin.network import Dequeued, LegGone, Redirected
from warmline.standin.voice import Doc, Interpreter, LeaveQueue, Mode

DEFAULT_HOLD_MUSIC = "http://com.twilio.music.classical.s3.amazonaws.com/BusyStrings.mp3"
FOREVER = 10.0**9


def run_enqueue(it: Interpreter, el: ET.Element, doc: Doc) -> None:
    """Execute one `<Enqueue>`, then its `action` with QueueResult (or the next verb)."""
    net, leg = it.net, it.leg
    name = (el.text or "").strip()
    wait_url = doc.resolve(el.get("waitUrl", "")) if el.get("waitUrl") else None
    max_size = el.get("maxQueueSize")
    with net.cond:
        queue = net.queue(name, int(max_size) if max_size else None)
        full = len(queue.members) >= queue.max_size
        if not full:
            queue.members.append(QueueMember(leg, time.monotonic()))
            leg.queue = queue
            net.cond.notify_all()
    entered = time.monotonic()
    result = "queue-full"
    if not full:
        net.record.add("enqueued", leg.sid, queue=name, number=leg.phone.number if leg.phone
                       else None, position=queue.position(leg))
        try:
            _wait_loop(it, queue, wait_url, el.get("waitUrlMethod", "POST"), entered)
        except LeaveQueue:
            result = "leave"
        except Dequeued as dequeued:
            result = _bridge_from_queue(it, queue, dequeued.dequeue, entered)
        except LegGone:
            result = "bridged" if it.bridged else "hangup"
            _leave(it, queue, entered, result)
            if el.get("action"):
                it.notify_ended(doc.resolve(el.get("action", "")), el.get("method", "POST"),
                                _result_params(it, queue, entered, result))
            raise
        except Redirected:
            _leave(it, queue, entered, "redirected")
            raise
        _leave(it, queue, entered, result)
    if el.get("action"):
        it.goto(doc.resolve(el.get("action", "")), el.get("method", "POST"),
                _result_params(it, queue, entered, result))


def _seconds(it: Interpreter, since: float) -> int:
    return int((time.monotonic() - since) * it.net.clock.speed)


def _result_params(it: Interpreter, queue: Queue, entered: float,
                   result: str) -> dict[str, str]:
    return {"QueueResult": result, "QueueSid": queue.sid, "QueueTime": str(_seconds(it, entered))}


def _leave(it: Interpreter, queue: Queue, entered: float, result: str) -> None:
    net, leg = it.net, it.leg
    with net.cond:
        was_member = any(m.leg is leg for m in queue.members)
        queue.members = [m for m in queue.members if m.leg is not leg]
        leg.queue = None
        if was_member or result == "bridged":
            queue.waited.append(_seconds(it, entered))
        net.cond.notify_all()
    net.record.add("left_queue", leg.sid, queue=queue.name, result=result,
                   queue_time=_seconds(it, entered))


def _wait_loop(it: Interpreter, queue: Queue, wait_url: str | None, method: str,
               entered: float) -> None:
    """Twilio requests the waitUrl again each time its document ends."""
    net, leg = it.net, it.leg
    while True:
        started = time.monotonic()
        if wait_url is None:
            it.hear("play", DEFAULT_HOLD_MUSIC)
            net.wait(leg, net.config.play_seconds)
            continue
        with net.cond:
            params = {"QueueSid": queue.sid, "QueueTime": str(_seconds(it, entered)),
                      "QueuePosition": str(queue.position(leg)),
                      "CurrentQueueSize": str(len(queue.members)),
                      "AvgQueueTime": str(queue.average_wait()),
                      "MaxQueueSize": str(queue.max_size)}
        it.follow(Source(wait_url, method, params=tuple(params.items())), Mode.WAIT)
        if time.monotonic() - started < net.clock.real(1.0):
            net.wait(leg, 1.0)  # an empty wait document would otherwise spin


def _bridge_from_queue(it: Interpreter, queue: Queue, dequeue: Dequeue, entered: float) -> str:
    """Play the dequeuer's `url` to this caller, then stay bridged until one side leaves."""
    net, leg = it.net, it.leg
    if dequeue.url:
        params = {"QueueSid": queue.sid, "QueueTime": str(_seconds(it, entered)),
                  "DequeingCallSid": dequeue.by.sid, "DequeueingCallSid": dequeue.by.sid}
        announcer = Interpreter(net, leg, also=dequeue.by)
        try:
            announcer.follow(Source(dequeue.url, dequeue.method, params=tuple(params.items())),
                             Mode.WHISPER)
        except LegGone:
            if leg.hung_up:
                raise
            return "error"  # the dequeuer left before the bridge was made
    with net.cond:
        dequeue.ready = True
        leg.bridge = dequeue.bridge
        leg.dequeue = None
        it.bridged = True
        net.cond.notify_all()
    net.record.add("bridged", leg.sid, legs=[leg.sid, dequeue.by.sid], queue=queue.name,
                   numbers=[leg.phone.number if leg.phone else None,
                            dequeue.by.phone.number if dequeue.by.phone else None])
    try:
        net.wait(leg, FOREVER, lambda: dequeue.bridge.ended)
    finally:
        with net.cond:
            dequeue.bridge.ended = True
            leg.bridge = None
            net.cond.notify_all()
        net.record.add("unbridged", leg.sid, legs=[leg.sid, dequeue.by.sid])
    return "bridged"
