"""`<Dial><Conference>`: named rooms, their participants, and their status callbacks.

A room starts when a participant with `startConferenceOnEnter` is in, and ends when a participant
with `endConferenceOnExit` leaves, when the last one leaves, or by REST. Who hears whom follows
Twilio's mix: a held participant hears hold music and nobody hears them, a muted one is heard by
nobody, a coach (`coaching` with `callSidToCoach`) is heard only by the participant coached.
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from warmline.standin.model import Conference, Leg, Participant, new_sid
from warmline.standin.network import LegGone, Network
from warmline.standin.voice import Doc, Interpreter

DEFAULT_WAIT_MUSIC = "http://twimlets.com/holdmusic?Bucket=com.twilio.music.classical"
DEFAULT_HOLD_MUSIC = DEFAULT_WAIT_MUSIC
# statusCallbackEvent values -> the StatusCallbackEvent names Twilio sends for them.
EVENT_NAMES = {
    "start": ("conference-start",), "end": ("conference-end",),
    "join": ("participant-join",), "leave": ("participant-leave",),
    "mute": ("participant-mute", "participant-unmute"),
    "hold": ("participant-hold", "participant-unhold"),
    "modify": ("participant-modify",), "speaker": ("participant-speech-start",
                                                   "participant-speech-stop"),
    "announcement": ("announcement-end", "announcement-fail"),
}
CONFERENCE_EVENTS = frozenset(EVENT_NAMES)
DEFAULT_EVENTS = frozenset({"start", "end"})


@dataclass
class Stay:
    """How a participant's stay ended: stand-in seconds in the room, and whether the leg is gone."""

    seconds: int
    gone: bool


def parse_events(value: str | None) -> frozenset[str]:
    return frozenset((value or "").replace(",", " ").split()) if value else DEFAULT_EVENTS


def _truthy(value: str | None, default: bool) -> bool:
    return default if value is None else value.lower() == "true"


def join(it: Interpreter, noun: ET.Element, doc: Doc, time_limit: float) -> Stay:
    """Join the named room until it ends, this participant is removed, or the leg goes."""
    net, leg = it.net, it.leg
    name = (noun.text or "").strip()
    extra, leg.joins_as = leg.joins_as, {}
    now = net.clock.utcnow()
    participant = Participant(
        leg, _truthy(noun.get("startConferenceOnEnter"), True),
        _truthy(noun.get("endConferenceOnExit"), False), beep=noun.get("beep", "true"),
        muted=_truthy(noun.get("muted"), False),
        coaching=_truthy(extra.get("Coaching"), False),
        call_sid_to_coach=extra.get("CallSidToCoach") or None,
        label=noun.get("participantLabel") or extra.get("Label"), date_created=now)
    with net.cond:
        room = net.conferences.get(name)
        if room is None or room.ended:
            room = Conference(new_sid("CF"), name, account_sid=net.config.account_sid,
                              date_created=now)
            net.conferences[name] = room
            net.conferences_by_sid[room.sid] = room
        if room.status_callback is None and noun.get("statusCallback"):
            room.status_callback = doc.resolve(noun.get("statusCallback", ""))
            room.status_callback_method = noun.get("statusCallbackMethod", "POST")
            room.status_events = parse_events(noun.get("statusCallbackEvent"))
        others = [p.leg for p in room.participants]
        room.participants.append(participant)
        leg.conference = room
        starting = participant.start_on_enter and not room.started
        room.started = room.started or participant.start_on_enter
        net.cond.notify_all()
    joined = time.monotonic()
    net.record.add("conference_joined", leg.sid, conference=name, number=_person(leg),
                   participants=[_person(p.leg) for p in room.participants],
                   coaching=participant.coaching)
    send_event(net, room, "participant-join", participant)
    if starting:
        send_event(net, room, "conference-start")
    if participant.beep in ("true", "onEnter") and room.started:
        for other in others:
            hear(net, other, "tone", "beep")
    if not room.started:
        wait_url = noun.get("waitUrl")
        it.hear("play", doc.resolve(wait_url) if wait_url else DEFAULT_WAIT_MUSIC)
    gone = False
    try:
        net.wait(leg, time_limit, lambda: room.ended or participant.removed)
    except LegGone:
        gone = True
    finally:
        leave(net, room, participant)
    return Stay(round((time.monotonic() - joined) * net.clock.speed), gone)


