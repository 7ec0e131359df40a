"""Each inbound text is taken once, ever: Twilio's retries, late duplicates and a replayed signed
request (a `STOP` or `DELETE` captured and sent again a month later) are refused by MessageSid.

Durable in SQL rather than a Redis key with a TTL: a signature carries no timestamp, so no TTL
is long enough, and Redis may come back empty.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError

from warmline.models import SeenMessage
from warmline.runtime import Runtime

_HASH_PURPOSE = "message-sid:"  # keeps these hashes apart from phone pseudonyms (same key)


def first_sighting(runtime: Runtime, message_sid: str, now: datetime) -> bool:
    """True the first time a MessageSid is seen; every later time (whenever) False."""
    sid_hash = runtime.keys.keyed_hash(_HASH_PURPOSE + message_sid)
    try:
        with runtime.sessions.begin() as session:
            session.add(SeenMessage(message_sid_hash=sid_hash, seen_at=now))
    except IntegrityError:
        return False  # the primary key says: taken already, by this request's first sighting
    return True
