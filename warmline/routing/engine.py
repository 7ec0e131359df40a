"""The routing engine: live presence, waiting contacts and atomic offers in Redis.

Every state change is one Lua script, so any number of web and worker processes can share one
Redis: no two processes can offer one peer two contacts, or one contact to two peers. All keys
carry the `{wl}` hash tag (see `keys`), so the scripts also run on Redis Cluster. Time is always
the caller's `now`, in epoch seconds (float); scripts never read Redis's clock, so tests control
time and every process agrees on the contract. The services hand the engine their aware datetimes
through `warmline.epoch`, the one place the two kinds of time meet.

The API the rest of the app uses (services call it; nothing else touches routing keys):

    engine = RoutingEngine(redis)
    engine.sync_line(LineRules(line_id, wrap_up_seconds, calls_while_texting,
                               back_to_back_limit), now)
    engine.sync_peer(PeerProfile(peer_id, lines, experiences, languages, channels, max_texts), now)
    engine.set_on_shift(line_id, peer_ids, now) -> ShiftChange       # the schedule's answer
    engine.start_shift(peer_id, line_id, now) / end_shift(...) -> ShiftChange   # one peer
    engine.allow_drop_in(peer_id, line_id, until, now)               # admin-approved, outside a shift
    engine.set_presence(peer_id, Presence.AVAILABLE | BREAK | OFF, now) -> PresenceChange
    engine.extend_wrap_up(peer_id, until, now) -> WrapUpChange       # "I need more time"
    engine.end_wrap_up(peer_id, now) -> WrapUpChange                 # only once it is due
    engine.arrive(ContactView(...), now) -> Arrival                  # verdict + offers taken
    engine.choose_any(contact_id, now) -> Arrival
    engine.requeue(contact_id, now, priority=, experience=, language=) -> Arrival  # keeps arrival
    engine.withdraw(contact_id, now) -> ContactEnd                   # left, transferred, callback
    engine.match_pass(line_id, now) -> list[Offer]
    engine.accept(offer_id, now) -> AcceptResult                     # refused once lapsed
    engine.decline(offer_id, now) -> OfferEnd
    engine.lapse(offer_id, LapseReason, now) -> OfferEnd             # no answer, busy, failed...
    engine.complete(contact_id, now) -> ContactEnd                   # -> wrap-up
    engine.load(peer_id) -> PeerLoad                                 # calls and open texts
    engine.snapshot(line_id, now) -> QueueSnapshot                   # counts and waits only
    engine.sweep(now) -> SweepReport                                 # repairs after crashes

Redis can come back empty. Every script refuses to act while the state marker is missing
(`keys.state_marker`), and every read checks it in the same transaction, so the loss is met by the
first operation after it. The engine then calls its `on_state_lost` hook (the services' rebuild
from SQL and Twilio, under a lock) and retries; without a hook it raises `RoutingStateLostError`.
The rebuild itself runs an engine holding the rebuild lock's token, the one engine whose scripts
run without the marker (`mark_state_built` ends a rebuild).

Presence: a peer starts `off`; `available` only while working a line (on shift or a drop-in);
an offer makes them `offered`; an accepted call makes them `busy`, an accepted text leaves them
`available` (texts go up to max_texts); the end of a call, or of their last text, starts
`wrap_up` for the line's wrap_up_seconds. Declines and lapses return the contact to its own
place in the queue; two misses in a row set the peer `off` (`OffReason.MISSED_OFFERS`), and so
does the end of their last shift (`OffReason.SHIFT_ENDED`): the caller tells the peer.
Operations are idempotent: a repeated decline, lapse, complete or withdraw changes nothing.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

from redis import Redis
from redis.client import Pipeline
from redis.commands.core import Script
from redis.exceptions import ResponseError

from warmline.domain.matching import (
    ANY_EXPERIENCE,
    CHANNELS,
    ContactView,
    LineRules,
    PeerLoad,
    PeerView,
    Presence,
    arrival_from_score,
    judge,
    priority_from_score,
    queue_score,
    routing_channels,
)
from warmline.routing import defaults, keys
from warmline.routing.results import (
    AcceptResult,
    Arrival,
    ClassSnapshot,
    ContactEnd,
    LapseReason,
    Offer,
    OfferEnd,
    OffReason,
    PeerOff,
    PresenceChange,
    QueueSnapshot,
    ShiftChange,
    SweepReport,
    WrapUpChange,
)
from warmline.routing.scripts import NEED_REPLY, STATE_LOST_ERROR, register_scripts

# Presences a peer (or an admin) may ask for; the others are the engine's to set.
REQUESTABLE = frozenset({Presence.AVAILABLE, Presence.BREAK, Presence.OFF})
# An operation that meets a lost state rebuilds and retries; a Redis emptied again during the
# retry (a flapping failover) is tried a few times before the caller is told.
STATE_LOST_RETRIES = 3
_SCRIPT_KEYS = keys.script_keys()
# Every key a script touches is in its KEYS. Those named from data are found by the script's
# plan (lua/common.lua): a call given too few answers NEED_REPLY having written nothing, and is
# made again with them. A changing state can ask again; this many rounds is a bug, not a race.
PLAN_ROUNDS = 32
# What a call on the same subject (a line, a peer) needed lately is given at once next time, so
# a steady state costs one round trip; it is forgotten after a while, so stale keys do not pile up.
HINT_SECONDS = 30.0
HINTS_KEPT = 4096
# A hint grows by what each call learns (a new contact, a new peer); past this many keys it
# starts again from what the last call learned, so a call never carries a long tail of keys.
HINT_KEYS_KEPT = 256
# The scripts that may take offers are given offer ids reserved beforehand (their keys must be
# declared too); a process reserves this many at a time.
MATCHING_SCRIPTS = frozenset({"arrive", "choose_any", "requeue", "match_pass"})
OFFER_IDS_RESERVED = 8
# The argument naming a script's subject for the hints (None: no hint, every call is new;
# "": one subject, the whole state). The sweep is planned over every busy and offered peer:
# started from nothing, each new peer, offer or contact another process made meanwhile asks
# again (seen: 23 rounds in the 4-process race); from the last sweep's keys it asks only for
# what changed since.
_SUBJECT_ARG: dict[str, int | str | None] = {
    "arrive": 1, "choose_any": None, "requeue": None, "end_contact": None, "end_offer": None,
    "accept": None, "restore_connection": 8, "restore_offer": 8, "sweep": "",
}
# The sweep's hint holds every busy and offered peer's keys, more than a line's.
SWEEP_HINT_KEYS_KEPT = 4096


def _peer_keys(peer_id: object) -> list[str]:
    """The keys named from a peer's id alone."""
    return [keys.peer(str(peer_id)), keys.peer_shift_lines(str(peer_id)),
            keys.peer_drop_ins(str(peer_id)), keys.peer_memberships(str(peer_id)),
            *(keys.peer_contacts(str(peer_id), channel) for channel in CHANNELS)]


