"""The fixed vocabularies of DESIGN.md, as Enums stored by value."""

from __future__ import annotations

from enum import StrEnum


class Outcome(StrEnum):
    """How a contact ended; every contact ends in exactly one."""

    CONNECTED = "connected"
    CALLBACK_CONNECTED = "callback_connected"
    CALLBACK_FAILED = "callback_failed"
    TRANSFERRED_CRISIS = "transferred_crisis"
    TRANSFERRED_BACKUP = "transferred_backup"
    CLOSED_HOURS = "closed_hours"
    OVER_LIMIT = "over_limit"
    BLOCKED = "blocked"
    ABANDONED = "abandoned"
    OPTED_OUT = "opted_out"
    UNKNOWN_LINE = "unknown_line"


class Channel(StrEnum):
    VOICE = "voice"
    SMS = "sms"
    CHAT = "chat"


class Role(StrEnum):
    PEER = "peer"
    ADMIN = "admin"


class EventKind(StrEnum):
    """Every state change of a contact that the anonymized event log records."""

    ARRIVED = "arrived"
    MENU_CHOICE = "menu_choice"
    QUEUED = "queued"
    OFFERED = "offered"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    NO_ANSWER = "no_answer"
    BRIDGED = "bridged"
    CALLBACK_REQUESTED = "callback_requested"
    CALLBACK_ATTEMPTED = "callback_attempted"
    TRANSFERRED = "transferred"
    MENTOR_JOINED = "mentor_joined"  # detail: whether a shadowing session brought them
    MESSAGE_IN = "message_in"
    MESSAGE_OUT = "message_out"
    RISK_FLAGGED = "risk_flagged"
    ENDED = "ended"
    ABANDONED = "abandoned"


class CallbackStatus(StrEnum):
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    CONNECTED = "connected"
    FAILED = "failed"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
