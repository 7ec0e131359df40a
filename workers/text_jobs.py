"""Text jobs on the urgent `messages` queue: ids in, one service call each, idempotent."""

from __future__ import annotations

from warmline import epoch
from warmline.clock import utc_now
from warmline.runtime import process_runtime
from warmline.services.texts import conversation as texts_conversation
from warmline.services.texts import peer_texts


def send_texts(contact_id: str) -> int:
    """Send the conversation's queued texts in order; a rerun never sends one twice."""
    return texts_conversation.send_pending(process_runtime(), contact_id, utc_now())


def close_if_idle(contact_id: str) -> bool:
    """Close the conversation once idle past the policy's limit, else look again later."""
    return texts_conversation.close_if_idle(process_runtime(), contact_id, utc_now())


def check_wait(contact_id: str) -> str:
    """Bound the wait of a texter no peer has taken: an honest text, then a goodbye."""
    return texts_conversation.check_wait(process_runtime(), contact_id, utc_now()).value


def close_idle_conversations() -> int:
    runtime, now = process_runtime(), utc_now()
    return (texts_conversation.close_idle_conversations(runtime, now)
            + texts_conversation.check_waits_due(runtime, now))


def send_peer_text(peer_id: int, line_id: int | None, kind: str, at_epoch: float) -> bool:
    """A notice to a peer (set off, shift reminder), built from its kind: no text in the job.
    `at_epoch` stays epoch seconds on the wire (jobs already queued carry it so): made a datetime
    here."""
    return peer_texts.send_peer_text(process_runtime(), peer_id, line_id, kind,
                                     epoch.moment(at_epoch))
