"""Twilio's Conferences and Participants REST resources, in their shapes.

A participant added by REST is an outbound call whose TwiML is a `<Dial><Conference>` built from
the request, so it rings, joins and leaves exactly as one that dialed in.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable

from flask import Blueprint, Response, jsonify, request

from warmline.standin import conference as rooms
from warmline.standin.config import DEFAULT_CALL_TIMEOUT
from warmline.standin.model import Conference, Leg, Participant, Source, new_sid
from warmline.standin.network import Network
from warmline.standin.rest import CALL_EVENTS, E164, PREFIX, RestError, _form, _page, _valid_url

ROOM = f"{PREFIX}/Conferences/<sid>"
# Participant parameters -> the <Conference> attributes a REST-added participant joins with.
JOIN_ATTRIBUTES = {
    "StartConferenceOnEnter": "startConferenceOnEnter", "EndConferenceOnExit":
        "endConferenceOnExit", "Beep": "beep", "Muted": "muted", "WaitUrl": "waitUrl",
    "ConferenceStatusCallback": "statusCallback",
    "ConferenceStatusCallbackMethod": "statusCallbackMethod",
    "Label": "participantLabel",
}


def _boolean(name: str) -> bool | None:
    value = _form(name)
    if value is None:
        return None
    if value.lower() not in ("true", "false"):
        raise RestError(400, 21218, f"Invalid {name}: {value}")
    return value.lower() == "true"


def add_conference_routes(rest: Blueprint, net: Network,
                          start_call: Callable[[Leg, Source], None]) -> None:
    """Conferences (list by FriendlyName and Status, fetch, end, announce) and Participants
    (list, create with coaching, fetch, update hold/mute/coaching/announce, delete)."""

    def not_found() -> RestError:
        return RestError(404, 20404, f"The requested resource {request.path} was not found")

    def find_room(sid: str, *, by_name: bool = False) -> Conference:
        with net.cond:
            room = net.conferences_by_sid.get(sid) or (net.conferences.get(sid) if by_name
                                                       else None)
        if room is None:
            raise not_found()
        return room

    def find_participant(room: Conference, call_sid: str) -> Participant:
        with net.cond:
            participant = room.participant(call_sid)
        if participant is None:
            raise not_found()
        return participant

    def room_json(room: Conference) -> dict[str, object]:
        with net.cond:
            return room.to_json()

    @rest.get(f"{PREFIX}/Conferences.json")
    def list_conferences(account: str) -> Response:
        name, status = request.args.get("FriendlyName"), request.args.get("Status")
        with net.cond:
            found = sorted(net.conferences_by_sid.values(),
                           key=lambda room: room.date_created or 0, reverse=True)
            chosen = [room.to_json() for room in found
                      if (not name or room.name == name) and (not status or room.status == status)]
        return _page(chosen, "conferences", request.path)

    @rest.get(f"{ROOM}.json")
    def fetch_conference(account: str, sid: str) -> Response:
        return jsonify(room_json(find_room(sid)))

    @rest.post(f"{ROOM}.json")
    def update_conference(account: str, sid: str) -> Response:
        room = find_room(sid)
        status, announce = _form("Status"), _form("AnnounceUrl")
        if status is not None and status != "completed":
            raise RestError(400, 21218, f"Invalid Status: {status}")
        if announce is not None:
            if room.ended or not _valid_url(announce):
                raise RestError(400, 21205, f"Cannot announce {announce}")
            with net.cond:
                legs = [p.leg for p in room.participants]
            method = _form("AnnounceMethod") or "POST"
            net.spawn(lambda: rooms.announce(net, room, legs, announce, method),
                      f"announce-{room.sid}")
        if status == "completed":
            rooms.end(net, room)
        return jsonify(room_json(room))

    @rest.get(f"{ROOM}/Participants.json")
    def list_participants(account: str, sid: str) -> Response:
        room = find_room(sid)
        wanted = {key: request.args[key].lower() == "true"
                  for key in ("Muted", "Hold", "Coaching") if key in request.args}
        with net.cond:
            chosen = [p.to_json(room) for p in room.participants
                      if all(getattr(p, key.lower()) == value for key, value in wanted.items())]
        return _page(chosen, "participants", request.path)

    @rest.get(f"{ROOM}/Participants/<call_sid>.json")
    def fetch_participant(account: str, sid: str, call_sid: str) -> Response:
        room = find_room(sid)
        participant = find_participant(room, call_sid)
        with net.cond:
            return jsonify(participant.to_json(room))

    @rest.post(f"{ROOM}/Participants.json")
    def create_participant(account: str, sid: str) -> tuple[Response, int]:
        to, from_ = _form("To"), _form("From")
        if not to or not from_:
            raise RestError(400, 21201, "'To' and 'From' are required")
        if not E164.match(to) or not E164.match(from_):
            raise RestError(400, 21211, "Invalid phone number")
        with net.cond:
            line = net.numbers.get(from_)
        if line is None:
            raise RestError(400, 21210, f"The source phone number provided, {from_}, is not yet "
                                        "verified for your account.")
        coaching = _boolean("Coaching")
        if coaching and not _form("CallSidToCoach"):
            raise RestError(400, 21218, "CallSidToCoach is required when Coaching is true")
        events = {part for value in request.form.getlist("StatusCallbackEvent")
                  for part in value.replace(",", " ").split()}
        if events - CALL_EVENTS:
            raise RestError(400, 21626, f"Invalid StatusCallbackEvent: {sorted(events)}")
        room = _room_for(net, sid)
        dial = ET.Element("Dial")
        noun = ET.SubElement(dial, "Conference")
        noun.text = room.name
        for parameter, attribute in JOIN_ATTRIBUTES.items():
            if _form(parameter) is not None:
                noun.set(attribute, _form(parameter) or "")
        conference_events = request.form.getlist("ConferenceStatusCallbackEvent")
        if conference_events:
            noun.set("statusCallbackEvent", " ".join(conference_events))
        twiml = "<Response>" + ET.tostring(dial, encoding="unicode") + "</Response>"
        leg = net.new_leg(from_=from_, to=to, direction="outbound-api", phone=None,
                          phone_number_sid=line.sid)
        leg.timeout = min(max(float(_form("Timeout") or DEFAULT_CALL_TIMEOUT), 5.0), 600.0)
        leg.status_callback = _form("StatusCallback")
        leg.status_callback_method = _form("StatusCallbackMethod") or "POST"
        leg.status_events = frozenset(events or {"completed"})
        leg.joins_as = {key: value for key in ("Coaching", "CallSidToCoach", "Label")
                        if (value := _form(key) or "")}
        net.record.add("rest_participant_created", leg.sid, conference=room.name, to=to,
                       from_=from_, coaching=bool(coaching))
        with net.cond:
            body = Participant(leg, True, False, coaching=bool(coaching),
                               call_sid_to_coach=_form("CallSidToCoach"),
                               label=_form("Label"),
                               date_created=net.clock.utcnow()).to_json(room)
        body["status"] = "queued"
        start_call(leg, Source(twiml=twiml))
        return jsonify(body), 201

    @rest.post(f"{ROOM}/Participants/<call_sid>.json")
    def update_participant(account: str, sid: str, call_sid: str) -> Response:
        room = find_room(sid)
        participant = find_participant(room, call_sid)
        _update(net, room, participant)
        with net.cond:
            return jsonify(participant.to_json(room))

    @rest.delete(f"{ROOM}/Participants/<call_sid>.json")
    def delete_participant(account: str, sid: str, call_sid: str) -> tuple[str, int]:
        room = find_room(sid)
        participant = find_participant(room, call_sid)
        with net.cond:
            participant.removed = True
            net.cond.notify_all()
        net.record.add("rest_participant_removed", call_sid, conference=room.name)
        net.wait_quietly(lambda: participant not in room.participants, 2.0)
        return "", 204


def _room_for(net: Network, sid_or_name: str) -> Conference:
    """Participants create accepts a conference's sid or its FriendlyName (creating the room)."""
    with net.cond:
        room = net.conferences_by_sid.get(sid_or_name) or net.conferences.get(sid_or_name)
        if room is not None and not room.ended:
            return room
        if sid_or_name.startswith("CF") and sid_or_name in net.conferences_by_sid:
            raise RestError(400, 20404, "The conference has ended")
        room = Conference(new_sid("CF"), sid_or_name, account_sid=net.config.account_sid,
                          date_created=net.clock.utcnow())
        net.conferences[sid_or_name] = room
        net.conferences_by_sid[room.sid] = room
        return room


