"""The stand-in's resources: call legs, messages, numbers, queues, bridges and conferences."""

from __future__ import annotations

import secrets
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from warmline.standin.people import Phone

API_VERSION = "2010-04-01"


def new_sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


def rfc2822(moment: datetime | None) -> str | None:
    """Twilio's date format: `Tue, 31 Aug 2010 20:36:28 +0000`."""
    return format_datetime(moment) if moment else None


class CallStatus(StrEnum):
    QUEUED = "queued"
    RINGING = "ringing"
    IN_PROGRESS = "in-progress"
    COMPLETED = "completed"
    BUSY = "busy"
    FAILED = "failed"
    NO_ANSWER = "no-answer"
    CANCELED = "canceled"


FINAL_STATUSES = frozenset({CallStatus.COMPLETED, CallStatus.BUSY, CallStatus.FAILED,
                            CallStatus.NO_ANSWER, CallStatus.CANCELED})


@dataclass(frozen=True)
class Source:
    """Where a leg's next TwiML comes from: a URL to request, or TwiML given inline."""

    url: str | None = None
    method: str = "POST"
    twiml: str | None = None
    params: tuple[tuple[str, str], ...] = ()  # extra request parameters (Digits, DialCallStatus...)


@dataclass(frozen=True)
class Heard:
    """Something the person on a leg heard: spoken text, audio, a tone, or the other side."""

    kind: str  # say | play | voice | tone | digits
    text: str
    at: float
    # For `say`: the <Say> voice and language it was read with, as Twilio would read it.
    voice: str = ""
    language: str = ""


@dataclass(eq=False)
class Bridge:
    """Two or more legs that hear each other until one of them leaves."""

    legs: list[Leg]
    ended: bool = False
    started_at: float = 0.0


