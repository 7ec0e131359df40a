"""Voice jobs on the urgent queue: ring a peer for an offer, remind a peer on a long call, give
up a warm transfer's search for another peer, look for someone brought into a call."""

from __future__ import annotations

from warmline.clock import utc_now
from warmline.runtime import process_runtime
from warmline.services.voice import conference as voice_conference
from warmline.services.voice import peer as voice_peer
from warmline.services.voice import transfer as voice_transfer


def ring_peer(offer_id: str, contact_id: str, peer_id: int, line_id: int) -> str | None:
    return voice_peer.ring_peer(process_runtime(), offer_id, contact_id, peer_id, line_id,
                                now=utc_now())


def remind_long_call(contact_id: str, peer_id: int) -> bool:
    return voice_peer.remind_long_call(process_runtime(), contact_id, peer_id, utc_now())


def give_up_peer_search(contact_id: str, linked_id: str) -> bool:
    return voice_transfer.give_up_peer_search(process_runtime(), contact_id, linked_id,
                                              utc_now())


def check_brought_in(contact_id: str, call_sid: str, checks_left: int) -> bool:
    return voice_conference.check_brought_in(process_runtime(), contact_id, call_sid, checks_left,
                                             utc_now())
