"""The shared state of the simulated phone network and the waits every call leg is built on."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from warmline.standin.clock import Clock
from warmline.standin.config import CallbackOrder, StandinConfig
from warmline.standin.model import (
    API_VERSION,
    CallStatus,
    Conference,
    Dequeue,
    IncomingNumber,
    Leg,
    Message,
    Queue,
    new_sid,
)
from warmline.standin.record import Record
from warmline.standin.schema import VoiceSchema
from warmline.standin.webhooks import Webhooks

if TYPE_CHECKING:
    from warmline.standin.people import Phone

# Status callback event -> the CallStatus Twilio reports with it (completed reports the final one).
EVENT_STATUS = {"initiated": "initiated", "ringing": "ringing", "answered": "in-progress"}


class LegGone(Exception):  # noqa: N818 - a control-flow signal, not an error
    """The leg ended (hung up by its person, by TwiML, or by the REST API)."""


class Redirected(Exception):  # noqa: N818 - a control-flow signal
    """The REST API gave the leg new TwiML; the current verb stops at once."""


class Dequeued(Exception):  # noqa: N818 - a control-flow signal
    """A `<Dial><Queue>` took this queued leg; it leaves its wait music to be bridged."""

    def __init__(self, dequeue: Dequeue) -> None:
        super().__init__("dequeued")
        self.dequeue = dequeue


class Pacer:
    """Twilio's outbound pacing: one call start per slot per account, the rest wait their turn."""

    def __init__(self, clock: Clock, calls_per_second: float) -> None:
        self._interval = clock.real(1.0 / calls_per_second) if calls_per_second > 0 else 0.0
        self._next = 0.0
        self._lock = threading.Lock()

    def slot(self) -> float:
        """The monotonic time at which the next call may start."""
        with self._lock:
            now = time.monotonic()
            at = max(now, self._next)
            self._next = at + self._interval
            return at