def leave(net: Network, room: Conference, participant: Participant) -> None:
    """Take a participant out; the room ends with them if they end it, or if nobody is left."""
    leg = participant.leg
    with net.cond:
        if participant not in room.participants:
            return
        room.participants = [p for p in room.participants if p is not participant]
        leg.conference = None
        ends = not room.ended and (participant.end_on_exit or not room.participants)
        if ends:
            room.ended = True
            room.reason_ended = ("participant-with-end-conference-on-exit-left"
                                 if participant.end_on_exit else "last-participant-left")
            room.call_sid_ending = leg.sid
            room.date_updated = net.clock.utcnow()
        others = [p.leg for p in room.participants]
        net.cond.notify_all()
    net.record.add("conference_left", leg.sid, conference=room.name, number=_person(leg))
    send_event(net, room, "participant-leave", participant)
    if ends:
        net.record.add("conference_ended", None, conference=room.name, reason=room.reason_ended)
        send_event(net, room, "conference-end")
    elif participant.beep in ("true", "onExit"):
        for other in others:
            hear(net, other, "tone", "beep")


def end(net: Network, room: Conference) -> None:
    """`Status=completed` by REST: everyone leaves and the room is over."""
    with net.cond:
        if room.ended:
            return
        room.ended = True
        room.reason_ended = "conference-ended-via-api"
        room.date_updated = net.clock.utcnow()
        net.cond.notify_all()
    net.record.add("conference_ended", None, conference=room.name, reason=room.reason_ended)
    send_event(net, room, "conference-end")


def hear(net: Network, leg: Leg, kind: str, text: str) -> None:
    """Something a participant hears from the room itself (beeps, hold music, announcements)."""
    Interpreter(net, leg).hear(kind, text)


def announce(net: Network, room: Conference, legs: list[Leg], url: str, method: str) -> None:
    """Fetch `url`'s TwiML and play its `<Say>` and `<Play>` to `legs` (AnnounceUrl)."""
    params = {"AccountSid": room.account_sid, "ConferenceSid": room.sid,
              "FriendlyName": room.name}
    answer = net.webhooks.request(url, method, params, net.config.webhook_deadline,
                                  purpose="announce", call_sid=None)
    try:
        root = ET.fromstring(answer.body) if answer.status == 200 else None  # noqa: S314
    except ET.ParseError:
        root = None
    event = "announcement-end" if root is not None else "announcement-fail"
    for element in list(root) if root is not None else []:
        words = " ".join("".join(element.itertext()).split())
        for leg in legs:
            hear(net, leg, "say" if element.tag == "Say" else "play", words)
    send_event(net, room, event)


def send_event(net: Network, room: Conference, event: str,
               participant: Participant | None = None) -> None:
    """A conference status callback, signed and sent one after another for the room."""
    wanted = next((key for key, names in EVENT_NAMES.items() if event in names), None)
    if room.status_callback is None or wanted not in room.status_events:
        return
    with net.cond:
        params = {"AccountSid": room.account_sid, "ConferenceSid": room.sid,
                  "FriendlyName": room.name, "StatusCallbackEvent": event,
                  "SequenceNumber": str(room.sequence),
                  "Timestamp": net.clock.utcnow().strftime("%a, %d %b %Y %H:%M:%S +0000")}
        room.sequence += 1
        if participant is not None:
            params.update({
                "CallSid": participant.leg.sid, "Muted": _flag(participant.muted),
                "Hold": _flag(participant.hold), "Coaching": _flag(participant.coaching),
                "EndConferenceOnExit": _flag(participant.end_on_exit),
                "StartConferenceOnEnter": _flag(participant.start_on_enter),
            })
            if participant.call_sid_to_coach:
                params["CallSidToCoach"] = participant.call_sid_to_coach
            if participant.label:
                params["ParticipantLabel"] = participant.label
        if event == "conference-end":
            params["ReasonConferenceEnded"] = room.reason_ended or "last-participant-left"
            if room.call_sid_ending:
                params["CallSidEndingConference"] = room.call_sid_ending
    net.deliver_resource_callback(room.sid, room.status_callback, room.status_callback_method,
                                  params, final=room.ended)


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _person(leg: Leg) -> str | None:
    return leg.phone.number if leg.phone else None