@dataclass(eq=False)
class Leg:
    """One call leg, as Twilio's Call resource and as the live line to a simulated person."""

    sid: str
    account_sid: str
    from_: str
    to: str
    direction: str  # inbound | outbound-api | outbound-dial
    phone: Phone | None = None  # the simulated person at the far end
    parent_sid: str | None = None
    phone_number_sid: str | None = None
    status: CallStatus = CallStatus.QUEUED
    date_created: datetime | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    answered_mono: float | None = None
    ended_mono: float | None = None
    answered_by: str | None = None
    # What the person and the REST API ask of the leg; read by the leg's own thread.
    hung_up: bool = False
    hung_up_by: str = ""
    terminate_status: CallStatus | None = None
    redirect: Source | None = None
    answer_requested: bool = False
    decline_requested: bool = False
    digits: deque[str] = field(default_factory=deque)
    gathering: bool = False
    bridge: Bridge | None = None
    hangup_on_star: bool = False
    queue: Queue | None = None
    dequeue: Dequeue | None = None
    conference: Conference | None = None
    # Participant settings a REST-created participant joins with (coaching, label...).
    joins_as: dict[str, str] = field(default_factory=dict)
    heard: list[Heard] = field(default_factory=list)
    status_callback: str | None = None
    status_callback_method: str = "POST"
    status_events: frozenset[str] = frozenset({"completed"})
    sequence: int = 0
    fallback: Source | None = None
    machine_detection: str | None = None
    async_amd: bool = False
    async_amd_callback: str | None = None
    timeout: float = 60.0
    callback_buffer: list[dict[str, str]] = field(default_factory=list)

    @property
    def final(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def bridged_with(self) -> list[Leg]:
        return [leg for leg in self.bridge.legs if leg is not self] if self.bridge else []

    def duration(self, now_mono: float) -> int:
        if self.answered_mono is None:
            return 0
        return round((self.ended_mono or now_mono) - self.answered_mono)

    def to_json(self, now_mono: float, speed: float) -> dict[str, Any]:
        base = f"/{API_VERSION}/Accounts/{self.account_sid}/Calls/{self.sid}"
        duration = self.duration(now_mono) * speed if self.final else None
        return {
            "sid": self.sid, "account_sid": self.account_sid, "api_version": API_VERSION,
            "date_created": rfc2822(self.date_created), "date_updated": rfc2822(self.end_time
                                                                               or self.start_time
                                                                               or self.date_created),
            "parent_call_sid": self.parent_sid, "to": self.to, "to_formatted": self.to,
            "from": self.from_, "from_formatted": self.from_,
            "phone_number_sid": self.phone_number_sid, "status": str(self.status),
            "start_time": rfc2822(self.start_time), "end_time": rfc2822(self.end_time),
            "duration": str(int(duration)) if duration is not None else None,
            "price": None, "price_unit": "USD", "direction": self.direction,
            "answered_by": self.answered_by, "forwarded_from": None, "group_sid": None,
            "caller_name": None, "queue_time": "0", "trunk_sid": None,
            "uri": base + ".json",
            "subresource_uris": {
                "notifications": base + "/Notifications.json",
                "recordings": base + "/Recordings.json",
                "payments": base + "/Payments.json", "events": base + "/Events.json",
                "siprec": base + "/Siprec.json", "streams": base + "/Streams.json",
                "user_defined_message_subscriptions":
                    base + "/UserDefinedMessageSubscriptions.json",
                "user_defined_messages": base + "/UserDefinedMessages.json",
            },
        }


@dataclass(eq=False)
class Dequeue:
    """A dequeuer's claim on a queued leg: the queued leg's thread plays `url`, then bridges."""

    by: Leg
    url: str | None
    method: str
    bridge: Bridge
    seen: bool = False  # the queued leg's thread has taken notice
    ready: bool = False  # the queued leg heard the url TwiML and is in the bridge


@dataclass(eq=False)
class QueueMember:
    leg: Leg
    entered_mono: float


@dataclass(eq=False)
class Queue:
    """A named call queue (`<Enqueue>name</Enqueue>`), first in first out."""

    sid: str
    name: str
    max_size: int = 1000
    members: list[QueueMember] = field(default_factory=list)
    waited: list[float] = field(default_factory=list)  # stand-in seconds of past waits

    def position(self, leg: Leg) -> int:
        for index, member in enumerate(self.members):
            if member.leg is leg:
                return index + 1
        return 0

    def average_wait(self) -> int:
        return int(sum(self.waited) / len(self.waited)) if self.waited else 0


@dataclass(eq=False)
class Participant:
    """One call leg in a conference, with what Twilio's Participants resource can change."""

    leg: Leg
    start_on_enter: bool
    end_on_exit: bool
    beep: str = "true"  # true | false | onEnter | onExit
    muted: bool = False
    hold: bool = False
    hold_url: str | None = None
    coaching: bool = False
    call_sid_to_coach: str | None = None
    label: str | None = None
    removed: bool = False  # Participants DELETE or `*` with hangupOnStar: out, the call goes on
    date_created: datetime | None = None
    date_updated: datetime | None = None

    def hears(self, speaker: Participant) -> bool:
        """Whether this participant hears `speaker` (hold, mute and coaching as Twilio mixes)."""
        if speaker is self or self.hold or speaker.hold or speaker.muted:
            return False
        if speaker.coaching:
            return speaker.call_sid_to_coach == self.leg.sid
        return True

    def to_json(self, conference: Conference) -> dict[str, Any]:
        base = (f"/{API_VERSION}/Accounts/{conference.account_sid}/Conferences/"
                f"{conference.sid}/Participants/{self.leg.sid}.json")
        status = "complete" if self.leg.final or self.removed else "connected"
        return {
            "account_sid": conference.account_sid, "call_sid": self.leg.sid,
            "label": self.label, "call_sid_to_coach": self.call_sid_to_coach,
            "coaching": self.coaching, "conference_sid": conference.sid,
            "date_created": rfc2822(self.date_created),
            "date_updated": rfc2822(self.date_updated or self.date_created),
            "end_conference_on_exit": self.end_on_exit, "muted": self.muted, "hold": self.hold,
            "start_conference_on_enter": self.start_on_enter, "status": status,
            "queue_time": None, "uri": base,
        }


@dataclass(eq=False)
class Conference:
    """A named room: started once a participant with `startConferenceOnEnter` is in."""

    sid: str
    name: str
    account_sid: str = ""
    participants: list[Participant] = field(default_factory=list)
    started: bool = False
    ended: bool = False
    status_callback: str | None = None
    status_callback_method: str = "POST"
    status_events: frozenset[str] = frozenset()
    sequence: int = 0
    date_created: datetime | None = None
    date_updated: datetime | None = None
    reason_ended: str | None = None
    call_sid_ending: str | None = None

    @property
    def status(self) -> str:
        return "completed" if self.ended else "in-progress" if self.started else "init"

    def participant(self, call_sid: str) -> Participant | None:
        return next((p for p in self.participants if p.leg.sid == call_sid), None)

    def listeners(self, speaker: Leg) -> list[Leg]:
        """The legs that hear `speaker` right now."""
        who = next((p for p in self.participants if p.leg is speaker), None)
        if who is None or not self.started:
            return []
        return [p.leg for p in self.participants if p.hears(who)]

    def talking_with(self, leg: Leg) -> list[Leg]:
        """The legs `leg` hears right now (a coach is heard only by the one coached)."""
        me = next((p for p in self.participants if p.leg is leg), None)
        if me is None or not self.started:
            return []
        return [p.leg for p in self.participants if me.hears(p)]

    def to_json(self) -> dict[str, Any]:
        base = f"/{API_VERSION}/Accounts/{self.account_sid}/Conferences/{self.sid}"
        return {
            "account_sid": self.account_sid, "api_version": API_VERSION,
            "date_created": rfc2822(self.date_created),
            "date_updated": rfc2822(self.date_updated or self.date_created),
            "friendly_name": self.name, "region": "us1", "sid": self.sid, "status": self.status,
            "uri": base + ".json",
            "subresource_uris": {"participants": base + "/Participants.json",
                                 "recordings": base + "/Recordings.json"},
            "reason_conference_ended": self.reason_ended,
            "call_sid_ending_conference": self.call_sid_ending,
        }


@dataclass(eq=False)
class IncomingNumber:
    """An IncomingPhoneNumber of the account: where its calls and texts are sent."""

    sid: str
    account_sid: str
    phone_number: str
    friendly_name: str
    voice_url: str | None = None
    voice_method: str = "POST"
    voice_fallback_url: str | None = None
    voice_fallback_method: str = "POST"
    sms_url: str | None = None
    sms_method: str = "POST"
    sms_fallback_url: str | None = None
    sms_fallback_method: str = "POST"
    status_callback: str | None = None
    status_callback_method: str = "POST"
    date_created: datetime | None = None
    date_updated: datetime | None = None

    FIELDS = {  # noqa: RUF012 - REST parameter -> attribute
        "FriendlyName": "friendly_name", "VoiceUrl": "voice_url", "VoiceMethod": "voice_method",
        "VoiceFallbackUrl": "voice_fallback_url", "VoiceFallbackMethod": "voice_fallback_method",
        "SmsUrl": "sms_url", "SmsMethod": "sms_method", "SmsFallbackUrl": "sms_fallback_url",
        "SmsFallbackMethod": "sms_fallback_method", "StatusCallback": "status_callback",
        "StatusCallbackMethod": "status_callback_method",
    }

    def to_json(self) -> dict[str, Any]:
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/IncomingPhoneNumbers/{self.sid}.json"
        return {
            "sid": self.sid, "account_sid": self.account_sid, "api_version": API_VERSION,
            "phone_number": self.phone_number, "friendly_name": self.friendly_name,
            "voice_url": self.voice_url, "voice_method": self.voice_method,
            "voice_fallback_url": self.voice_fallback_url,
            "voice_fallback_method": self.voice_fallback_method,
            "voice_caller_id_lookup": False, "voice_application_sid": None,
            "voice_receive_mode": "voice",
            "sms_url": self.sms_url, "sms_method": self.sms_method,
            "sms_fallback_url": self.sms_fallback_url,
            "sms_fallback_method": self.sms_fallback_method, "sms_application_sid": None,
            "status_callback": self.status_callback,
            "status_callback_method": self.status_callback_method,
            "capabilities": {"voice": True, "sms": True, "mms": False, "fax": False},
            "date_created": rfc2822(self.date_created), "date_updated": rfc2822(self.date_updated),
            "address_sid": None, "address_requirements": "none", "beta": False,
            "identity_sid": None, "origin": "twilio", "trunk_sid": None,
            "emergency_status": "Inactive", "emergency_address_sid": None,
            "emergency_address_status": "unregistered", "bundle_sid": None,
            "status": "in-use", "type": "local", "uri": uri,
        }


GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà^{}\\[~]|€"
)


