"""Short-lived Redis state of live calls that is not routing: which call is which contact, etc.

Nothing here is a phone number in clear: the callback draft is encrypted by the caller of
`save_callback_draft`. The keys and their TTLs are built in `warmline.keys` (the voice section).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from redis import Redis
from redis.client import Pipeline
from redis.lock import Lock
from redis.typing import EncodableT, FieldT

from warmline import keys, redis_batch

# What a hang-up means when no outcome was claimed yet: abandoned, unless the call was told
# the line is closed (closed_hours) or left a callback request (no outcome until it is placed).
NO_OUTCOME_ON_HANGUP = "none"


@dataclass(frozen=True)
class WaitFacts:
    """What the hold loop needs of a queued caller, kept beside the call's other state."""

    line_id: int
    language: str
    experience_key: str | None
    any_peer: bool


@dataclass(frozen=True)
class ArrivalFacts:
    """What the answer to a call's first question (the language or experience menu) needs of
    its contact, kept beside the call's other state so that answer reads no SQL."""

    line_id: int
    language: str
    caller_hash: str
    arrived_at: datetime
    priority: int


@dataclass(frozen=True)
class DroppedCall:
    """A connected call the caller's side ended (a drop, or they hung up): with whom, and how
    it was asked for, so a call back within minutes can reach the same peer (DESIGN step 10)."""

    peer_id: int
    line_id: int
    experience_key: str | None
    language: str


@dataclass(frozen=True)
class Transfer:
    """A warm transfer under way: who is brought in, their leg, how far it went (`seeking`
    another peer through routing, `ringing`, `joined`, `handed_over`), whether the caller is on
    hold while the peer briefs them, and (target `peer`) the linked contact routing offers."""

    target: str
    call_sid: str
    stage: str
    caller_held: bool
    linked: str = ""


@dataclass(frozen=True)
class MentorOnCall:
    """A mentor asked onto a call: who, their leg, how far it went (`ringing`, `joined`,
    `failed`, `left`), and whether the caller hears them yet (coaching ended). A shadowing
    mentor (`shadow`) joins muted: nobody hears them until they unmute to coach the peer.
    `asker` is the peer on the call; `declined` the mentors who said "can't now"."""

    peer_id: int
    call_sid: str
    stage: str
    speaking: bool
    asker: int = 0
    shadow: bool = False
    muted: bool = False
    declined: frozenset[int] = frozenset()


def _text(value: bytes | str | None) -> str | None:
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else value


def _dropped_call_of(raw: Mapping[Any, Any]) -> DroppedCall | None:
    """A dropped-call link as HGETALL returns it (empty: none)."""
    found = {_text(k): _text(v) for k, v in raw.items()}
    peer, line = found.get("peer"), found.get("line")
    if not peer or not line:
        return None
    return DroppedCall(int(peer), int(line), found.get("experience") or None,
                       found.get("language") or "en")


