"""The Twilio REST adapter behind a Protocol; the rest of the app never sees a Twilio exception."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from config import Settings
from warmline.logs import mask_numbers

# Every REST request has a deadline: a hung Twilio request must not hold a worker hostage.
REST_TIMEOUT_SECONDS = 5.0
OPTED_OUT_CODE = 21610
LIVE_CALL_STATUSES = frozenset({"queued", "initiated", "ringing", "in-progress"})
ENDED_CALL_STATUSES = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})


class TelephonyError(Exception):
    """Twilio refused a request or could not be reached. `transient` says whether to retry."""

    def __init__(self, message: str, *, code: int | None = None, transient: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.transient = transient


class RecipientOptedOutError(TelephonyError):
    """The number texted STOP to this line (Twilio error 21610): never text it again."""


@dataclass(frozen=True)
class NumberConfig:
    sid: str
    phone_number: str
    voice_url: str
    sms_url: str
    status_callback: str
    voice_fallback_url: str


class TwilioGateway(Protocol):
    """What Warmline asks of Twilio. Every method raises TelephonyError, nothing else."""

    records: ProviderRecords
    """Call and message records, for retention and erasure."""

    def create_call(
        self, *, to: str, from_: str, url: str, status_callback: str,
        timeout_seconds: int, machine_detection: bool = False,
    ) -> str:
        """Start an outbound call whose TwiML comes from `url`; returns the CallSid."""
        ...

    def call_status(self, call_sid: str) -> str | None:
        """Twilio's status of a call, or None when Twilio has no such call."""
        ...

    def find_calls(self, *, to: str, from_: str, created_after: datetime) -> list[str]:
        """CallSids of calls from `from_` to `to` created at or after `created_after` (callbacks:
        did a crashed attempt already ring?)."""
        ...

    def end_call(self, call_sid: str) -> None:
        """Hang up or cancel a call; quietly does nothing for a call already over."""
        ...

    def redirect_call(self, call_sid: str, url: str) -> None:
        """Make a live call fetch new TwiML from `url`."""
        ...

    def send_message(self, *, to: str, from_: str, body: str, status_callback: str) -> str:
        """Send a text; returns the MessageSid. Raises RecipientOptedOutError for 21610."""
        ...

    def live_conference(self, name: str) -> str | None:
        """The ConferenceSid of the in-progress conference named `name`, if there is one."""
        ...

    def in_conference(self, conference_sid: str, call_sid: str) -> bool:
        """Whether the call `call_sid` is a participant of the conference now (Participants
        fetch: one that never joined, or has left, is not)."""
        ...

    def add_participant(
        self, conference_sid: str, *, to: str, from_: str, label: str, status_callback: str,
        timeout_seconds: int, end_conference_on_exit: bool, coach_call_sid: str | None = None,
        muted: bool = False,
    ) -> str:
        """Ring `to` into the conference (Participants create); returns the new CallSid. With
        `coach_call_sid` they join coaching that participant: heard by them only; `muted`, by
        nobody."""
        ...

    def update_participant(
        self, conference_sid: str, call_sid: str, *, hold: bool | None = None,
        hold_url: str | None = None, end_conference_on_exit: bool | None = None,
        coaching: bool | None = None, muted: bool | None = None,
    ) -> None:
        """Hold or bring back a participant, change whether their leaving ends the room, or
        end their coaching (everyone hears them), or mute or unmute them."""
        ...

    def announce(self, conference_sid: str, url: str) -> None:
        """Play the TwiML at `url` (its Say) to everyone in the conference."""
        ...

    def remove_participant(self, conference_sid: str, call_sid: str) -> None:
        """Take a participant out of the conference (their call goes on to its Dial action)."""
        ...

    def end_conference(self, conference_sid: str) -> None:
        """End the conference (Status=completed): every participant's call goes on to its Dial
        action; quietly does nothing for a conference already over."""
        ...

    def redact_message(self, message_sid: str) -> None: ...

    def delete_call(self, call_sid: str) -> None: ...

    def list_numbers(self) -> list[NumberConfig]: ...

    def update_number(
        self, number_sid: str, *, voice_url: str, sms_url: str, status_callback: str,
        voice_fallback_url: str,
    ) -> None: ...


def _translate(exc: TwilioException) -> TelephonyError:
    if isinstance(exc, TwilioRestException):
        # Twilio's message may name the number it refused ("The 'To' number +1... is not...").
        message = mask_numbers(str(exc.msg))
        if exc.code == OPTED_OUT_CODE:
            return RecipientOptedOutError(message, code=exc.code)
        transient = exc.status == 429 or exc.status >= 500
        return TelephonyError(f"Twilio error {exc.code}: {message}", code=exc.code,
                              transient=transient)
    return TelephonyError(f"Twilio request failed: {type(exc).__name__}", transient=True)


