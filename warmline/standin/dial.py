"""`<Dial>`: rings numbers (with whispers), joins conferences, and dequeues waiting callers."""

from __future__ import annotations

import functools
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from warmline.standin.conference import join
from warmline.standin.model import Bridge, CallStatus, Dequeue, Leg, Source
from warmline.standin.network import LegGone, Network, Redirected
from warmline.standin.voice import Doc, Interpreter, Mode

FOREVER = 10.0**9


@dataclass
class Outcome:
    """What the Dial action is told: DialCallStatus, DialCallSid, DialCallDuration, DialBridged."""

    status: CallStatus
    child_sid: str | None = None
    duration: int = 0
    bridged: bool = False
    parent_gone: bool = False

    def params(self) -> dict[str, str]:
        params = {"DialCallStatus": str(self.status), "DialBridged": str(self.bridged).lower()}
        if self.child_sid:
            params["DialCallSid"] = self.child_sid
        if self.status == CallStatus.COMPLETED:
            params["DialCallDuration"] = str(self.duration)
        return params


def run_dial(it: Interpreter, el: ET.Element, doc: Doc) -> None:
    """Execute one `<Dial>`, then its `action` (or the next verb)."""
    timeout = float(el.get("timeout", "30"))
    time_limit = float(el.get("timeLimit", "14400"))
    caller_id = el.get("callerId") or it.leg.from_  # Twilio's default: the caller's own number
    nouns = [child for child in el if child.tag in ("Number", "Queue", "Conference", "Client",
                                                    "Sip")]
    if not nouns and (el.text or "").strip():
        bare = ET.Element("Number")
        bare.text = (el.text or "").strip()
        nouns = [bare]
    it.leg.hangup_on_star = el.get("hangupOnStar") == "true"
    try:
        kinds = {noun.tag for noun in nouns}
        if "Queue" in kinds:
            outcome = dial_queue(it, next(n for n in nouns if n.tag == "Queue"), doc, timeout,
                                 time_limit)
        elif "Conference" in kinds:
            outcome = dial_conference(it, next(n for n in nouns if n.tag == "Conference"), doc,
                                      time_limit)
        elif "Number" in kinds:
            numbers = [n for n in nouns if n.tag == "Number"]
            outcome = dial_numbers(it, numbers, doc, timeout=timeout,
                                   time_limit=time_limit, caller_id=caller_id)
        else:
            it.net.record.add("dial_unsupported", it.leg.sid, nouns=sorted(kinds))
            outcome = Outcome(CallStatus.FAILED)
    finally:
        it.leg.hangup_on_star = False
    it.net.record.add("dial_ended", it.leg.sid, **outcome.params())
    action = el.get("action")
    if outcome.parent_gone:
        if action:
            it.notify_ended(doc.resolve(action), el.get("method", "POST"), outcome.params())
        raise LegGone
    if action:
        it.goto(doc.resolve(action), el.get("method", "POST"), outcome.params())


def _bridge_seconds(net: Network, bridge: Bridge) -> int:
    return round((time.monotonic() - bridge.started_at) * net.clock.speed)


def dial_numbers(it: Interpreter, nouns: list[ET.Element], doc: Doc, *, timeout: float,
                 time_limit: float, caller_id: str) -> Outcome:
    """Ring every number at once; the first to answer hears its whisper, then is bridged."""
    net, leg = it.net, it.leg
    children: list[tuple[Leg, ET.Element]] = []
    for noun in nouns:
        child = net.new_leg(from_=caller_id, to=(noun.text or "").strip(),
                            direction="outbound-dial", phone=None, parent=leg)
        if noun.get("statusCallback"):
            child.status_callback = doc.resolve(noun.get("statusCallback", ""))
            child.status_callback_method = noun.get("statusCallbackMethod", "POST")
            child.status_events = frozenset(
                noun.get("statusCallbackEvent", "completed").replace(",", " ").split())
        child.machine_detection = noun.get("machineDetection")
        net.record.add("dial", leg.sid, child=child.sid, to=child.to, caller_id=caller_id)
        children.append((child, noun))
    winner: list[Leg] = []
    results: dict[str, CallStatus] = {}

    def ringer(child: Leg) -> None:
        net.status_event(child, "initiated")
        status = net.ring(child, timeout,
                          cancelled=lambda: bool(winner and winner[0] is not child) or leg.hung_up)
        with net.cond:
            if status is None and not winner:
                winner.append(child)
            elif status is None:
                status = CallStatus.COMPLETED  # answered a moment too late: hung up at once
            if status is not None:
                results[child.sid] = status
            net.cond.notify_all()
        if status is not None:
            net.finish(child, status)

    for child, _noun in children:
        net.spawn(functools.partial(ringer, child), f"ring-{child.sid}")
    try:
        net.wait(leg, timeout + 1, lambda: bool(winner) or len(results) == len(children))
    except (LegGone, Redirected) as exc:
        for child, _noun in children:
            net.hang_up(child, "caller", CallStatus.CANCELED)
        if isinstance(exc, Redirected):
            raise
        return Outcome(CallStatus.CANCELED, children[0][0].sid if children else None,
                       parent_gone=True)
    if not winner:
        for child, _noun in children:
            net.hang_up(child, "dial-timeout", CallStatus.NO_ANSWER)
        net.wait(leg, 1, lambda: all(c.final for c, _n in children))
        statuses = set(results.values())
        for status in (CallStatus.NO_ANSWER, CallStatus.BUSY, CallStatus.FAILED):
            if status in statuses:
                return Outcome(status, children[0][0].sid)
        return Outcome(CallStatus.NO_ANSWER, children[0][0].sid if children else None)
    child = winner[0]
    noun = next(n for c, n in children if c is child)
    return _connect(it, child, noun, doc, time_limit)


