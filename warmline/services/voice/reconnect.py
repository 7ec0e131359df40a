"""Reconnect with the same peer (DESIGN step 10).

A connected call that the caller's side ended (their signal dropped, or they hung up) is
remembered for a few minutes under the keyed hash of their number: with whom, on which line, in
which language and for which experience. When they call back in that time and that peer could
take a call now (available, or in wrap-up after this very call), they are asked whether they want
the same peer; if so, routing offers that peer the call first and goes on as usual if the peer
does not take it (warmline.routing.lua.common `may_reconnect`). Redis only, with an expiry.
"""

from __future__ import annotations

from datetime import datetime

from warmline.domain.matching import Presence
from warmline.models import Contact, Line
from warmline.runtime import Runtime
from warmline.services import routing
from warmline.voice import questions
from warmline.voice.gathering import ask
from warmline.voice.prompts import text
from warmline.voice.state import CallState, DroppedCall

AGAIN_DIGIT = "1"
SOMEONE_ELSE_DIGIT = "2"
# Who may be offered the caller first: in wrap-up too, since that wrap-up is this caller's call.
_PEER_MAY_TAKE = frozenset({Presence.AVAILABLE, Presence.WRAP_UP})


def remember_if_caller_left(runtime: Runtime, contact: Contact, ending_call_sid: str, *,
                            peer_id: int | None = None) -> None:
    """The room ended. When the caller's own leg ended it, remember with whom they spoke
    (`peer_id`: the peer the call was handed over to, when it was)."""
    peer_id = peer_id if peer_id is not None else contact.peer_id
    if (not ending_call_sid or ending_call_sid != contact.provider_sid or contact.is_callback
            or peer_id is None or contact.line_id is None):
        return
    CallState(runtime.redis).remember_dropped_call(contact.caller_hash, DroppedCall(
        peer_id, contact.line_id, contact.experience_key, contact.language))


def dropped_call_to_offer(runtime: Runtime, dropped: DroppedCall | None, line: Line,
                          now: datetime) -> DroppedCall | None:
    """The call this caller just lost (`dropped`, their link as read on arrival) on `line`,
    when its peer could be offered them now."""
    if dropped is None or dropped.line_id != line.id or dropped.language not in line.languages:
        return None
    if routing.routing_engine(runtime, now).presence(dropped.peer_id) not in _PEER_MAY_TAKE:
        return None
    return dropped


def take_dropped_call(runtime: Runtime, caller_hash: str) -> DroppedCall | None:
    """The link, used once: whatever the caller answers, it is not asked again."""
    state = CallState(runtime.redis)
    dropped = state.dropped_call(caller_hash)
    state.forget_dropped_call(caller_hash)
    return dropped


def reconnect_question(contact_id: str, language: str, preface: str | None = None) -> str:
    spoken = [preface] if preface else []
    spoken.append(text(language, "reconnect_offer"))
    return ask(questions.RECONNECT, language, spoken, {"contact": contact_id})