@contextmanager
def _twilio_errors(*, missing_ok: bool = False) -> Iterator[None]:
    """Turn whatever twilio-python or the network raises into TelephonyError.

    With missing_ok, a 404 (or a 400 for a call already over) is not an error.
    """
    try:
        yield
    except TwilioRestException as exc:
        if missing_ok and exc.status in (400, 404):
            return
        raise _translate(exc) from exc
    except (TwilioException, OSError) as exc:
        raise TelephonyError(f"Twilio unreachable: {type(exc).__name__}", transient=True) from exc


class ProviderRecords(Protocol):
    """Records held at the phone provider. Every method raises TelephonyError, nothing else."""

    def list_calls_before(self, number: str, before: datetime) -> list[str]:
        """Sids of calls to or from `number` that ended before `before`."""
        ...

    def list_messages_before(self, number: str, before: datetime) -> list[str]:
        """Sids of messages to or from `number` sent before `before` whose body is not empty."""
        ...

    def delete_call(self, call_sid: str) -> None: ...

    def redact_message(self, message_sid: str) -> None: ...


@contextmanager
def _provider_errors() -> Iterator[None]:
    try:
        yield
    except (TwilioException, OSError) as exc:
        raise TelephonyError(f"Twilio request failed: {type(exc).__name__}", transient=True) from exc


class TwilioRecords:
    """ProviderRecords on the gateway's own REST clients (Twilio or the stand-in).

    Unlike the gateway's, every failure here is one (a record already gone included): retention
    counts what it could not remove.
    """

    def __init__(self, client: Callable[[], Client]) -> None:
        self._client_of_thread = client

    @property
    def _client(self) -> Client:
        return self._client_of_thread()

    def list_calls_before(self, number: str, before: datetime) -> list[str]:
        sids: set[str] = set()
        with _provider_errors():
            for direction in ({"to": number}, {"from_": number}):
                for call in self._client.calls.list(end_time_before=before, **direction):
                    # Checked here too: a live call has no end time, and a server that ignores
                    # the filter must not make us delete a record still within retention.
                    if call.end_time is not None and call.end_time < before:
                        sids.add(str(call.sid))
        return sorted(sids)

    def list_messages_before(self, number: str, before: datetime) -> list[str]:
        sids: set[str] = set()
        with _provider_errors():
            for direction in ({"to": number}, {"from_": number}):
                for message in self._client.messages.list(date_sent_before=before, **direction):
                    if message.body and message.date_sent is not None and message.date_sent < before:
                        sids.add(str(message.sid))
        return sorted(sids)

    def delete_call(self, call_sid: str) -> None:
        with _provider_errors():
            self._client.calls(call_sid).delete()

    def redact_message(self, message_sid: str) -> None:
        with _provider_errors():
            self._client.messages(message_sid).update(body="")


def _client(settings: Settings) -> Client:
    client = Client(
        settings.twilio_account_sid,
        settings.twilio_auth_token,
        http_client=TwilioHttpClient(timeout=REST_TIMEOUT_SECONDS),
    )
    client.api.base_url = settings.twilio_api_url
    return client