def _connect(it: Interpreter, child: Leg, noun: ET.Element, doc: Doc,
             time_limit: float) -> Outcome:
    net, leg = it.net, it.leg
    handed_over = False
    try:
        if noun.get("url"):
            whisper = Interpreter(net, child, also=leg)
            try:
                whisper.follow(Source(doc.resolve(noun.get("url", "")),
                                      noun.get("method", "POST")), Mode.WHISPER)
            except LegGone:
                if leg.hung_up:
                    return Outcome(CallStatus.COMPLETED, child.sid, parent_gone=True)
                net.record.add("whisper_ended_call", leg.sid, child=child.sid)
                return Outcome(CallStatus.COMPLETED, child.sid, 0, bridged=False)
        bridge = Bridge([leg, child], started_at=time.monotonic())
        with net.cond:
            leg.bridge = child.bridge = bridge
            net.cond.notify_all()
        net.record.add("bridged", leg.sid, legs=[leg.sid, child.sid],
                       numbers=[_person(leg), _person(child)], caller_id=child.from_)
        try:
            net.wait(leg, time_limit, lambda: bridge.ended or child.redirect is not None)
        except LegGone:
            return Outcome(CallStatus.COMPLETED, child.sid, _bridge_seconds(net, bridge), True,
                           parent_gone=True)
        finally:
            with net.cond:
                bridge.ended = True
                leg.bridge = child.bridge = None
                net.cond.notify_all()
            net.record.add("unbridged", leg.sid, legs=[leg.sid, child.sid])
        if child.redirect is not None and not child.hung_up:
            # The REST API took the dialed leg elsewhere: it carries on alone, the caller too.
            handed_over = True
            net.spawn(lambda: _run_redirected(net, child), f"leg-{child.sid}")
        return Outcome(CallStatus.COMPLETED, child.sid, _bridge_seconds(net, bridge), True)
    finally:
        if not handed_over and not child.final:
            net.hang_up(child, "dial-ended")
            net.finish(child)


def _run_redirected(net: Network, leg: Leg) -> None:
    with net.cond:
        target, leg.redirect = leg.redirect, None
    Interpreter(net, leg).run(target or Source(twiml="<Response/>"))


def _person(leg: Leg) -> str | None:
    return leg.phone.number if leg.phone else None


def dial_queue(it: Interpreter, noun: ET.Element, doc: Doc, timeout: float,
               time_limit: float) -> Outcome:
    """Bridge with the first caller of a queue, waiting up to `timeout` for one to arrive."""
    net, leg = it.net, it.leg
    name = (noun.text or "").strip()
    with net.cond:
        queue = net.queues.get(name)
    if queue is None:
        net.record.add("dial_queue_missing", leg.sid, queue=name)
        return Outcome(CallStatus.FAILED)
    try:
        if not net.wait(leg, timeout, lambda: bool(queue.members)):
            return Outcome(CallStatus.NO_ANSWER)
    except LegGone:
        return Outcome(CallStatus.CANCELED, parent_gone=True)
    url = noun.get("url")
    with net.cond:
        member = queue.members.pop(0)
        member.leg.queue = None
        bridge = Bridge([leg, member.leg])
        dequeue = Dequeue(leg, doc.resolve(url) if url else None, noun.get("method", "POST"),
                          bridge)
        member.leg.dequeue = dequeue
        net.cond.notify_all()
    caller = member.leg
    net.record.add("dequeued", leg.sid, queue=name, caller=caller.sid)
    try:
        net.wait(leg, FOREVER, lambda: dequeue.ready or caller.hung_up)
        if not dequeue.ready:
            return Outcome(CallStatus.FAILED, caller.sid)
        with net.cond:
            leg.bridge = bridge
            bridge.started_at = time.monotonic()
        net.wait(leg, time_limit, lambda: bridge.ended)
        return Outcome(CallStatus.COMPLETED, caller.sid, _bridge_seconds(net, bridge), True)
    except LegGone:
        bridged = dequeue.ready
        return Outcome(CallStatus.COMPLETED if bridged else CallStatus.CANCELED, caller.sid,
                       _bridge_seconds(net, bridge) if bridged else 0, bridged, parent_gone=True)
    finally:
        with net.cond:
            bridge.ended = True
            leg.bridge = None
            net.cond.notify_all()


def dial_conference(it: Interpreter, noun: ET.Element, doc: Doc, time_limit: float) -> Outcome:
    """Join a named room until it ends, the participant is removed, or `*` (hangupOnStar)."""
    stay = join(it, noun, doc, time_limit)
    return Outcome(CallStatus.COMPLETED, None, stay.seconds, True, parent_gone=stay.gone)