def _class_keys(line_id: object, channel: str, experience: str, language: str) -> list[str]:
    line = str(line_id)
    return [keys.line(line), keys.line_classes(line),
            keys.waiting(line, channel, experience, language),
            keys.pool(line, channel, experience, language),
            keys.staffed(line, channel, experience, language),
            keys.recent_waits(line, channel, experience)]


class RoutingStateLostError(RuntimeError):
    """Redis lost the routing state and it could not be rebuilt (yet): the caller degrades."""


@dataclass(frozen=True)
class PeerProfile:
    peer_id: int
    lines: frozenset[int]
    experiences: frozenset[str]
    languages: frozenset[str]
    channels: frozenset[str]
    max_texts: int


def _s(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _int_or_none(value: Any) -> int | None:
    text = _s(value)
    return int(text) if text else None


def _csv(values: Iterable[object]) -> str:
    text = [str(v) for v in sorted(values, key=str)]
    if any("," in v or ":" in v for v in text):
        raise ValueError(f"routing names may not contain ',' or ':': {text}")
    return ",".join(text)


def _peer_off(peer_id: Any, reason: Any) -> PeerOff | None:
    why = _s(reason)
    return PeerOff(int(_s(peer_id)), OffReason(why)) if why else None


def _offer(raw: Sequence[Any]) -> Offer:
    oid, cid, peer, line, channel, experience, language, expires = (_s(v) for v in raw)
    return Offer(oid, cid, int(peer), int(line), channel, experience or None, language,
                 float(expires))


class RoutingEngine:
    """Live routing state in Redis; see the module docstring for the API."""

    def __init__(self, redis: Redis, *, on_state_lost: Callable[[], None] | None = None,
                 rebuild_token: str | None = None) -> None:
        self.redis = redis
        self._scripts: dict[str, Script] = register_scripts(redis)
        self._on_state_lost = on_state_lost
        self._rebuild_token = rebuild_token
        self._lock = threading.Lock()
        self._offer_ids: list[str] = []
        self._hints: dict[tuple[str, str], tuple[float, tuple[str, ...]]] = {}

    def _run(self, name: str, now: float, *args: object, given: Iterable[str] = ()) -> Any:
        """One script: KEYS are the fixed keys (keys.script_keys), then `given` (the keys named
        from the arguments) and whatever the script's plan asks for. ARGV[2] and [3], the rebuild
        token and the reserved offer ids, are taken out by common.lua before the script reads
        ARGV."""
        argv = [a if isinstance(a, str) else str(a) for a in args]
        for _ in range(STATE_LOST_RETRIES):
            try:
                return self._planned(name, now, argv, list(given))
            except ResponseError as exc:
                if STATE_LOST_ERROR not in str(exc):
                    raise
            self._state_lost()
        raise RoutingStateLostError(f"routing state still missing after {STATE_LOST_RETRIES} rebuilds")

    def _planned(self, name: str, now: float, argv: list[str], first: list[str]) -> Any:
        at = _SUBJECT_ARG.get(name, 0)
        subject = (None if at is None else (name, at) if isinstance(at, str)
                   else None if at >= len(argv) else (name, argv[at]))
        kept = SWEEP_HINT_KEYS_KEPT if name == "sweep" else HINT_KEYS_KEPT
        extra = dict.fromkeys(self._hint(subject))
        learned: dict[str, None] = {}
        for _ in range(PLAN_ROUNDS):
            ids = self._take_offer_ids() if name in MATCHING_SCRIPTS else []
            declared = dict.fromkeys([*first, *(keys.offer(i) for i in ids), *extra])
            raw = self._scripts[name](
                keys=[*_SCRIPT_KEYS, *declared],
                args=[repr(float(now)), self._rebuild_token or "", ",".join(ids), *argv])
            if not (isinstance(raw, list) and raw and raw[0] == NEED_REPLY.encode()):
                self._remember(subject, extra if len(extra) <= kept else learned,
                               fresh=len(extra) > kept)
                if ids:
                    offers = raw if name == "match_pass" else raw[3]
                    used = {_s(o[0]) for o in offers}
                    self._give_back_offer_ids([i for i in ids if i not in used])
                return raw
            _, missing, wanted, generation = raw
            self._give_back_offer_ids(ids)
            found = dict.fromkeys(_s(k) for k in missing)
            extra.update(found)
            learned.update(found)
            # Ids of an earlier generation (held across a Redis that came back empty) are not
            # used by the script: only this generation's count, or the call asks forever.
            current = [i for i in ids if i.startswith(_s(generation) + "-")]
            if int(wanted) > len(current):
                self._reserve_offer_ids(int(wanted), _s(generation))
        raise RuntimeError(f"routing script {name} still asked for keys after {PLAN_ROUNDS} rounds")

    def _hint(self, subject: tuple[str, str] | None) -> tuple[str, ...]:
        if subject is None:
            return ()
        with self._lock:
            found = self._hints.get(subject)
        if found is None or time.monotonic() - found[0] > HINT_SECONDS:
            return ()
        return found[1]

    def _remember(self, subject: tuple[str, str] | None, extra: dict[str, None], *,
                  fresh: bool = False) -> None:
        if subject is None or not extra:
            return
        with self._lock:
            found = self._hints.get(subject)
            if found is not None and found[1] == tuple(extra):
                return
            if len(self._hints) >= HINTS_KEPT:
                self._hints.clear()
            # a kept hint keeps its age, so it is found again from scratch once it is old
            since = found[0] if found and not fresh else time.monotonic()
            self._hints[subject] = (since, tuple(extra))

    def _take_offer_ids(self) -> list[str]:
        with self._lock:
            ids, self._offer_ids = self._offer_ids, []
        return ids

    def _give_back_offer_ids(self, ids: list[str]) -> None:
        with self._lock:
            self._offer_ids = [*ids, *self._offer_ids]

    def _reserve_offer_ids(self, wanted: int, generation: str) -> None:
        """Ids for the offers of a match pass: the generation (the state marker, so ids never
        repeat across Redis lifetimes) and a number from one counter, reserved ahead."""
        if not generation:
            return
        count = max(wanted, OFFER_IDS_RESERVED)
        top = int(self.redis.incrby(keys.offer_sequence(), count))
        fresh = [f"{generation}-{n}" for n in range(top - count + 1, top + 1)]
        with self._lock:
            self._offer_ids = [i for i in self._offer_ids if i.startswith(generation + "-")] + fresh

    def _state_lost(self) -> None:
        if self._rebuild_token is not None:
            raise RoutingStateLostError("the rebuild lost its lock (it ran too long, or Redis was emptied)")
        if self._on_state_lost is None:
            raise RoutingStateLostError("routing state is missing and this engine cannot rebuild it")
        self._on_state_lost()

    def _read(self, build: Callable[[Pipeline], object]) -> list[Any]:
        """Reads in one transaction with the marker check, so an empty Redis is never read as
        "no such contact" or "peer off": it is rebuilt first."""
        for _ in range(STATE_LOST_RETRIES):
            pipe = self.redis.pipeline(transaction=True)
            pipe.exists(keys.state_marker())
            build(pipe)
            marker, *values = pipe.execute()
            if marker or self._rebuild_token is not None:
                return values
            self._state_lost()
        raise RoutingStateLostError(f"routing state still missing after {STATE_LOST_RETRIES} rebuilds")

    def _require_state(self) -> None:
        """For reads of several steps: the marker is there (a loss between the steps reads as
        an empty queue once; the next operation rebuilds)."""
        self._read(lambda pipe: None)

    def ensure_state(self) -> None:
        """Rebuild first if Redis lost the state (for callers whose own keys live beside it)."""
        self._require_state()

    def state_built(self) -> bool:
        return bool(self.redis.exists(keys.state_marker()))

    def mark_state_built(self, generation: str) -> None:
        """Live state is complete: routing may run. `generation` starts every offer id from now
        on, so it must differ from any earlier one (a random token)."""
        self.redis.set(keys.state_marker(), generation)

    def restore_connection(self, contact: ContactView, peer_id: int, accepted_at: float,
                           now: float) -> bool:
        """Rebuild only: a contact still live with its peer is connected again."""
        return bool(self._run(
            "restore_connection", now, contact.contact_id, contact.line_id, contact.channel,
            contact.experience or "", contact.language,
            repr(queue_score(contact.priority, contact.arrived_at)),
            int(contact.accepts_any_peer), repr(float(contact.arrived_at)), peer_id,
            repr(float(accepted_at)),
            given=[keys.contact(contact.contact_id), *_peer_keys(peer_id)]))

    def restore_offer(self, contact: ContactView, offer_id: str, peer_id: int,
                      expires_at: float, now: float) -> bool:
        """Rebuild only: a call offer whose peer's phone is still ringing is pending again, so
        their "1" is taken and nobody else is rung for the caller."""
        return bool(self._run(
            "restore_offer", now, contact.contact_id, contact.line_id, contact.channel,
            contact.experience or "", contact.language,
            repr(queue_score(contact.priority, contact.arrived_at)),
            int(contact.accepts_any_peer), repr(float(contact.arrived_at)), peer_id, offer_id,
            repr(float(expires_at)),
            given=[keys.contact(contact.contact_id), keys.offer(offer_id), *_peer_keys(peer_id)]))

    def restore_wrap_up(self, peer_id: int, until: float, now: float) -> bool:
        """Rebuild only: an available peer whose call ended lately is in wrap-up until `until`."""
        return bool(self._run("restore_wrap_up", now, peer_id, repr(float(until)),
                              given=_peer_keys(peer_id)))

    # Profiles, lines and shifts -----------------------------------------------------------

    def sync_line(self, line: LineRules, now: float) -> None:
        self._run("sync_line", now, line.line_id, repr(float(line.wrap_up_seconds)),
                  int(line.calls_while_texting), line.back_to_back_limit,
                  given=[keys.line(line.line_id), keys.line_on_shift(line.line_id)])

    def sync_peer(self, profile: PeerProfile, now: float) -> None:
        self._run("sync_peer", now, profile.peer_id, _csv(profile.lines),
                  _csv(profile.experiences), _csv(profile.languages),
                  _csv(routing_channels(profile.channels)), profile.max_texts,
                  given=_peer_keys(profile.peer_id))

    def set_on_shift(self, line_id: int, peer_ids: Iterable[int], now: float) -> ShiftChange:
        """Exactly these peers are on shift for the line now (the schedule's answer)."""
        return self._shift("exactly", line_id, peer_ids, now)

    def start_shift(self, peer_id: int, line_id: int, now: float) -> ShiftChange:
        return self._shift("join", line_id, [peer_id], now)

    def end_shift(self, peer_id: int, line_id: int, now: float) -> ShiftChange:
        """One peer's shift on the line ended; off if they work no other line now."""
        return self._shift("leave", line_id, [peer_id], now)

    def _shift(self, mode: str, line_id: int, peer_ids: Iterable[int], now: float) -> ShiftChange:
        peers = sorted(set(peer_ids))
        went_off, lines_to_match = self._run(
            "set_on_shift", now, line_id, mode, *peers,
            given=[keys.line_on_shift(line_id), *(k for p in peers for k in _peer_keys(p))])
        return ShiftChange(
            went_off=[PeerOff(int(_s(p)), OffReason.SHIFT_ENDED) for p in went_off],
            lines_to_match=sorted({int(_s(x)) for x in lines_to_match}),
        )

    def allow_drop_in(self, peer_id: int, line_id: int, until: float, now: float) -> None:
        self._run("allow_drop_in", now, peer_id, line_id, repr(float(until)),
                  given=[keys.line(line_id), *_peer_keys(peer_id)])

    # Presence -----------------------------------------------------------------------------

    def set_presence(self, peer_id: int, presence: Presence, now: float) -> PresenceChange:
        if presence not in REQUESTABLE:
            return PresenceChange("refused_invalid", None)
        status, current, line, _ = self._run("set_presence", now, peer_id, presence.value,
                                             given=_peer_keys(peer_id))
        current_s = _s(current)
        return PresenceChange(_s(status), Presence(current_s) if current_s else None,
                              _int_or_none(line))

    def extend_wrap_up(self, peer_id: int, until: float, now: float) -> WrapUpChange:
        return self._wrap_up(self._run("wrap_up", now, peer_id, "extend", repr(float(until)),
                                       given=_peer_keys(peer_id)))

    def end_wrap_up(self, peer_id: int, now: float) -> WrapUpChange:
        return self._wrap_up(self._run("wrap_up", now, peer_id, "end", "",
                                       given=_peer_keys(peer_id)))

    @staticmethod
    def _wrap_up(raw: Sequence[Any]) -> WrapUpChange:
        status, presence, until = (_s(v) for v in raw)
        return WrapUpChange(status, Presence(presence) if presence else None,
                            float(until) if until else None)

    # Contacts -----------------------------------------------------------------------------

    def arrive(self, contact: ContactView, now: float,
               limit: int = defaults.MAX_OFFERS_PER_PASS, *, first_peer: int | None = None,
               ) -> Arrival:
        """A new contact joins its queue and the match pass runs. `first_peer` is offered it
        before anyone else when they could take it now, available or in wrap-up (a caller back
        after a dropped call asked for them: DESIGN step 10); that offer's ending is no miss."""
        raw = self._run(
            "arrive", now, contact.contact_id, contact.line_id, contact.channel,
            contact.experience or "", contact.language,
            repr(queue_score(contact.priority, contact.arrived_at)),
            int(contact.accepts_any_peer), repr(float(contact.arrived_at)), limit,
            "" if first_peer is None else first_peer,
            given=[keys.contact(contact.contact_id), *_class_keys(
                contact.line_id, contact.channel,
                ANY_EXPERIENCE if contact.accepts_any_peer or not contact.experience
                else contact.experience, contact.language)],
        )
        return self._arrival(contact.contact_id, raw)

    def choose_any(self, contact_id: str, now: float,
                   limit: int = defaults.MAX_OFFERS_PER_PASS) -> Arrival:
        return self._arrival(contact_id, self._run("choose_any", now, contact_id, limit,
                                                   given=[keys.contact(contact_id)]))

    def requeue(self, contact_id: str, now: float, *, priority: int | None = None,
                experience: str | Literal["keep"] | None = "keep",
                language: str | Literal["keep"] = "keep",
                limit: int = defaults.MAX_OFFERS_PER_PASS) -> Arrival:
        """A new priority (risk words), experience or language for a contact, keeping its arrival
        time.

        Only a waiting contact moves in the queue; an offered one keeps the new score for when
        its offer lapses. A no-op for an unknown contact.
        """
        score = ""
        if priority is not None:
            (arrived,) = self._read(lambda pipe: pipe.hget(keys.contact(contact_id), "arrived"))
            if arrived is None:
                return self._arrival(contact_id, ["unknown", 0, [], []])
            score = repr(queue_score(priority, float(_s(arrived))))
        wanted = "-" if experience == "keep" else (experience or "")
        spoken = "-" if language == "keep" else language
        return self._arrival(contact_id, self._run("requeue", now, contact_id, score, wanted,
                                                   limit, spoken, given=[keys.contact(contact_id)]))

    @staticmethod
    def _arrival(contact_id: str, raw: Sequence[Any]) -> Arrival:
        state, staffed, waits, offers = raw
        state_s = _s(state)
        verdict = judge(state_s in ("offered", "connected"), int(staffed),
                        [float(_s(w)) for w in waits])
        return Arrival(contact_id, state_s, verdict, [_offer(o) for o in offers])

    def withdraw(self, contact_id: str, now: float) -> ContactEnd:
        """The contact left (hung up, transferred, chose a callback): in any state."""
        return self._end_contact(contact_id, now)

    def complete(self, contact_id: str, now: float) -> ContactEnd:
        """A connected contact ended; the peer goes to wrap-up."""
        return self._end_contact(contact_id, now)

    def _end_contact(self, contact_id: str, now: float) -> ContactEnd:
        status, state, line, peer, presence, until, off = (
            _s(v) for v in self._run("end_contact", now, contact_id,
                                     given=[keys.contact(contact_id)]))
        return ContactEnd(
            status, state, _int_or_none(line), _int_or_none(peer),
            Presence(presence) if presence else None, float(until) if until else None,
            _peer_off(peer, off) if peer else None,
        )

    def match_pass(self, line_id: int, now: float,
                   limit: int = defaults.MAX_OFFERS_PER_PASS) -> list[Offer]:
        return [_offer(o) for o in self._run("match_pass", now, line_id, limit,
                                             given=[keys.line_classes(line_id)])]

    # Offers -------------------------------------------------------------------------------

    def accept(self, offer_id: str, now: float) -> AcceptResult:
        status, cid, peer, line, channel, off = (_s(v) for v in
                                                 self._run("accept", now, offer_id,
                                                           given=[keys.offer(offer_id)]))
        return AcceptResult(status, cid, _int_or_none(peer), _int_or_none(line), channel,
                            _peer_off(peer, off) if peer else None)

    def decline(self, offer_id: str, now: float) -> OfferEnd:
        return self.lapse(offer_id, LapseReason.DECLINED, now)

    def lapse(self, offer_id: str, reason: LapseReason, now: float) -> OfferEnd:
        return self._offer_end(self._run("end_offer", now, offer_id, reason.value,
                                         given=[keys.offer(offer_id)]))

    @staticmethod
    def _offer_end(raw: Sequence[Any]) -> OfferEnd:
        status, cid, peer, line, off = (_s(v) for v in raw)
        return OfferEnd(status, cid, _int_or_none(peer), _int_or_none(line),
                        _peer_off(peer, off) if peer else None)

    # Reading ------------------------------------------------------------------------------

    def load(self, peer_id: int) -> PeerLoad:
        calls, texts, chats = self._read(lambda pipe: (
            pipe.scard(keys.peer_contacts(peer_id, "voice")),
            pipe.scard(keys.peer_contacts(peer_id, "sms")),
            pipe.scard(keys.peer_contacts(peer_id, "chat"))))
        return PeerLoad(calls=int(calls), texts=int(texts) + int(chats))

    def presence(self, peer_id: int) -> Presence | None:
        (raw,) = self._read(lambda pipe: pipe.hget(keys.peer(peer_id), "presence"))
        return Presence(_s(raw)) if raw else None

    def peer_view(self, peer_id: int, now: float) -> PeerView | None:
        """The peer as the pure rules see it (dashboards, tests)."""
        (raw,) = self._read(lambda pipe: pipe.hgetall(keys.peer(peer_id)))
        h = {_s(k): _s(v) for k, v in raw.items()}
        if "presence" not in h:
            return None
        assigned = {int(x) for x in h.get("lines", "").split(",") if x}
        on_shift = {int(_s(x)) for x in self.redis.smembers(keys.peer_shift_lines(peer_id))}
        drop_ins = {int(_s(k)) for k, v in self.redis.hgetall(keys.peer_drop_ins(peer_id)).items()
                    if float(_s(v)) > now}

        def split(name: str) -> frozenset[str]:
            return frozenset(x for x in h.get(name, "").split(",") if x)

        return PeerView(
            peer_id=peer_id,
            presence=Presence(h["presence"]),
            working_lines=frozenset((on_shift & assigned) | drop_ins),
            experiences=split("experiences"),
            languages=split("languages"),
            channels=split("channels"),
            max_texts=int(h.get("max_texts") or 0),
            idle_since=float(h.get("idle_since") or now),
            load=self.load(peer_id),
            has_pending_offer=bool(h.get("offer")),
            in_a_row=int(h.get("in_a_row") or 0),
        )

    def drop_in_lines(self, peer_id: int, now: float) -> dict[int, float]:
        """Lines the peer may work by an admin's leave, and until when (unexpired only)."""
        return {int(_s(k)): float(_s(v))
                for k, v in self.redis.hgetall(keys.peer_drop_ins(peer_id)).items()
                if float(_s(v)) > now}

    def back_to_back(self, peer_id: int, now: float) -> tuple[int, int] | None:
        """(contacts in a row, the limit reached) when a line the peer works now offers them
        nothing more until a break; None otherwise."""
        view = self.peer_view(peer_id, now)
        if view is None:
            return None
        for line_id in sorted(view.working_lines):
            raw = self.redis.hget(keys.line(line_id), "back_to_back_limit")
            limit = int(_s(raw)) if raw else 0
            if limit > 0 and view.in_a_row >= limit:
                return view.in_a_row, limit
        return None

    def contact_state(self, contact_id: str) -> str | None:
        (raw,) = self._read(lambda pipe: pipe.hget(keys.contact(contact_id), "state"))
        return _s(raw) if raw else None

    def offer_expires_at(self, offer_id: str) -> float | None:
        """When a pending offer lapses; None once it is not pending (or unknown)."""
        state, expires = self._read(lambda pipe: pipe.hmget(keys.offer(offer_id),
                                                            ["state", "expires"]))[0]
        return float(_s(expires)) if state == b"pending" and expires else None

    def contact_view(self, contact_id: str) -> ContactView | None:
        return self.contact_view_and_state(contact_id)[0]

    def contact_view_and_state(self, contact_id: str) -> tuple[ContactView | None, str | None]:
        """The contact as routing holds it and its state (waiting, offered, connected), read
        once: None and None for a contact routing does not hold."""
        view, state, _ = self.contact_view_state_and(contact_id)
        return view, state

    def contact_view_state_and(
        self, contact_id: str, also: Callable[[Pipeline], object] | None = None,
    ) -> tuple[ContactView | None, str | None, list[Any]]:
        """`contact_view_and_state`, and the answers of the reads `also` adds (routing keys only:
        one transaction, one hash slot) in the same round trip."""

        def build(pipe: Pipeline) -> None:
            pipe.hgetall(keys.contact(contact_id))
            if also is not None:
                also(pipe)

        raw, *extra = self._read(build)
        h = {_s(k): _s(v) for k, v in raw.items()}
        if "state" not in h:
            return None, None, extra
        return ContactView(
            contact_id=contact_id, line_id=int(h["line"]), channel=h["channel"],
            experience=h.get("experience") or None, language=h["language"],
            priority=priority_from_score(float(h["score"])),
            arrived_at=float(h["arrived"]), accepts_any_peer=h.get("any") == "1",
        ), h["state"], extra

    def waiting_contact_ids(self) -> list[str]:
        (raw,) = self._read(lambda pipe: pipe.zrange(keys.waiting_all(), 0, -1))
        return [_s(c) for c in raw]

    def pending_offer_ids(self) -> list[str]:
        found = self._read(lambda pipe: tuple(pipe.zrange(keys.pending_offers(channel), 0, -1)
                                              for channel in CHANNELS))
        return [_s(o) for offers in found for o in offers]

    def connections(self) -> list[tuple[str, int, str]]:
        """Connected contacts as (contact id, peer id, channel), for the sweep's live checks."""
        out: list[tuple[str, int, str]] = []
        (connected,) = self._read(lambda pipe: pipe.zrange(keys.connected(), 0, -1))
        for raw in connected:
            cid = _s(raw)
            peer, channel = self.redis.hmget(keys.contact(cid), ["peer", "channel"])
            if peer and channel:
                out.append((cid, int(_s(peer)), _s(channel)))
        return out

    def line_ids(self) -> list[int]:
        (raw,) = self._read(lambda pipe: pipe.smembers(keys.lines()))
        return sorted(int(_s(x)) for x in raw)

    def peer_ids(self) -> list[int]:
        (raw,) = self._read(lambda pipe: pipe.smembers(keys.peers()))
        return sorted(int(_s(x)) for x in raw)

    def snapshot(self, line_id: int, now: float) -> QueueSnapshot:
        """Counts and waiting times by channel and experience; never a contact's identity."""
        classes: list[ClassSnapshot] = []
        self._require_state()
        for raw in sorted(self.redis.smembers(keys.line_classes(line_id))):
            parts: list[str] = _s(raw).split(":")
            channel, experience, language = parts[0], parts[1], parts[2]
            scored = cast(list[tuple[bytes, float]], self.redis.zrange(
                keys.waiting(line_id, channel, experience, language), 0, -1, withscores=True))
            if scored:
                waits = [max(0.0, now - arrival_from_score(float(s))) for _, s in scored]
                classes.append(ClassSnapshot(channel, experience, len(waits), max(waits),
                                             float(statistics.median(waits))))
        merged: dict[tuple[str, str], list[ClassSnapshot]] = defaultdict(list)
        for c in classes:  # languages are folded together: the board shows channel x experience
            merged[(c.channel, c.experience)].append(c)
        folded = [
            ClassSnapshot(ch, exp, sum(c.waiting for c in group),
                          max(c.longest_wait_seconds for c in group),
                          max(c.median_wait_seconds for c in group))
            for (ch, exp), group in sorted(merged.items())
        ]
        offered = sum(
            1 for oid in self.pending_offer_ids()
            if _s(self.redis.hget(keys.offer(oid), "line") or b"") == str(line_id)
        )
        connected = sum(1 for cid, _, _ in self.connections()
                        if _s(self.redis.hget(keys.contact(cid), "line") or b"") == str(line_id))
        presences: Counter[str] = Counter()
        for raw in self.redis.smembers(keys.line_on_shift(line_id)):
            p = self.redis.hget(keys.peer(_s(raw)), "presence")
            if p:
                presences[_s(p)] += 1
        return QueueSnapshot(line_id, folded, offered, connected, dict(presences))

    # Repair -------------------------------------------------------------------------------

    def sweep(self, now: float) -> SweepReport:
        lapsed, readied, stale, went_off = self._run("sweep", now)
        return SweepReport(
            lapsed=[OfferEnd("ended", _s(c), int(_s(p)), int(_s(line)), _peer_off(p, off))
                    for _, c, p, line, off in lapsed],
            readied_peers=[(int(_s(p)), Presence(_s(pr))) for p, pr in readied],
            stale_contacts=[_s(c) for c in stale],
            went_off=[PeerOff(int(_s(p)), OffReason(_s(r))) for p, r in went_off],
        )


__all__ = ["ANY_EXPERIENCE", "PeerProfile", "RoutingEngine", "RoutingStateLostError"]