def _update(net: Network, room: Conference, participant: Participant) -> None:
    """Hold, Muted, Coaching/CallSidToCoach, EndConferenceOnExit, BeepOnExit, AnnounceUrl."""
    hold, muted, coaching = _boolean("Hold"), _boolean("Muted"), _boolean("Coaching")
    end_on_exit, beep_on_exit = _boolean("EndConferenceOnExit"), _boolean("BeepOnExit")
    coach_target = _form("CallSidToCoach")
    if coaching and not (coach_target or participant.call_sid_to_coach):
        raise RestError(400, 21218, "CallSidToCoach is required when Coaching is true")
    events: list[str] = []
    with net.cond:
        if hold is not None and hold != participant.hold:
            participant.hold = hold
            participant.hold_url = _form("HoldUrl") or participant.hold_url
            events.append("participant-hold" if hold else "participant-unhold")
        if muted is not None and muted != participant.muted:
            participant.muted = muted
            events.append("participant-mute" if muted else "participant-unmute")
        if coaching is not None or coach_target is not None:
            participant.coaching = participant.coaching if coaching is None else coaching
            participant.call_sid_to_coach = coach_target or participant.call_sid_to_coach
            events.append("participant-modify")
        if end_on_exit is not None:
            participant.end_on_exit = end_on_exit
        if beep_on_exit is not None:
            participant.beep = "onExit" if beep_on_exit else "false"
        participant.date_updated = net.clock.utcnow()
        net.cond.notify_all()
    net.record.add("rest_participant_updated", participant.leg.sid, conference=room.name,
                   hold=participant.hold, muted=participant.muted,
                   coaching=participant.coaching, end_on_exit=participant.end_on_exit)
    if hold:
        rooms.hear(net, participant.leg, "play", participant.hold_url or rooms.DEFAULT_HOLD_MUSIC)
    for event in events:
        rooms.send_event(net, room, event, participant)
    announce = _form("AnnounceUrl")
    if announce is not None:
        if not _valid_url(announce):
            raise RestError(400, 21205, f"AnnounceUrl is not a valid URL: {announce}")
        method = _form("AnnounceMethod") or "POST"
        net.spawn(lambda: rooms.announce(net, room, [participant.leg], announce, method),
                  f"announce-{participant.leg.sid}")
