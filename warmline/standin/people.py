"""Simulated people: phones that dial, ring, answer, press keys, hang up and text."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from warmline.standin.model import CallStatus, Conference, Heard, Leg, Message, Source

if TYPE_CHECKING:
    from warmline.standin.network import Network

MODES = ("answer", "manual", "decline", "busy", "no_answer", "voicemail", "fail")


@dataclass
class Behaviour:
    """How a phone treats incoming calls; times are stand-in seconds.

    `mode`: answer (after `answer_after`), manual (the test calls `answer()`), decline (after
    `answer_after`, reported busy), busy, no_answer, voicemail (answers; machine detection says
    machine), fail (unreachable). `press`: heard text -> keys to press on hearing it.
    """

    mode: str = "answer"
    answer_after: float = 0.0
    press: dict[str, str] = field(default_factory=dict)
    press_on_gather: str | None = None
    press_delay: float = 0.3
    hang_up_after: float | None = None  # hang up this long after answering
    busy_when_on_call: bool = True
    receives_texts: bool = True

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")


class PhoneCall:
    """One call as the person on it lives it: what they heard, keys, hang-up, and waits.

    Every `timeout` here is in wall seconds.
    """

    def __init__(self, phone: Phone, leg: Leg) -> None:
        self.phone = phone
        self.leg = leg

    @property
    def sid(self) -> str:
        return self.leg.sid

    @property
    def status(self) -> str:
        return str(self.leg.status)

    @property
    def caller_id(self) -> str:
        """The number this phone saw (on a call it received) or dialed from."""
        return self.leg.from_

    @property
    def heard(self) -> list[str]:
        with self.phone.net.cond:
            return [h.text for h in self.leg.heard]

    def said(self) -> list[tuple[str, str, str]]:
        """Every <Say> heard so far: (text, voice, language)."""
        with self.phone.net.cond:
            return [(h.text, h.voice, h.language) for h in self.leg.heard if h.kind == "say"]

    def transcript(self) -> list[dict[str, Any]]:
        with self.phone.net.cond:
            return [{"what": h.kind, "text": h.text, "at": round(h.at, 3)} for h in self.leg.heard]

    def bridged_with(self) -> list[str]:
        """Numbers of the people this call is talking with right now."""
        return self._numbers(lambda room, leg: room.talking_with(leg))

    def heard_by(self) -> list[str]:
        """Numbers of the people who hear this call right now (bridged_with the other way: a
        coach hears the caller, who does not hear the coach)."""
        return self._numbers(lambda room, leg: room.listeners(leg))

    def _numbers(self, in_room: Callable[[Conference, Leg], list[Leg]]) -> list[str]:
        """The numbers of the legs bridged with this call, and of those `in_room` picks in its
        conference."""
        with self.phone.net.cond:
            legs = list(self.leg.bridged_with)
            if self.leg.conference is not None:
                legs += in_room(self.leg.conference, self.leg)
            return [leg.phone.number for leg in legs if leg.phone is not None]

    def mix(self) -> dict[str, Any]:
        """Who this call hears and is heard by, and its place in a conference: on hold, muted,
        or coaching someone (their number), as the room mixes it (model.Participant.hears)."""
        net = self.phone.net
        with net.cond:
            room = self.leg.conference
            me = room.participant(self.leg.sid) if room is not None else None
            coached = room.participant(me.call_sid_to_coach) if (
                room is not None and me is not None and me.coaching and me.call_sid_to_coach
            ) else None
            coaching = coached.leg.phone.number if coached and coached.leg.phone else None
            on_hold, muted = bool(me and me.hold), bool(me and me.muted)
        return {"hears": self.bridged_with(), "heard_by": self.heard_by(), "on_hold": on_hold,
                "muted": muted, "coaching": coaching}

    # -- actions -------------------------------------------------------------------------------

    def press(self, digits: str) -> None:
        net = self.phone.net
        for key in digits:
            with net.cond:
                leg = self.leg
                used = leg.gathering
                if used:
                    leg.digits.append(key)
                if leg.bridge is not None and leg.hangup_on_star and key == "*":
                    leg.bridge.ended = True
                room = leg.conference
                if room is not None and leg.hangup_on_star and key == "*":
                    me = next((p for p in room.participants if p.leg is leg), None)
                    if me is not None:
                        me.removed = True  # out of the room; the call goes on to the Dial action
                others = [o for o in leg.bridged_with if o.phone is not None]
                if room is not None:
                    others += [o for o in room.listeners(leg) if o.phone is not None]
                net.cond.notify_all()
            net.record.add("pressed", self.sid, number=self.phone.number, digit=key,
                           gathered=used)
            for other in others:
                self._deliver(other, "tone", key)

    def say(self, text: str) -> None:
        """Speak: whoever is bridged with this call hears `text`."""
        net = self.phone.net
        with net.cond:
            others = list(self.leg.bridged_with)
            if self.leg.conference is not None:
                others += self.leg.conference.listeners(self.leg)
        net.record.add("spoke", self.sid, number=self.phone.number, text=text)
        for other in others:
            self._deliver(other, "voice", text)

    def _deliver(self, other: Leg, kind: str, text: str) -> None:
        net = self.phone.net
        heard = Heard(kind, text, net.clock.elapsed())
        with net.cond:
            other.heard.append(heard)
            net.cond.notify_all()
        net.record.add("heard", other.sid, number=other.phone.number if other.phone else None,
                       what=kind, text=text, from_=self.phone.number)

    def hang_up(self) -> None:
        self.phone.net.hang_up(self.leg, self.phone.number)

    def answer(self) -> None:
        with self.phone.net.cond:
            self.leg.answer_requested = True
            self.phone.net.cond.notify_all()

    def decline(self) -> None:
        with self.phone.net.cond:
            self.leg.decline_requested = True
            self.phone.net.cond.notify_all()

    # -- waits ---------------------------------------------------------------------------------

    def _wait(self, predicate: Callable[[], Any], timeout: float, what: str) -> Any:
        try:
            return self.phone.net.record.wait_for(predicate, timeout)
        except TimeoutError:
            raise TimeoutError(f"{self.phone.number} {what} within {timeout} s; "
                               f"status {self.status}; heard {self.heard}") from None

    def wait_until_heard(self, text: str, timeout: float = 60.0) -> str:
        """Block until the person heard something containing `text`; returns it."""
        def found() -> str | None:
            return next((h for h in self.heard if text in h), None)

        result: str = self._wait(found, timeout, f"did not hear {text!r}")
        return result

    def wait_until_answered(self, timeout: float = 60.0) -> None:
        self._wait(lambda: self.leg.answered_mono is not None, timeout, "was not answered")

    def wait_until_bridged(self, timeout: float = 60.0) -> list[str]:
        result: list[str] = self._wait(self.bridged_with, timeout, "was not bridged")
        return result

    def wait_until_ended(self, timeout: float = 60.0) -> str:
        self._wait(lambda: self.leg.final, timeout, "did not end")
        return self.status


class Phone:
    """A simulated phone number: a caller, a texter, or a peer's mobile."""

    def __init__(self, net: Network, number: str, behaviour: Behaviour) -> None:
        self.net = net
        self.number = number
        self.behaviour = behaviour
        self.calls: list[PhoneCall] = []
        self.texts: list[Message] = []  # received
        self._rings_taken = 0

    # -- hooks the network calls ---------------------------------------------------------------

    def on_ring(self, leg: Leg) -> None:
        with self.net.cond:
            self.calls.append(PhoneCall(self, leg))
            self.net.cond.notify_all()

    def on_answered(self, leg: Leg) -> None:
        if self.behaviour.hang_up_after is not None:
            self.later(self.behaviour.hang_up_after, lambda: self.net.hang_up(leg, self.number))

    def on_heard(self, leg: Leg, heard: Heard) -> None:
        call = self.call_for(leg)
        for text, keys in self.behaviour.press.items():
            if text in heard.text:
                self.later(self.behaviour.press_delay, functools.partial(call.press, keys))

    def on_gather(self, leg: Leg) -> None:
        keys = self.behaviour.press_on_gather
        if keys and self.behaviour.mode != "voicemail":
            self.later(self.behaviour.press_delay, lambda: self.call_for(leg).press(keys))

    def on_call(self, ringing: Leg) -> bool:
        """Already talking on another answered call (then a second call finds it busy)."""
        with self.net.cond:
            return any(c.leg is not ringing and c.leg.answered_mono is not None
                       and not c.leg.final for c in self.calls)

    def deliver(self, message: Message) -> None:
        with self.net.cond:
            self.texts.append(message)
            self.net.cond.notify_all()
        self.net.record.add("text_received", None, number=self.number, from_=message.from_,
                            body=message.body, message_sid=message.sid)

    def later(self, seconds: float, action: Callable[[], None]) -> None:
        def run() -> None:
            time.sleep(self.net.clock.real(seconds))
            action()

        self.net.spawn(run, f"later-{self.number}")

    def call_for(self, leg: Leg) -> PhoneCall:
        with self.net.cond:
            return next((c for c in self.calls if c.leg is leg), PhoneCall(self, leg))

    # -- what the person does ------------------------------------------------------------------

    def dial(self, to: str, *, patience: float | None = None) -> PhoneCall:
        """Call `to` (a line's number); hang up after `patience` stand-in s if not bridged."""
        from warmline.standin.voice import Interpreter  # noqa: PLC0415 - import cycle

        net = self.net
        with net.cond:
            number = net.numbers.get(to)
        leg = net.new_leg(from_=self.number, to=to, direction="inbound", phone=self,
                          phone_number_sid=number.sid if number else None)
        call = PhoneCall(self, leg)
        with net.cond:
            self.calls.append(call)
            leg.status = CallStatus.RINGING
        net.record.add("dialed", leg.sid, number=self.number, to=to)
        if number is None or not number.voice_url:
            net.record.add("unreachable", leg.sid, to=to)
            net.finish(leg, CallStatus.FAILED)
            return call
        if number.status_callback:
            leg.status_callback = number.status_callback
            leg.status_callback_method = number.status_callback_method
        if number.voice_fallback_url:
            leg.fallback = Source(number.voice_fallback_url, number.voice_fallback_method)
        source = Source(number.voice_url, number.voice_method)
        net.spawn(lambda: Interpreter(net, leg).run(source), f"leg-{leg.sid}")
        if patience is not None:
            def give_up() -> None:
                if not call.bridged_with() and not leg.final:
                    net.hang_up(leg, "patience")

            self.later(patience, give_up)
        return call

    def text(self, to: str, body: str) -> Message:
        """Send a text to a line's number."""
        from warmline.standin.messaging import receive  # noqa: PLC0415 - import cycle

        return receive(self.net, self.number, to, body)

    def wait_for_ring(self, timeout: float = 60.0) -> PhoneCall:
        """The next call that rang this phone and was not handed out yet (wall seconds)."""
        def rung() -> PhoneCall | None:
            ringing = self.rang()
            return ringing[self._rings_taken] if len(ringing) > self._rings_taken else None

        try:
            call: PhoneCall = self.net.record.wait_for(rung, timeout)
        except TimeoutError:
            raise TimeoutError(f"{self.number} did not ring within {timeout} s") from None
        self._rings_taken += 1
        return call

    def rang(self) -> list[PhoneCall]:
        with self.net.cond:
            return [c for c in self.calls if c.leg.direction != "inbound"]

    def wait_for_text(self, contains: str = "", timeout: float = 60.0) -> Message:
        def found() -> Message | None:
            with self.net.cond:
                return next((m for m in self.texts if contains in m.body), None)

        try:
            message: Message = self.net.record.wait_for(found, timeout)
        except TimeoutError:
            bodies = [m.body for m in self.texts]
            raise TimeoutError(f"{self.number} got no text with {contains!r} within {timeout} s;"
                               f" got {bodies}") from None
        return message

    def to_json(self) -> dict[str, Any]:
        return {"number": self.number, "mode": self.behaviour.mode,
                "answer_after": self.behaviour.answer_after,
                "calls": [c.sid for c in self.calls],
                "texts": [{"from": m.from_, "body": m.body, "sid": m.sid} for m in self.texts]}
