"""Settings of one stand-in: account, time compression, and how it misbehaves on purpose."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

DEFAULT_ACCOUNT_SID = "AC00000000000000000000000000000000"
DEFAULT_AUTH_TOKEN = "standin-auth-token-0000000000000000"  # noqa: S105 - a local fake, not a secret
WEBHOOK_DEADLINE_SECONDS = 15.0  # Twilio gives up on a webhook after 15 s of the app's (wall) time
DEFAULT_DIAL_TIMEOUT = 30.0
DEFAULT_CALL_TIMEOUT = 60.0  # REST Calls `Timeout` default
DEFAULT_GATHER_TIMEOUT = 5.0
APPLICATION_ERROR_TEXT = "We are sorry, an application error has occurred. Goodbye."


class CallbackOrder(StrEnum):
    """How status callbacks of one call are delivered: as they happen, or held and reordered."""

    IN_ORDER = "in_order"
    REVERSED = "reversed"
    SHUFFLED = "shuffled"


@dataclass(frozen=True)
class CallbackPolicy:
    """Twilio's delivery quirks on demand: callbacks twice, late, or out of order."""

    duplicate: bool = False
    delay: float = 0.0  # stand-in seconds added before each delivery
    order: CallbackOrder = CallbackOrder.IN_ORDER
    seed: int = 0


@dataclass(frozen=True)
class RestFault:
    """Twilio's REST API failing for a while: every request answered `status` (500 or 429) with
    Twilio's error body, as in an incident or under rate limiting. 0: no fault."""

    status: int = 0


@dataclass(frozen=True)
class StandinConfig:
    """Everything that shapes one stand-in; times are in stand-in seconds (divided by `speed`).

    Except `webhook_deadline`: it measures the app's own work, which no speed compresses. A
    compressed deadline (0.75 s at speed 20) failed healthy answers on a busy machine.
    """

    account_sid: str = DEFAULT_ACCOUNT_SID
    auth_token: str = DEFAULT_AUTH_TOKEN
    speed: float = 1.0  # 2.0 = every pause, timeout and ring twice as fast
    webhook_deadline: float = WEBHOOK_DEADLINE_SECONDS  # wall seconds, whatever the speed
    calls_per_second: float = 1.0  # an account's default outbound pacing
    speech_chars_per_second: float = 15.0  # how long a <Say> takes to speak
    play_seconds: float = 3.0  # nominal length of one <Play> (audio is never fetched)
    message_delivery_seconds: float = 0.2  # from queued to sent to delivered
    amd_seconds: float = 1.0  # answering machine detection takes this long
    unknown_numbers_answer: bool = True  # a number nobody registered answers at once
    twilio_help_reply: str | None = "Reply STOP to unsubscribe. Msg&Data Rates May Apply."
    callbacks: CallbackPolicy = field(default_factory=CallbackPolicy)
    rest_fault: RestFault = field(default_factory=RestFault)
    schema_path: str | None = None  # None: find ../shared/twilio/... or $WARMLINE_SHARED_DIR
    max_loop: int = 100  # a <Say loop="0"> or <Play loop="0"> repeats at most this often
