"""The roster file's shape: its settings' ranges and defaults, and the validated, typed result.

Semantics the validator and importer hold to (README "Roster file"):

* Lines, experiences and peers are keyed by line number, experience key and peer email
  (emails are compared in lower case). A setting left out takes its default below, so a line's
  entry in the file is the whole truth about that line.
* A shift's ``line`` must be a line of the same file: importing replaces every named line's
  shifts with the file's, so a shift on a line the file does not describe would have no clear
  meaning. A shift's ``peer`` and a peer's ``experiences`` may name rows of the file or rows
  already in the database.
* A shift's ``end`` is a local time of day; earlier than or equal to the start's time means the
  next day, so ``end`` equal to the start is a 24-hour shift (as in the schedule domain).
* An opening's ``close`` earlier than or equal to its ``open`` runs past midnight; leave
  ``hours`` out for a line open 24/7.
* Digits and keywords are unique among active experiences (file and database together, unless
  ``--prune`` deactivates the database's others); an inactive one is in no menu and may share.
* Each peer has a dashboard sign-in (a ``users`` row) with the peer's email, role and active
  flag; importing never touches its password.
* ``--prune`` deactivates lines, experiences and peers (and their sign-ins) the file does not
  name; it never deletes, and leaves their shifts alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time

ROSTER_VERSION = 1


@dataclass(frozen=True)
class IntSetting:
    """An integer setting with its documented range (inclusive) and its default."""

    name: str
    low: int
    high: int
    default: int


# A wait under 30 s gives no peer time to answer; over an hour is the endless hold we promise
# never to do. A call reminder under 5 minutes would interrupt every call.
MAX_WAIT_SECONDS = IntSetting("max_wait_seconds", 30, 3600, 600)
MAX_CALL_MINUTES = IntSetting("max_call_minutes", 5, 240, 30)
DAILY_CONTACT_LIMIT = IntSetting("daily_contact_limit", 0, 50, 3)  # 0 = no limit
WRAP_UP_SECONDS = IntSetting("wrap_up_seconds", 0, 1800, 90)
RETENTION_DAYS = IntSetting("retention_days", 1, 3650, 90)
MAX_TEXTS = IntSetting("max_texts", 1, 10, 2)
# Contacts in a row without a break; then the peer is offered nothing until they take one.
BACK_TO_BACK_LIMIT = IntSetting("back_to_back_limit", 0, 50, 0)  # 0 = no limit
# Flood protection: calls from one caller in 10 minutes, calls to the line in one minute.
FLOOD_CALLER_LIMIT = IntSetting("flood_caller_limit", 0, 100, 0)  # 0 = off
FLOOD_LINE_LIMIT = IntSetting("flood_line_limit", 0, 10_000, 0)  # 0 = off
LINE_INT_SETTINGS = (
    MAX_WAIT_SECONDS, MAX_CALL_MINUTES, DAILY_CONTACT_LIMIT, WRAP_UP_SECONDS, RETENTION_DAYS,
    BACK_TO_BACK_LIMIT, FLOOD_CALLER_LIMIT, FLOOD_LINE_LIMIT,
)

DEFAULT_LANGUAGES = ("en",)
DEFAULT_CHANNELS = ("voice", "sms")
DEFAULT_ROLE = "peer"
DEFAULT_CALLBACKS = True
DEFAULT_SHARE_PEER_FIRST_NAME = False
DEFAULT_CALLS_WHILE_TEXTING = False
DEFAULT_SWAP_APPROVAL = False  # a taken open shift needs an admin's yes before the roster changes

# 0 is "anyone" and 9 the crisis line on the keypad menu; an experience has no default digit.
DIGIT = IntSetting("digit", 1, 8, 0)
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CHANNELS = ("voice", "sms")
ROLES = ("peer", "admin")
NAME_MAX = 120
LABEL_MAX = 120
GREETING_MAX = 1000
# The resources a caller may ask for by text after a call: one text of a few segments.
RESOURCES_MAX = 480
DEFAULT_SURVEY = False  # the one anonymous keypad question after a call
NOTE_MAX = 500
KEYWORD_MAX = 20
EXPERIENCE_KEY_MAX = 40
EMAIL_MAX = 254

# Words a texter's message is matched against before any experience keyword: carrier opt-out
# and opt-in words, HELP and DELETE, peer commands, and the waiting texter's own choices.
RESERVED_KEYWORDS = frozenset({
    "STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT",
    "START", "UNSTOP", "HELP", "DELETE", "ON", "OFF", "BREAK", "STATUS",
    "ANY", "WAIT", "CALLBACK", "YES", "NO",
})

# The keys each entry may have, in the order the exporter writes them (the example's order).
LINE_KEYS = (
    "number", "name", "active", "timezone", "languages", "hours", "closed_dates",
    "crisis_number", "backup_number", "max_wait_seconds", "max_call_minutes",
    "daily_contact_limit", "wrap_up_seconds", "callbacks", "share_peer_first_name",
    "calls_while_texting", "retention_days", "greeting", "back_to_back_limit", "service_target",
    "survey", "chat", "resources", "flood_caller_limit", "flood_line_limit", "swap_approval",
)
SERVICE_TARGET_KEYS = ("answer_within_seconds", "share")
CHAT_KEYS = ("origins",)
# Pages allowed to embed a line's chat widget; a handful per line is plenty.
CHAT_ORIGINS_MAX = 20
# What the staffing planner plans for when a line names no target: 80% answered within a minute.
TARGET_ANSWER_SECONDS = IntSetting("answer_within_seconds", 1, 3600, 60)
DEFAULT_TARGET_SHARE = 0.8
OPENING_KEYS = ("days", "open", "close")
EXPERIENCE_KEYS = ("key", "label", "digit", "keyword", "labels", "active")
PEER_KEYS = (
    "email", "name", "phone", "experiences", "languages", "channels", "max_texts", "role",
    "active", "mentor",
)
SHIFT_KEYS = ("peer", "line", "start", "end", "repeat", "skip", "note")
TOP_KEYS = ("version", "lines", "experiences", "peers", "shifts")


@dataclass(frozen=True)
class Opening:
    """When a line opens on some weekdays; ``close`` <= ``open`` runs past midnight."""

    days: tuple[str, ...]
    open: time
    close: time


@dataclass(frozen=True)
class RosterLine:
    number: str
    name: str
    timezone: str
    active: bool = True
    languages: tuple[str, ...] = DEFAULT_LANGUAGES
    hours: tuple[Opening, ...] = ()  # empty: open 24/7
    closed_dates: tuple[date, ...] = ()
    crisis_number: str | None = None
    backup_number: str | None = None
    max_wait_seconds: int = MAX_WAIT_SECONDS.default
    max_call_minutes: int = MAX_CALL_MINUTES.default
    daily_contact_limit: int = DAILY_CONTACT_LIMIT.default
    wrap_up_seconds: int = WRAP_UP_SECONDS.default
    callbacks: bool = DEFAULT_CALLBACKS
    share_peer_first_name: bool = DEFAULT_SHARE_PEER_FIRST_NAME
    calls_while_texting: bool = DEFAULT_CALLS_WHILE_TEXTING
    retention_days: int = RETENTION_DAYS.default
    greeting: Mapping[str, str] = field(default_factory=dict)
    back_to_back_limit: int = BACK_TO_BACK_LIMIT.default
    flood_caller_limit: int = FLOOD_CALLER_LIMIT.default
    flood_line_limit: int = FLOOD_LINE_LIMIT.default
    swap_approval: bool = DEFAULT_SWAP_APPROVAL
    target_answer_seconds: int = TARGET_ANSWER_SECONDS.default  # service_target.answer_within_seconds
    target_share: float = DEFAULT_TARGET_SHARE  # service_target.share
    # chat.origins: the web origins allowed to embed the chat widget; empty means no chat.
    chat_origins: tuple[str, ...] = ()
    survey: bool = DEFAULT_SURVEY
    # Per language: the text sent after a call when the caller says yes; empty means none.
    resources: Mapping[str, str] = field(default_factory=dict)


# The roster line's fields that are Line columns of the same name and value, in both directions
# (the importer writes them, the exporter reads them back); `LINE_CONVERTED_FIELDS` change shape
# on the way (tuples and dates in the roster, lists and strings in the row).
LINE_COLUMNS: tuple[str, ...] = (
    "number", "name", "active", "timezone", "crisis_number", "backup_number", "max_wait_seconds",
    "max_call_minutes", "daily_contact_limit", "wrap_up_seconds", "callbacks",
    "share_peer_first_name", "calls_while_texting", "retention_days", "back_to_back_limit",
    "flood_caller_limit", "flood_line_limit", "swap_approval", "target_answer_seconds",
    "target_share", "survey",
)
LINE_CONVERTED_FIELDS: tuple[str, ...] = (
    "languages", "hours", "closed_dates", "greeting", "chat_origins", "resources",
)


@dataclass(frozen=True)
class RosterExperience:
    key: str
    label: str
    digit: int
    keyword: str
    labels: Mapping[str, str] = field(default_factory=dict)
    active: bool = True


@dataclass(frozen=True)
class RosterPeer:
    email: str
    name: str
    phone: str  # E.164, in clear only in the admin's file and in memory
    experiences: tuple[str, ...] = ()
    languages: tuple[str, ...] = DEFAULT_LANGUAGES
    channels: tuple[str, ...] = DEFAULT_CHANNELS
    max_texts: int = MAX_TEXTS.default
    role: str = DEFAULT_ROLE
    active: bool = True
    mentor: bool = False  # may be asked to join a call to support a peer (coaching first)


@dataclass(frozen=True)
class RosterShift:
    peer: str  # email
    line: str  # number
    start: datetime  # naive, the line's local time
    end: time  # local; <= start's time means the next day
    repeat: str | None = None  # RRULE without DTSTART; None for a one-off
    skip: tuple[date, ...] = ()  # sorted, distinct
    note: str | None = None


@dataclass(frozen=True)
class Roster:
    lines: tuple[RosterLine, ...] = ()
    experiences: tuple[RosterExperience, ...] = ()
    peers: tuple[RosterPeer, ...] = ()
    shifts: tuple[RosterShift, ...] = ()
    version: int = ROSTER_VERSION


@dataclass(frozen=True)
class ExistingExperience:
    digit: int
    keyword: str
    active: bool


@dataclass(frozen=True)
class ExistingRows:
    """What the database already holds, for references and uniqueness across file and database."""

    line_numbers: frozenset[str] = frozenset()
    experiences: Mapping[str, ExistingExperience] = field(default_factory=dict)
    peer_emails: frozenset[str] = frozenset()
    peer_phone_hashes: Mapping[str, str] = field(default_factory=dict)  # keyed hash -> email


@dataclass(frozen=True)
class RosterError:
    """One problem, at its path in the file's terms (``peers[1].phone``)."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class InvalidRosterError(Exception):
    """The file cannot be imported; ``errors`` lists every problem found."""

    def __init__(self, errors: list[RosterError]) -> None:
        super().__init__(f"{len(errors)} error(s) in the roster")
        self.errors = errors