class Network:
    """Numbers, phones, legs, messages, queues and conferences under one condition variable.

    One lock for everything keeps cross-leg handovers (dequeue, bridge, hang-up) simple and
    race-free; HTTP requests are always made outside it.
    """

    def __init__(self, config: StandinConfig) -> None:
        self.config = config
        self.clock = Clock(config.speed)
        self.record = Record(self.clock)
        self.cond = threading.Condition(threading.RLock())
        self.webhooks = Webhooks(config.auth_token, self.record)
        self.schema = VoiceSchema(config.schema_path)
        self.pacer = Pacer(self.clock, config.calls_per_second)
        self.numbers: dict[str, IncomingNumber] = {}
        self.phones: dict[str, Phone] = {}
        self.legs: dict[str, Leg] = {}
        self.messages: dict[str, Message] = {}
        self.queues: dict[str, Queue] = {}
        self.conferences: dict[str, Conference] = {}  # by FriendlyName: the live or last room
        self.conferences_by_sid: dict[str, Conference] = {}
        self.optouts: set[tuple[str, str]] = set()  # (texter, line number)
        self.rest_failures: list[Any] = []  # rest.InjectedFailure: REST errors asked for by a test
        self.closed = False
        self._random = random.Random(config.callbacks.seed)  # noqa: S311 - test shuffling only
        self._threads: list[threading.Thread] = []
        self._outbox: dict[str, list[tuple[str, str, dict[str, str]]]] = {}
        self._held: dict[str, list[dict[str, str]]] = {}  # reordered callbacks of non-leg resources

    # -- threads and waits -------------------------------------------------------------------

    def spawn(self, target: Callable[[], None], name: str) -> threading.Thread:
        thread = threading.Thread(target=target, name=name, daemon=True)
        with self.cond:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
        thread.start()
        return thread

    def threads(self) -> list[threading.Thread]:
        with self.cond:
            return [t for t in self._threads if t.is_alive()]

    def notify(self) -> None:
        with self.cond:
            self.cond.notify_all()

    def check(self, leg: Leg, *, also: Leg | None = None) -> None:
        """Raise what the leg's owner must react to: hang-up, REST redirect, dequeue."""
        with self.cond:
            if leg.hung_up or self.closed:
                raise LegGone
            if also is not None and also.hung_up:
                raise LegGone
            if leg.redirect is not None:
                raise Redirected
            if leg.dequeue is not None and not leg.dequeue.seen:
                leg.dequeue.seen = True
                raise Dequeued(leg.dequeue)

    def wait(self, leg: Leg, seconds: float, until: Callable[[], bool] | None = None,
             *, also: Leg | None = None) -> bool:
        """Wait `seconds` of stand-in time on `leg`; True as soon as `until()` holds."""
        deadline = time.monotonic() + self.clock.real(seconds)
        with self.cond:
            while True:
                self.check(leg, also=also)
                if until is not None and until():
                    return True
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self.cond.wait(remaining)

    def wait_quietly(self, until: Callable[[], bool], wall_seconds: float) -> bool:
        """Wait for `until()` without any leg's hang-up or redirect interrupting."""
        deadline = time.monotonic() + wall_seconds
        with self.cond:
            while not until():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self.cond.wait(remaining)
            return True

    # -- registry ----------------------------------------------------------------------------

    def new_leg(self, *, from_: str, to: str, direction: str, phone: Phone | None,
                parent: Leg | None = None, phone_number_sid: str | None = None) -> Leg:
        leg = Leg(sid=new_sid("CA"), account_sid=self.config.account_sid, from_=from_, to=to,
                  direction=direction, phone=phone, parent_sid=parent.sid if parent else None,
                  phone_number_sid=phone_number_sid, date_created=self.clock.utcnow())
        with self.cond:
            self.legs[leg.sid] = leg
        return leg

    def phone_for(self, number: str) -> Phone | None:
        """The simulated phone at `number`; unknown numbers get a plain phone that answers."""
        from warmline.standin.people import Behaviour, Phone  # noqa: PLC0415 - import cycle

        with self.cond:
            phone = self.phones.get(number)
            if phone is None and self.config.unknown_numbers_answer:
                phone = Phone(self, number, Behaviour())
                self.phones[number] = phone
                self.record.add("phone_created", number=number, automatic=True)
            return phone

    def queue(self, name: str, max_size: int | None = None) -> Queue:
        with self.cond:
            queue = self.queues.get(name)
            if queue is None:
                queue = Queue(new_sid("QU"), name)
                self.queues[name] = queue
            if max_size:
                queue.max_size = max_size
            return queue

    # -- call state --------------------------------------------------------------------------

    def call_params(self, leg: Leg) -> dict[str, str]:
        """The standard parameters of every voice request about `leg`."""
        params = {"AccountSid": leg.account_sid, "ApiVersion": API_VERSION, "CallSid": leg.sid,
                  "CallStatus": str(leg.status), "Direction": leg.direction, "From": leg.from_,
                  "To": leg.to, "Caller": leg.from_, "Called": leg.to,
                  "CallerCountry": "US", "CalledCountry": "US"}
        if leg.parent_sid:
            params["ParentCallSid"] = leg.parent_sid
        if leg.answered_by and not leg.async_amd:
            params["AnsweredBy"] = leg.answered_by
        return params

    def answer(self, leg: Leg) -> None:
        with self.cond:
            if leg.status == CallStatus.IN_PROGRESS:
                return
            leg.status = CallStatus.IN_PROGRESS
            leg.start_time = self.clock.utcnow()
            leg.answered_mono = time.monotonic()
            self.cond.notify_all()
        self.record.add("answered", leg.sid, number=leg.to, from_=leg.from_,
                        direction=leg.direction)
        self.status_event(leg, "answered")

    def hang_up(self, leg: Leg, by: str, status: CallStatus | None = None) -> None:
        """Ask a leg to end; its owning thread notices and finishes it."""
        with self.cond:
            if leg.final or leg.hung_up:
                return
            leg.hung_up, leg.hung_up_by = True, by
            if status is not None:
                leg.terminate_status = status
            if leg.bridge is not None:
                leg.bridge.ended = True
            self.cond.notify_all()
        self.record.add("hangup", leg.sid, by=by, number=leg.phone.number if leg.phone else None)

    def finish(self, leg: Leg, status: CallStatus | None = None) -> None:
        """End `leg` for good with `status` (default: completed if answered, else canceled)."""
        with self.cond:
            if leg.final:
                return
            if status is None:
                status = leg.terminate_status or (
                    CallStatus.COMPLETED if leg.answered_mono is not None else CallStatus.CANCELED)
            leg.status = status
            leg.end_time = self.clock.utcnow()
            leg.ended_mono = time.monotonic()
            leg.hung_up = True
            if leg.bridge is not None:
                leg.bridge.ended = True
            if leg.queue is not None:
                leg.queue.members = [m for m in leg.queue.members if m.leg is not leg]
                leg.queue = None
            self.cond.notify_all()
        self.record.add("call_ended", leg.sid, status=str(status), number=leg.to,
                        from_=leg.from_, duration=self.duration(leg), by=leg.hung_up_by)
        self.status_event(leg, "completed")

    def duration(self, leg: Leg) -> int:
        """Answered time in stand-in seconds, as Twilio's CallDuration counts it."""
        if leg.answered_mono is None:
            return 0
        end = leg.ended_mono or time.monotonic()
        return round((end - leg.answered_mono) * self.clock.speed)

    def ring(self, leg: Leg, timeout: float, cancelled: Callable[[], bool]) -> CallStatus | None:
        """Ring the phone at `leg.to`; None once answered, else the final status."""
        phone = self.phone_for(leg.to)
        if phone is None:
            return CallStatus.FAILED
        with self.cond:
            leg.phone = phone
            mode = phone.behaviour.mode
            if mode == "fail":
                return CallStatus.FAILED
            if mode == "busy" or (phone.behaviour.busy_when_on_call and phone.on_call(leg)):
                return CallStatus.BUSY
            leg.status = CallStatus.RINGING
        self.record.add("ring", leg.sid, number=leg.to, caller_id=leg.from_,
                        direction=leg.direction, parent=leg.parent_sid)
        self.status_event(leg, "ringing")
        phone.on_ring(leg)
        start = time.monotonic()
        after = self.clock.real(phone.behaviour.answer_after)
        answer_at = start + after if mode in ("answer", "voicemail") else None
        decline_at = start + after if mode == "decline" else None
        deadline = start + self.clock.real(timeout)
        with self.cond:
            while True:
                now = time.monotonic()
                if cancelled() or leg.hung_up or self.closed:
                    return leg.terminate_status or CallStatus.CANCELED
                if leg.answer_requested or (answer_at is not None and now >= answer_at):
                    break
                if leg.decline_requested or (decline_at is not None and now >= decline_at):
                    self.record.add("declined", leg.sid, number=leg.to)
                    return CallStatus.BUSY
                if now >= deadline:
                    return CallStatus.NO_ANSWER
                marks = [t for t in (answer_at, decline_at, deadline) if t is not None]
                self.cond.wait(max(0.0, min(marks) - now))
        if leg.machine_detection:
            leg.answered_by = self.answered_by(leg, phone)
        self.answer(leg)
        phone.on_answered(leg)
        return None

    @staticmethod
    def answered_by(leg: Leg, phone: Phone) -> str:
        if phone.behaviour.mode != "voicemail":
            return "human"
        return "machine_end_beep" if leg.machine_detection == "DetectMessageEnd" \
            else "machine_start"

    # -- status callbacks --------------------------------------------------------------------

    def status_event(self, leg: Leg, event: str) -> None:
        """Send `event` to the leg's StatusCallback if it subscribed to it."""
        if not leg.status_callback or event not in leg.status_events:
            return
        with self.cond:
            params = self.call_params(leg)
            params["CallStatus"] = EVENT_STATUS.get(event, str(leg.status))
            params["SequenceNumber"] = str(leg.sequence)
            leg.sequence += 1
            params["CallbackSource"] = "call-progress-events"
            params["Timestamp"] = self.clock.utcnow().strftime("%a, %d %b %Y %H:%M:%S +0000")
            if event == "completed":
                params["CallDuration"] = str(self.duration(leg))
                params["Duration"] = str(-(-self.duration(leg) // 60))
            if leg.answered_by:
                params["AnsweredBy"] = leg.answered_by
        self.deliver_callback(leg, leg.status_callback, leg.status_callback_method, params,
                              final=event == "completed")

    def deliver_callback(self, leg: Leg | None, url: str, method: str,
                         params: dict[str, str], *, final: bool) -> None:
        """Deliver a callback under the configured policy (late, twice, reordered)."""
        policy = self.config.callbacks
        batch: list[dict[str, str]] = [params]
        if leg is not None and policy.order != CallbackOrder.IN_ORDER:
            with self.cond:
                leg.callback_buffer.append(params)
                if not final:
                    return
                batch, leg.callback_buffer = leg.callback_buffer, []
        sid = leg.sid if leg else params.get("MessageSid")
        self._enqueue_callbacks(sid or "", url, method, self._as_policy_says(batch))

    def deliver_resource_callback(self, sid: str, url: str, method: str,
                                  params: dict[str, str], *, final: bool) -> None:
        """A callback about a resource that is not a call leg (a conference) under the same
        policy as a leg's: held back and reordered until its `final` one, and duplicated."""
        policy = self.config.callbacks
        batch = [params]
        if policy.order != CallbackOrder.IN_ORDER:
            with self.cond:
                held = self._held.setdefault(sid, [])
                held.append(params)
                if not final:
                    return
                batch = self._held.pop(sid)
        self._enqueue_callbacks(sid, url, method, self._as_policy_says(batch))

    def _as_policy_says(self, batch: list[dict[str, str]]) -> list[dict[str, str]]:
        """A released batch of callbacks reordered (a batch of several was held back for it) and
        doubled as the configured policy says."""
        policy = self.config.callbacks
        if len(batch) > 1 and policy.order == CallbackOrder.REVERSED:
            batch = batch[::-1]
        elif len(batch) > 1 and policy.order != CallbackOrder.IN_ORDER:
            batch = list(batch)
            self._random.shuffle(batch)
        if policy.duplicate:
            batch = [p for p in batch for _ in range(2)]
        return batch

    def _enqueue_callbacks(self, sid: str, url: str, method: str,
                           batch: list[dict[str, str]]) -> None:
        """Callbacks of one resource go out one after another, in the order given."""
        with self.cond:
            pending = self._outbox.setdefault(sid, [])
            pending.extend((url, method, item) for item in batch)
            if len(pending) > len(batch):
                return  # a sender for this sid is already running
        self.spawn(lambda: self._drain(sid), f"callbacks-{sid}")

    def _drain(self, sid: str) -> None:
        delay = self.config.callbacks.delay
        while True:
            with self.cond:
                pending = self._outbox.get(sid)
                if not pending:
                    self._outbox.pop(sid, None)
                    return
                url, method, item = pending[0]
            if delay:
                time.sleep(self.clock.real(delay))
            self.record.add("status_callback", sid, url=url,
                            status=item.get("CallStatus") or item.get("MessageStatus"),
                            sequence=item.get("SequenceNumber"))
            self.webhooks.request(url, method, item, self.config.webhook_deadline,
                                  purpose="status_callback", call_sid=sid)
            with self.cond:
                self._outbox[sid].pop(0)

    def callbacks_in_flight(self) -> int:
        """Callbacks held back for reordering or not yet answered by the app (a test waits for
        none before it replays them)."""
        with self.cond:
            held = sum(len(batch) for batch in self._held.values())
            held += sum(len(leg.callback_buffer) for leg in self.legs.values())
            return held + sum(len(pending) for pending in self._outbox.values())

    def counters(self) -> dict[str, Any]:
        return dict(self.record.counters)
