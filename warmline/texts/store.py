"""A live text or web chat conversation in Redis: the texter's number and the content, encrypted,
expiring. A chat has no number (an empty one, encrypted like any other).

Times go in and come out as aware UTC datetimes; Redis keeps them as epoch seconds (hash fields,
sorted-set scores, each message's "at"), converted here and nowhere else (`warmline.epoch`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from redis import Redis

from warmline import keys
from warmline.crypto import DataKeys
from warmline.epoch import moment, seconds

# Delivery states only move forward (Twilio's callbacks may come late, twice, or out of order).
_DELIVERY_RANK = {"queued": 0, "sending": 1, "sent": 2, "delivered": 3, "undelivered": 3,
                  "failed": 3, "unknown": 3}
_FORWARD_ONLY = """
local current = redis.call('HGET', KEYS[1], ARGV[1])
if current then
  local have = cjson.decode(ARGV[4])[current] or -1
  if tonumber(ARGV[3]) <= have then return 0 end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
"""


def _s(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _moment_or_none(raw: str | None) -> datetime | None:
    return moment(float(raw)) if raw else None


@dataclass(frozen=True)
class Conversation:
    contact_id: str
    line_id: int
    caller_hash: str
    number_encrypted: str
    peer_id: int | None
    offer_id: str | None
    experience: str | None
    risk: bool
    crisis_sent: bool
    accepted_at: datetime | None
    last_activity: datetime
    closed_at: datetime | None
    started_at: datetime
    told_no_peer_at: datetime | None
    seq: int
    label: str
    language: str = ""
    channel: str = "sms"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    @property
    def accepted(self) -> bool:
        return self.accepted_at is not None


class ConversationStore:
    """Redis only; every value that could identify the texter or carry content is encrypted."""

    def __init__(self, redis: Redis, data_keys: DataKeys, content_seconds: int) -> None:
        self.redis = redis
        self.keys = data_keys
        self.content_seconds = content_seconds
        self._forward = redis.register_script(_FORWARD_ONLY)

    # -- life -------------------------------------------------------------------------------

    def create(self, contact_id: str, *, line_id: int, caller_hash: str, number: str,
               experience: str | None, now: datetime, label: str, language: str = "",
               channel: str = "sms") -> None:
        at = repr(seconds(now))
        pipe = self.redis.pipeline()
        pipe.hset(keys.text_conversation(contact_id), mapping={
            "line": line_id, "caller": caller_hash, "number": self.keys.encrypt(number),
            "peer": "", "offer": "", "experience": experience or "", "risk": "0",
            "crisis_sent": "0", "accepted": "", "last": at, "closed": "", "seq": "0",
            "label": label, "language": language, "started": at, "told_no_peer": "",
            "channel": channel,
        })
        pipe.set(keys.text_open_conversation(line_id, caller_hash), contact_id,
                 ex=self.content_seconds)
        pipe.sadd(keys.text_conversations_of(caller_hash), contact_id)
        pipe.expire(keys.text_conversations_of(caller_hash), self.content_seconds)
        pipe.execute()
        self._expire(contact_id, self.content_seconds)

    def find_open(self, line_id: int, caller_hash: str) -> str | None:
        raw = self.redis.get(keys.text_open_conversation(line_id, caller_hash))
        return _s(raw) if raw else None

    def get(self, contact_id: str) -> Conversation | None:
        h = {_s(k): _s(v) for k, v in self.redis.hgetall(keys.text_conversation(contact_id)).items()}
        if "line" not in h:
            return None
        return Conversation(
            contact_id=contact_id, line_id=int(h["line"]), caller_hash=h["caller"],
            number_encrypted=h["number"], peer_id=int(h["peer"]) if h.get("peer") else None,
            offer_id=h.get("offer") or None, experience=h.get("experience") or None,
            risk=h.get("risk") == "1", crisis_sent=h.get("crisis_sent") == "1",
            accepted_at=_moment_or_none(h.get("accepted")),
            last_activity=moment(float(h.get("last") or 0)),
            closed_at=_moment_or_none(h.get("closed")),
            seq=int(h.get("seq") or 0), label=h.get("label", "Texter"),
            # Conversations opened before "started" was kept count their wait from their last
            # message: later than the truth, never earlier.
            started_at=moment(float(h.get("started") or h.get("last") or 0)),
            told_no_peer_at=_moment_or_none(h.get("told_no_peer")),
            language=h.get("language", ""),
            channel=h.get("channel") or "sms",
        )

    def number(self, conversation: Conversation) -> str:
        return self.keys.decrypt(conversation.number_encrypted)

    def set_fields(self, contact_id: str, **fields: str) -> None:
        if self.redis.exists(keys.text_conversation(contact_id)):
            mapping: dict[str | bytes, str | bytes] = dict(fields.items())
            self.redis.hset(keys.text_conversation(contact_id), mapping=mapping)  # type: ignore[arg-type]

    def claim_flag(self, contact_id: str, field: str) -> bool:
        """Set a 0/1 field to 1; True only for the first claim (risk flag, crisis numbers)."""
        return int(self.redis.hsetnx(keys.text_claims(contact_id), field, "1")) == 1

    def mark_told_no_peer(self, contact_id: str, at: datetime) -> None:
        """The texter was told no peer is free yet (their wait's bound counts again from here)."""
        self.set_fields(contact_id, told_no_peer=repr(seconds(at)))

    def touch(self, contact_id: str, now: datetime) -> None:
        self.set_fields(contact_id, last=repr(seconds(now)))
        conversation = self.get(contact_id)
        if conversation is None or not conversation.is_open:
            return
        if conversation.accepted:
            self.redis.zadd(keys.text_live(), {contact_id: seconds(now)})
        self.redis.expire(keys.text_open_conversation(conversation.line_id, conversation.caller_hash),
                          self.content_seconds)
        self._expire(contact_id, self.content_seconds)

    def accept(self, contact_id: str, peer_id: int, now: datetime) -> None:
        at = seconds(now)
        self.set_fields(contact_id, peer=str(peer_id), accepted=repr(at), last=repr(at))
        pipe = self.redis.pipeline()
        pipe.zadd(keys.text_live(), {contact_id: at})
        pipe.zrem(keys.text_waiting(), contact_id)
        pipe.execute()

    def look_at_wait(self, contact_id: str, at: datetime) -> None:
        """When the wait of a conversation nobody has taken is next looked at."""
        self.redis.zadd(keys.text_waiting(), {contact_id: seconds(at)})

    def stop_looking_at_wait(self, contact_id: str) -> None:
        self.redis.zrem(keys.text_waiting(), contact_id)

    def waits_due(self, now: datetime) -> list[str]:
        return [_s(c) for c in self.redis.zrangebyscore(keys.text_waiting(), "-inf",
                                                        seconds(now))]

    def close(self, contact_id: str, now: datetime, keep_seconds: float) -> bool:
        """Closes once (True the first time); content expires `keep_seconds` later."""
        conversation = self.get(contact_id)
        if conversation is None or not conversation.is_open:
            return False
        if not self.claim_flag(contact_id, "closing"):
            return False
        self.set_fields(contact_id, closed=repr(seconds(now)))
        pipe = self.redis.pipeline()
        open_key = keys.text_open_conversation(conversation.line_id, conversation.caller_hash)
        # Only our own pointer: a newer conversation of the same texter must stay reachable.
        if self.find_open(conversation.line_id, conversation.caller_hash) == contact_id:
            pipe.delete(open_key)
        pipe.zrem(keys.text_live(), contact_id)
        pipe.zrem(keys.text_waiting(), contact_id)
        pipe.execute()
        self._expire(contact_id, max(1, int(keep_seconds)))
        return True

    def idle_since(self, before: datetime) -> list[str]:
        return [_s(c) for c in self.redis.zrangebyscore(keys.text_live(), "-inf",
                                                        seconds(before))]

    def _expire(self, contact_id: str, seconds: int) -> None:
        pipe = self.redis.pipeline()
        for key in (keys.text_conversation(contact_id), keys.text_claims(contact_id),
                    keys.text_messages(contact_id), keys.text_outbound(contact_id)):
            pipe.expire(key, seconds)
        pipe.execute()

    # -- messages ---------------------------------------------------------------------------

    def append(self, contact_id: str, entry: dict[str, Any], at: datetime) -> None:
        """One message (or note) of the conversation, sent or received `at`."""
        kept = {**entry, "at": seconds(at)}
        self.redis.rpush(keys.text_messages(contact_id), self.keys.encrypt(json.dumps(kept)))
        self.redis.expire(keys.text_messages(contact_id), self.content_seconds)

    def entries(self, contact_id: str) -> list[dict[str, Any]]:
        """The conversation's messages in order, each with its "at" as a datetime."""
        out: list[dict[str, Any]] = []
        for raw in self.redis.lrange(keys.text_messages(contact_id), 0, -1):
            loaded: dict[str, Any] = json.loads(self.keys.decrypt(_s(raw)))
            if "at" in loaded:
                loaded["at"] = moment(float(loaded["at"]))
            out.append(loaded)
        return out

    def queue_outbound(self, contact_id: str, body: str, now: datetime, *, by: str,
                       segments: int) -> int:
        """Number the next outbound text of the conversation and keep its body for the sender."""
        seq = int(self.redis.hincrby(keys.text_conversation(contact_id), "seq", 1))
        self.redis.hset(keys.text_outbound(contact_id), mapping={
            f"body:{seq}": self.keys.encrypt(body), f"status:{seq}": "queued"})
        self.append(contact_id, {"dir": "out", "seq": seq, "by": by, "body": body,
                                 "segments": segments}, now)
        self._expire(contact_id, self.content_seconds)
        return seq

    def outbound_body(self, contact_id: str, seq: int) -> str | None:
        raw = self.redis.hget(keys.text_outbound(contact_id), f"body:{seq}")
        return self.keys.decrypt(_s(raw)) if raw else None

    def drop_outbound_body(self, contact_id: str, seq: int) -> None:
        self.redis.hdel(keys.text_outbound(contact_id), f"body:{seq}")

    def delivery(self, contact_id: str) -> dict[int, str]:
        out: dict[int, str] = {}
        for k, v in self.redis.hgetall(keys.text_outbound(contact_id)).items():
            name = _s(k)
            if name.startswith("status:"):
                out[int(name.split(":", 1)[1])] = _s(v)
        return out

    def status(self, contact_id: str, seq: int) -> str | None:
        raw = self.redis.hget(keys.text_outbound(contact_id), f"status:{seq}")
        return _s(raw) if raw else None

    def set_status(self, contact_id: str, seq: int, status: str) -> bool:
        """Forward only: a late "sent" never overwrites "delivered"."""
        rank = _DELIVERY_RANK.get(status)
        if rank is None:
            return False
        return bool(self._forward(keys=[keys.text_outbound(contact_id)], args=[
            f"status:{seq}", status, rank, json.dumps(_DELIVERY_RANK)]))

    def set_sid(self, contact_id: str, seq: int, message_sid: str) -> None:
        self.redis.hset(keys.text_outbound(contact_id), f"sid:{seq}", message_sid)

    def sid(self, contact_id: str, seq: int) -> str | None:
        raw = self.redis.hget(keys.text_outbound(contact_id), f"sid:{seq}")
        return _s(raw) if raw else None

    def claim_send(self, contact_id: str, seq: int) -> bool:
        """Marks `seq` as being sent, once: a job rerun after a crash never sends it twice."""
        return int(self.redis.hsetnx(keys.text_outbound(contact_id), f"claim:{seq}", "1")) == 1

    def sent_upto(self, contact_id: str) -> int:
        raw = self.redis.hget(keys.text_outbound(contact_id), "done")
        return int(_s(raw)) if raw else 0

    def mark_done(self, contact_id: str, seq: int) -> None:
        self.redis.hset(keys.text_outbound(contact_id), "done", str(seq))

    # -- offers shown on dashboards ---------------------------------------------------------

    def remember_offer(self, offer_id: str, contact_id: str, peer_id: int,
                       expires_at: datetime) -> None:
        expires = seconds(expires_at)
        pipe = self.redis.pipeline()
        pipe.hset(keys.text_offer(offer_id), mapping={"contact": contact_id, "peer": str(peer_id),
                                                 "expires": repr(expires)})
        pipe.expire(keys.text_offer(offer_id), keys.TEXT_OFFER_TTL_SECONDS)
        pipe.zadd(keys.text_peer_offers(peer_id), {offer_id: expires})
        pipe.expire(keys.text_peer_offers(peer_id), keys.TEXT_OFFER_TTL_SECONDS)
        pipe.execute()
        self.set_fields(contact_id, offer=offer_id)

    def offer(self, offer_id: str) -> tuple[str, int, datetime] | None:
        """(contact id, peer id, when the offer lapses) of an offer shown on a dashboard."""
        h = {_s(k): _s(v) for k, v in self.redis.hgetall(keys.text_offer(offer_id)).items()}
        if "contact" not in h:
            return None
        return h["contact"], int(h["peer"]), moment(float(h["expires"]))

    def peer_offer_ids(self, peer_id: int, now: datetime) -> list[str]:
        self.redis.zremrangebyscore(keys.text_peer_offers(peer_id), "-inf", seconds(now))
        return [_s(o) for o in self.redis.zrange(keys.text_peer_offers(peer_id), 0, -1)]

    def forget_offer(self, offer_id: str, peer_id: int) -> None:
        self.redis.zrem(keys.text_peer_offers(peer_id), offer_id)

    # -- erasure ----------------------------------------------------------------------------

    def erase_conversation(self, contact_id: str) -> None:
        """One conversation's content, now (a chatter's "end and delete")."""
        pipe = self.redis.pipeline()
        pipe.delete(keys.text_conversation(contact_id), keys.text_claims(contact_id),
                    keys.text_messages(contact_id), keys.text_outbound(contact_id))
        pipe.zrem(keys.text_live(), contact_id)
        pipe.zrem(keys.text_waiting(), contact_id)
        pipe.execute()

    def erase_texter(self, caller_hash: str, line_ids: list[int]) -> int:
        """DELETE: every conversation of this texter, its content and its number, now."""
        ids = [_s(c) for c in self.redis.smembers(keys.text_conversations_of(caller_hash))]
        doomed = [keys.text_conversations_of(caller_hash)]
        doomed += [keys.text_open_conversation(line_id, caller_hash) for line_id in line_ids]
        for cid in ids:
            doomed += [keys.text_conversation(cid), keys.text_claims(cid),
                       keys.text_messages(cid), keys.text_outbound(cid)]
            self.redis.zrem(keys.text_live(), cid)
        self.redis.delete(*doomed)
        return len(ids)