class RestTwilioGateway:
    """twilio-python against TWILIO_API_URL (Twilio itself, or the local stand-in).

    One gateway serves every thread of a process, but each thread gets its own twilio `Client`:
    twilio-python's HTTP client keeps the response it is about to return on itself
    (`TwilioHttpClient._test_only_last_response`), so two threads sharing one can each be handed
    the other's answer (a call's status read as another call's). A forked process makes its own
    too, so no pooled socket crosses a fork.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._local = threading.local()
        self.records: ProviderRecords = TwilioRecords(self._client_of_thread)

    def _client_of_thread(self) -> Client:
        made: tuple[int, Client] | None = getattr(self._local, "client", None)
        if made is None or made[0] != os.getpid():
            made = (os.getpid(), _client(self._settings))
            self._local.client = made
        return made[1]

    @property
    def _client(self) -> Client:
        return self._client_of_thread()

    def create_call(
        self, *, to: str, from_: str, url: str, status_callback: str,
        timeout_seconds: int, machine_detection: bool = False,
    ) -> str:
        extra: dict[str, str] = {}
        if machine_detection:
            extra = {"machine_detection": "Enable"}
        with _twilio_errors():
            call = self._client.calls.create(
                to=to, from_=from_, url=url, method="POST",
                status_callback=status_callback, status_callback_method="POST",
                status_callback_event=["initiated", "ringing", "answered", "completed"],
                timeout=timeout_seconds, **extra,
            )
        return str(call.sid)

    def call_status(self, call_sid: str) -> str | None:
        with _twilio_errors(missing_ok=True):
            return str(self._client.calls(call_sid).fetch().status)
        return None

    def find_calls(self, *, to: str, from_: str, created_after: datetime) -> list[str]:
        # Filtered by creation time here: Twilio's StartTime filters miss calls still queued.
        with _twilio_errors():
            calls = self._client.calls.list(to=to, from_=from_, limit=50)
        return [str(call.sid) for call in calls
                if call.date_created is None or call.date_created >= created_after]

    def end_call(self, call_sid: str) -> None:
        status = self.call_status(call_sid)
        if status is None or status not in LIVE_CALL_STATUSES:
            return
        # A call still ringing is canceled; one in progress is completed.
        target = "canceled" if status in ("queued", "initiated", "ringing") else "completed"
        with _twilio_errors(missing_ok=True):  # ended meanwhile: nothing left to end
            self._client.calls(call_sid).update(status=target)

    def redirect_call(self, call_sid: str, url: str) -> None:
        with _twilio_errors():
            self._client.calls(call_sid).update(url=url, method="POST")

    def send_message(self, *, to: str, from_: str, body: str, status_callback: str) -> str:
        with _twilio_errors():
            message = self._client.messages.create(
                to=to, from_=from_, body=body, status_callback=status_callback
            )
        return str(message.sid)

    def redact_message(self, message_sid: str) -> None:
        with _twilio_errors():
            self._client.messages(message_sid).update(body="")

    def live_conference(self, name: str) -> str | None:
        with _twilio_errors():
            rooms = self._client.conferences.list(friendly_name=name, status="in-progress",
                                                  limit=1)
        return str(rooms[0].sid) if rooms else None

    def in_conference(self, conference_sid: str, call_sid: str) -> bool:
        with _twilio_errors(missing_ok=True):  # 404: not (or no longer) in the room
            found = self._client.conferences(conference_sid).participants(call_sid).fetch()
            return str(found.status) == "connected"
        return False

    def add_participant(
        self, conference_sid: str, *, to: str, from_: str, label: str, status_callback: str,
        timeout_seconds: int, end_conference_on_exit: bool, coach_call_sid: str | None = None,
        muted: bool = False,
    ) -> str:
        coaching: dict[str, object] = {}
        if coach_call_sid:
            coaching = {"coaching": True, "call_sid_to_coach": coach_call_sid}
        if muted:
            coaching["muted"] = True
        with _twilio_errors():
            participant = self._client.conferences(conference_sid).participants.create(
                from_=from_, to=to, label=label, timeout=timeout_seconds,
                end_conference_on_exit=end_conference_on_exit,
                status_callback=status_callback, status_callback_method="POST",
                status_callback_event=["initiated", "ringing", "answered", "completed"],
                **coaching,
            )
        return str(participant.call_sid)

    def announce(self, conference_sid: str, url: str) -> None:
        with _twilio_errors():
            self._client.conferences(conference_sid).update(announce_url=url,
                                                            announce_method="POST")

    def update_participant(
        self, conference_sid: str, call_sid: str, *, hold: bool | None = None,
        hold_url: str | None = None, end_conference_on_exit: bool | None = None,
        coaching: bool | None = None, muted: bool | None = None,
    ) -> None:
        changes: dict[str, object] = {}
        if coaching is not None:
            changes["coaching"] = coaching
        if muted is not None:
            changes["muted"] = muted
        if hold is not None:
            changes["hold"] = hold
        if hold_url is not None:
            changes.update(hold_url=hold_url, hold_method="GET")
        if end_conference_on_exit is not None:
            changes["end_conference_on_exit"] = end_conference_on_exit
        with _twilio_errors():
            self._client.conferences(conference_sid).participants(call_sid).update(**changes)

    def remove_participant(self, conference_sid: str, call_sid: str) -> None:
        with _twilio_errors(missing_ok=True):  # gone already: nothing to take out
            self._client.conferences(conference_sid).participants(call_sid).delete()

    def end_conference(self, conference_sid: str) -> None:
        with _twilio_errors(missing_ok=True):
            self._client.conferences(conference_sid).update(status="completed")

    def delete_call(self, call_sid: str) -> None:
        with _twilio_errors(missing_ok=True):
            self._client.calls(call_sid).delete()

    def list_numbers(self) -> list[NumberConfig]:
        with _twilio_errors():
            numbers = self._client.incoming_phone_numbers.list()
        return [
            NumberConfig(
                sid=str(n.sid), phone_number=str(n.phone_number), voice_url=str(n.voice_url or ""),
                sms_url=str(n.sms_url or ""), status_callback=str(n.status_callback or ""),
                voice_fallback_url=str(n.voice_fallback_url or ""),
            )
            for n in numbers
        ]

    def update_number(
        self, number_sid: str, *, voice_url: str, sms_url: str, status_callback: str,
        voice_fallback_url: str,
    ) -> None:
        with _twilio_errors():
            self._client.incoming_phone_numbers(number_sid).update(
                voice_url=voice_url, voice_method="POST", sms_url=sms_url, sms_method="POST",
                status_callback=status_callback, status_callback_method="POST",
                voice_fallback_url=voice_fallback_url, voice_fallback_method="POST",
            )


def preload() -> None:
    """Import twilio's REST modules now (a worker does, once, before it forks a work horse per job)."""
    import twilio.rest.api.v2010.account.call  # noqa: F401, PLC0415 - imported for its side effect
