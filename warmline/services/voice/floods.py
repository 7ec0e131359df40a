"""Flood protection per line: many calls from one caller, or a burst of calls to the line.

Both limits are line settings (`flood_caller_limit` calls from one pseudonym in 10 minutes,
`flood_line_limit` calls to the line in one minute; 0 turns either off). A call over a limit is
answered kindly (see `warmline.voice.prompts`) and the admins on shift are told, on the live
board and by text, once per line and kind in FLOOD_ALERT_QUIET_SECONDS. The counters live in
Redis only and die with their window; nothing about the caller goes into the alert.
"""

from __future__ import annotations

import logging
from datetime import datetime
from enum import StrEnum

from redis.exceptions import RedisError
from sqlalchemy.orm import Session

from warmline import epoch, keys
from warmline.models import Line
from warmline.runtime import Runtime
from warmline.services.admin.notices import NoticeKind, post_notice
from warmline.services.peers.support import admins_of
from warmline.services.schedules import peers_on_shift
from warmline.services.texts.peer_texts import TextPeerNotifier
from warmline.wording import N_

log = logging.getLogger(__name__)


class FloodKind(StrEnum):
    CALLER = "caller"  # one caller, many calls
    LINE = "line"  # many calls to the line at once


def count_call(runtime: Runtime, line: Line, caller_hash: str, now: datetime, *,
               chat: bool = False) -> FloodKind | None:
    """Count this call (or chat: the same counters, one person's contacts whichever way they
    come in); the kind of flood it is part of, if any (the caller's own first). `chat` only
    changes what the admins are told."""
    if line.flood_caller_limit <= 0 and line.flood_line_limit <= 0:
        return None
    second = int(epoch.seconds(now))  # the counters' windows are numbered in epoch seconds
    caller_key = keys.flood_caller_calls(line.id, caller_hash,
                                        second // keys.FLOOD_CALLER_WINDOW_SECONDS)
    line_key = keys.flood_line_calls(line.id, second // keys.FLOOD_LINE_WINDOW_SECONDS)
    try:
        pipe = runtime.redis.pipeline()
        pipe.incr(caller_key)
        pipe.expire(caller_key, keys.FLOOD_CALLER_WINDOW_SECONDS)
        pipe.incr(line_key)
        pipe.expire(line_key, keys.FLOOD_LINE_WINDOW_SECONDS)
        caller_calls, _, line_calls, _ = pipe.execute()
    except RedisError:
        # Flood protection must never be why a caller is turned away: count nothing.
        log.warning("flood counters unavailable; the call is taken as usual")
        return None
    kind: FloodKind | None = None
    if 0 < line.flood_caller_limit < int(caller_calls):
        kind = FloodKind.CALLER
    elif 0 < line.flood_line_limit < int(line_calls):
        kind = FloodKind.LINE
    if kind is not None:
        _alert_admins(runtime, line, kind, now, chat=chat)
    return kind


def _admins_to_tell(session: Session, line: Line, now: datetime) -> list[int]:
    admins = admins_of(session, [line])
    on_shift = peers_on_shift(session, line, now)
    # The admin on shift; when none is, the line's admins (as "need support" does).
    return [a for a in admins if a in on_shift] or admins


def _alert_admins(runtime: Runtime, line: Line, kind: FloodKind, now: datetime, *,
                  chat: bool) -> None:
    if not runtime.redis.set(keys.flood_alerted(line.id, kind.value), "1", nx=True,
                             ex=keys.FLOOD_ALERT_QUIET_SECONDS):
        return
    if kind is FloodKind.LINE and chat:
        words = N_("%(line)s: a burst of chats to the line in one minute. Chatters over the limit "
                   "are answered kindly.", line=line.name)
    elif kind is FloodKind.LINE:
        words = N_("%(line)s: a burst of calls to the line in one minute. Callers over the limit "
                   "are answered kindly and offered the backup line.", line=line.name)
    elif chat:
        words = N_("%(line)s: many chats from one person in 10 minutes. Chatters over the limit "
                   "are answered kindly.", line=line.name)
    else:
        words = N_("%(line)s: many calls from one caller in 10 minutes. Callers over the limit "
                   "are answered kindly.", line=line.name)
    post_notice(runtime.redis, NoticeKind.FLOOD, words, now, line_id=line.id)
    with runtime.sessions() as session:
        admins = _admins_to_tell(session, line, now)
    TextPeerNotifier(runtime).notify_flood(line.id, f"{kind.value}-chat" if chat else kind.value,
                                           admins, now)