def segments(body: str) -> int:
    """SMS parts: 160 GSM-7 characters (153 when split) or 70 UCS-2 (67)."""
    single, part = (160, 153) if set(body) <= GSM7 else (70, 67)
    if len(body) <= single:
        return 1
    return -(-len(body) // part)


@dataclass(eq=False)
class Message:
    """A Message resource: one text, inbound or outbound."""

    sid: str
    account_sid: str
    from_: str
    to: str
    body: str
    direction: str  # inbound | outbound-api | outbound-reply
    status: str = "queued"
    status_callback: str | None = None
    error_code: int | None = None
    error_message: str | None = None
    date_created: datetime | None = None
    date_sent: datetime | None = None
    date_updated: datetime | None = None
    num_segments: int = 1

    def to_json(self) -> dict[str, Any]:
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{self.sid}"
        return {
            "sid": self.sid, "account_sid": self.account_sid, "api_version": API_VERSION,
            "body": self.body, "num_segments": str(self.num_segments), "num_media": "0",
            "direction": self.direction, "from": self.from_, "to": self.to,
            "status": self.status, "messaging_service_sid": None,
            "error_code": self.error_code, "error_message": self.error_message,
            "price": None, "price_unit": "USD",
            "date_created": rfc2822(self.date_created), "date_sent": rfc2822(self.date_sent),
            "date_updated": rfc2822(self.date_updated), "uri": uri + ".json",
            "subresource_uris": {"media": uri + "/Media.json", "feedback": uri + "/Feedback.json"},
        }