class CallState:
    """Typed access to the voice keys above."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    def link_call(self, call_sid: str, contact_id: str) -> None:
        self.redis.set(keys.voice_contact_of_call(call_sid), contact_id,
                       ex=keys.CALL_STATE_TTL_SECONDS)

    def claim_call(self, call_sid: str, contact_id: str, *,
                   dropped_of: str) -> tuple[str | None, DroppedCall | None]:
        """Link a new call to `contact_id` unless it is linked already: the contact an earlier
        request of this call claimed (a retry or a replay), or None when this one won; and, in
        the same round trip, the dropped call of the caller `dropped_of` (a keyed hash)."""
        key = keys.voice_contact_of_call(call_sid)
        pipe = self.redis.pipeline(transaction=False)
        pipe.set(key, contact_id, nx=True, ex=keys.CALL_STATE_TTL_SECONDS)
        pipe.get(key)
        pipe.hgetall(keys.voice_dropped_call(dropped_of))
        won, linked, dropped = pipe.execute()
        return (None if won else _text(linked)), _dropped_call_of(dropped)

    def contact_of_call(self, call_sid: str) -> str | None:
        return _text(self.redis.get(keys.voice_contact_of_call(call_sid)))

    def is_newer_event(self, call_sid: str, sequence: int) -> bool:
        """True once per increasing SequenceNumber: duplicates and stragglers return False."""
        script = (
            "local cur = tonumber(redis.call('GET', KEYS[1]) or '-1') "
            "if tonumber(ARGV[1]) > cur then redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2]) "
            "return 1 end return 0"
        )
        result = self.redis.eval(script, 1, keys.voice_call_sequence(call_sid), sequence,
                                 keys.CALL_STATE_TTL_SECONDS)
        return bool(result)

    def set_choice(self, contact_id: str, choice: str) -> None:
        self.redis.set(keys.voice_choice(contact_id), choice, ex=keys.CALL_STATE_TTL_SECONDS)

    def pop_choice(self, contact_id: str) -> str | None:
        return _text(self.redis.getdel(keys.voice_choice(contact_id)))

    def claim_outcome(self, contact_id: str, outcome: str) -> bool:
        """The first outcome claimed for a contact wins; every later claim returns False."""
        return bool(self.redis.set(keys.voice_outcome(contact_id), outcome, nx=True,
                                   ex=keys.CALL_STATE_TTL_SECONDS))

    def outcome(self, contact_id: str) -> str | None:
        return _text(self.redis.get(keys.voice_outcome(contact_id)))

    def count_miss(self, call_key: str, prompt: str) -> int:
        """One more silence or wrong key at `prompt`; returns how many so far."""
        key = keys.voice_gather_misses(call_key, prompt)
        pipe = self.redis.pipeline(transaction=True)
        pipe.incr(key)
        pipe.expire(key, keys.CALL_STATE_TTL_SECONDS)
        misses, _ = pipe.execute()
        return int(misses)

    def clear_misses(self, call_key: str, prompt: str) -> None:
        """The question was answered or left behind: a later visit gets its full bound again.
        Deferred in a webhook (warmline.redis_batch): the request counts no miss after it."""
        key = keys.voice_gather_misses(call_key, prompt)
        if not redis_batch.defer(self.redis, lambda pipe: pipe.delete(key)):
            self.redis.delete(key)

    def add_waited(self, contact_id: str, seconds: int) -> None:
        """The caller leaves their queue for a while (a call back being set up) and may come back:
        their wait so far still counts towards the line's max_wait_seconds."""
        key = keys.voice_waited_before(contact_id)
        pipe = self.redis.pipeline(transaction=True)
        pipe.incrby(key, max(seconds, 0))
        pipe.expire(key, keys.CALL_STATE_TTL_SECONDS)
        pipe.execute()

    def set_arrival_facts(self, contact_id: str, facts: ArrivalFacts) -> None:
        """Deferred in a webhook (warmline.redis_batch): read by the answer to the question this
        webhook asks, a request of its own after this one's answer."""
        self._set_facts(keys.voice_arrival_facts(contact_id), {
            "line": facts.line_id, "language": facts.language, "caller": facts.caller_hash,
            "arrived": facts.arrived_at.isoformat(), "priority": facts.priority})

    def outcome_and_arrival_facts(self, contact_id: str) -> tuple[str | None, ArrivalFacts | None]:
        """The call's outcome (None while it lasts) and its arrival facts (None when not
        written: a call that arrived before a release that writes them), in one round trip."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.get(keys.voice_outcome(contact_id))
        pipe.hgetall(keys.voice_arrival_facts(contact_id))
        outcome, raw = pipe.execute()
        fields = {_text(k): _text(v) or "" for k, v in raw.items()}
        needed = ("line", "language", "caller", "arrived", "priority")
        if not all(fields.get(name) for name in needed):
            return _text(outcome), None
        return _text(outcome), ArrivalFacts(
            int(fields["line"]), fields["language"], fields["caller"],
            datetime.fromisoformat(fields["arrived"]), int(fields["priority"]))

    def set_wait_facts(self, contact_id: str, facts: WaitFacts) -> None:
        """Deferred in a webhook (warmline.redis_batch): only the wait step reads them, a request
        of its own after this one's answer."""
        self._set_facts(keys.voice_wait_facts(contact_id), {
            "line": facts.line_id, "language": facts.language,
            "experience": facts.experience_key or "", "any": int(facts.any_peer)})

    def _set_facts(self, key: str, fields: Mapping[FieldT, EncodableT]) -> None:
        """A hash a later request of the call reads, kept as long as the call's state: deferred
        in a webhook (warmline.redis_batch), written at once elsewhere."""

        def write(pipe: Pipeline) -> None:
            pipe.hset(key, mapping=fields)
            pipe.expire(key, keys.CALL_STATE_TTL_SECONDS)

        if not redis_batch.defer(self.redis, write):
            pipe = self.redis.pipeline(transaction=True)
            write(pipe)
            pipe.execute()

    def set_wait_any_peer(self, contact_id: str) -> None:
        """The waiting caller pressed 0: any peer will do (only if their facts are there)."""
        key = keys.voice_wait_facts(contact_id)
        if self.redis.exists(key):
            self.redis.hset(key, "any", 1)

    def wait_facts(self, contact_id: str) -> tuple[WaitFacts | None, int]:
        """The queued caller's facts (None if not written, e.g. queued by an older release) and
        the seconds waited before this <Enqueue>, in one round trip."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.hgetall(keys.voice_wait_facts(contact_id))
        pipe.get(keys.voice_waited_before(contact_id))
        raw, waited = pipe.execute()
        before = int(_text(waited) or 0)
        fields = {_text(k): _text(v) for k, v in raw.items()}
        if not fields.get("line") or not fields.get("language"):
            return None, before
        return WaitFacts(int(fields["line"] or 0), fields["language"] or "",
                         fields.get("experience") or None, fields.get("any") == "1"), before

    def waited_before(self, contact_id: str) -> int:
        raw = _text(self.redis.get(keys.voice_waited_before(contact_id)))
        return int(raw) if raw else 0

    def save_callback_draft(self, contact_id: str, fields: Mapping[str, str]) -> None:
        key = keys.voice_callback_draft(contact_id)
        self.redis.hset(key, mapping=dict(fields.items()))
        self.redis.expire(key, keys.CALLBACK_DRAFT_TTL_SECONDS)

    def callback_draft(self, contact_id: str) -> dict[str, str]:
        raw = self.redis.hgetall(keys.voice_callback_draft(contact_id))
        return {_text(k) or "": _text(v) or "" for k, v in raw.items()}

    def drop_callback_draft(self, contact_id: str) -> None:
        self.redis.delete(keys.voice_callback_draft(contact_id))

    def claim_ring(self, offer_id: str) -> bool:
        """Only the first ring job of an offer rings the peer (RQ may run a job twice)."""
        return bool(self.redis.set(keys.voice_offer_ring(offer_id), "1", nx=True,
                                   ex=keys.CALL_STATE_TTL_SECONDS))

    def link_offer(self, offer_id: str, contact_id: str) -> None:
        self.redis.set(keys.voice_offer_contact(offer_id), contact_id,
                       ex=keys.CALL_STATE_TTL_SECONDS)

    def contact_of_offer(self, offer_id: str) -> str | None:
        return _text(self.redis.get(keys.voice_offer_contact(offer_id)))

    def set_offer_call(self, offer_id: str, call_sid: str) -> None:
        self.redis.set(keys.voice_offer_call(offer_id), call_sid, ex=keys.CALL_STATE_TTL_SECONDS)

    def offer_call(self, offer_id: str) -> str | None:
        return _text(self.redis.get(keys.voice_offer_call(offer_id)))

    def set_ringing_call(self, contact_id: str, call_sid: str) -> None:
        self.redis.set(keys.voice_ringing_call(contact_id), call_sid,
                       ex=keys.CALL_STATE_TTL_SECONDS)

    def ringing_call(self, contact_id: str) -> str | None:
        return _text(self.redis.get(keys.voice_ringing_call(contact_id)))

    def set_outcome_on_hangup(self, contact_id: str, outcome: str) -> None:
        self.redis.set(keys.voice_on_hangup(contact_id), outcome, ex=keys.CALL_STATE_TTL_SECONDS)

    def outcome_on_hangup(self, contact_id: str) -> str | None:
        return _text(self.redis.get(keys.voice_on_hangup(contact_id)))

    def claim_after_call(self, contact_id: str, step: str) -> bool:
        """True once per call and after-call step (the survey answer, the resources text)."""
        return bool(self.redis.set(keys.voice_after_call(contact_id, step), "1", nx=True,
                                   ex=keys.CALL_STATE_TTL_SECONDS))

    def remember_dropped_call(self, caller_hash: str, dropped: DroppedCall) -> None:
        key = keys.voice_dropped_call(caller_hash)
        pipe = self.redis.pipeline(transaction=True)
        pipe.delete(key)
        pipe.hset(key, mapping={"peer": dropped.peer_id, "line": dropped.line_id,
                                "experience": dropped.experience_key or "",
                                "language": dropped.language})
        pipe.expire(key, keys.RECONNECT_SECONDS)
        pipe.execute()

    def dropped_call(self, caller_hash: str) -> DroppedCall | None:
        return _dropped_call_of(self.redis.hgetall(keys.voice_dropped_call(caller_hash)))

    def forget_dropped_call(self, caller_hash: str) -> None:
        self.redis.delete(keys.voice_dropped_call(caller_hash))

    def start_transfer(self, contact_id: str, target: str) -> bool:
        """Claim the call's one transfer (False: one is under way already)."""
        key = keys.voice_transfer(contact_id)
        if not self.redis.hsetnx(key, "target", target):
            return False
        self.redis.hset(key, mapping={"stage": "asking", "held": 0})
        self.redis.expire(key, keys.CALL_STATE_TTL_SECONDS)
        return True

    def update_transfer(self, contact_id: str, **fields: str | int) -> None:
        self.redis.hset(keys.voice_transfer(contact_id),
                        mapping={name: value for name, value in fields.items()})

    def advance_transfer(self, contact_id: str, call_sid: str, from_stage: str,
                         to_stage: str) -> bool:
        """Move the transfer of `call_sid` from one stage to the next, once: the room's callback
        and the join check (services/voice/conference.check_brought_in) may both see it."""
        return self._advance(keys.voice_transfer(contact_id), call_sid, from_stage, to_stage)

    def transfer(self, contact_id: str) -> Transfer | None:
        found = {_text(k): _text(v) for k, v in
                 self.redis.hgetall(keys.voice_transfer(contact_id)).items()}
        if not found.get("target"):
            return None
        return Transfer(found["target"] or "", found.get("call_sid") or "",
                        found.get("stage") or "asking", found.get("held") == "1",
                        found.get("linked") or "")

    def end_transfer(self, contact_id: str) -> None:
        self.redis.delete(keys.voice_transfer(contact_id))

    def link_transfer(self, contact_id: str, linked_id: str) -> None:
        """The contact routing offers to another peer on behalf of the call `contact_id`."""
        with self.redis.pipeline() as pipe:
            pipe.hset(keys.voice_transfer(contact_id), "linked", linked_id)
            pipe.set(keys.voice_transfer_origin(linked_id), contact_id,
                     ex=keys.CALL_STATE_TTL_SECONDS)
            pipe.execute()

    def transfer_origin(self, linked_id: str) -> str | None:
        """The call a linked contact was made for (None for any other contact)."""
        found = self.redis.get(keys.voice_transfer_origin(linked_id))
        return _text(found) if found else None

    def start_mentor(self, contact_id: str, mentor_peer_id: int, asker: int = 0, *,
                     shadow: bool = False) -> bool:
        """Claim the call's one mentor (False: one is on the way or there already)."""
        key = keys.voice_mentor(contact_id)
        if not self.redis.hsetnx(key, "peer", mentor_peer_id):
            return False
        self.redis.hset(key, mapping={"stage": "asking", "speaking": 0, "asker": asker,
                                      "shadow": int(shadow), "muted": int(shadow)})
        self.redis.expire(key, keys.CALL_STATE_TTL_SECONDS)
        self.point_mentor_at(mentor_peer_id, contact_id)
        return True

    def point_mentor_at(self, mentor_peer_id: int, contact_id: str) -> None:
        """The call a mentor's dashboard shows (offered to them, or theirs to shadow)."""
        self.redis.set(keys.voice_mentoring(mentor_peer_id), contact_id,
                       ex=keys.CALL_STATE_TTL_SECONDS)

    def mentoring(self, mentor_peer_id: int) -> str | None:
        return _text(self.redis.get(keys.voice_mentoring(mentor_peer_id)))

    def forget_mentoring(self, mentor_peer_id: int) -> None:
        self.redis.delete(keys.voice_mentoring(mentor_peer_id))

    def update_mentor(self, contact_id: str, **fields: str | int) -> None:
        self.redis.hset(keys.voice_mentor(contact_id),
                        mapping={name: value for name, value in fields.items()})

    def advance_mentor(self, contact_id: str, call_sid: str, from_stage: str,
                       to_stage: str) -> bool:
        """As advance_transfer, for the mentor's leg."""
        return self._advance(keys.voice_mentor(contact_id), call_sid, from_stage, to_stage)

    def _advance(self, key: str, call_sid: str, from_stage: str, to_stage: str) -> bool:
        if not call_sid:
            return False
        script = (
            "if redis.call('HGET', KEYS[1], 'call_sid') == ARGV[1] "
            "and redis.call('HGET', KEYS[1], 'stage') == ARGV[2] then "
            "redis.call('HSET', KEYS[1], 'stage', ARGV[3]) return 1 end return 0"
        )
        return bool(self.redis.eval(script, 1, key, call_sid, from_stage, to_stage))

    def mentor(self, contact_id: str) -> MentorOnCall | None:
        found = {_text(k): _text(v) for k, v in
                 self.redis.hgetall(keys.voice_mentor(contact_id)).items()}
        if not found.get("peer"):
            return None
        declined = frozenset(int(p) for p in (found.get("declined") or "").split(",") if p)
        return MentorOnCall(int(found["peer"] or 0), found.get("call_sid") or "",
                            found.get("stage") or "asking", found.get("speaking") == "1",
                            asker=int(found.get("asker") or 0), shadow=found.get("shadow") == "1",
                            muted=found.get("muted") == "1", declined=declined)

    def end_mentor(self, contact_id: str) -> None:
        self.redis.delete(keys.voice_mentor(contact_id))

    def set_reconnecting(self, contact_id: str, peer_id: int) -> None:
        self.redis.set(keys.voice_reconnecting(contact_id), peer_id,
                       ex=keys.CALL_STATE_TTL_SECONDS)

    def reconnecting_peer(self, contact_id: str) -> int | None:
        value = _text(self.redis.get(keys.voice_reconnecting(contact_id)))
        return int(value) if value else None

    def ending_lock(self, contact_id: str) -> Lock:
        """Serialises "how did this contact end": a caller's hang-up and the peer's leg ending
        arrive together, and only one of them may look at the state and claim the outcome."""
        lock: Lock = self.redis.lock(keys.voice_ending_lock(contact_id),
                                     timeout=keys.ENDING_LOCK_SECONDS, blocking_timeout=5)
        return lock
