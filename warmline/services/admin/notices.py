"""Notices for the admins' live board: coverage gaps, floods, back-to-back limits, drop-in asks.

A notice is a short sentence the app wrote from ids, names and times: never a caller's number,
pseudonym or words. They live in one Redis list (newest first, kept two days), beside the
support alerts; what must last is recorded elsewhere (the audit trail, the event log).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from redis import Redis

from warmline import keys
from warmline.wording import N_, Wording, values_from_json, values_to_json

NOTICES_MAX = 200
NOTICES_KEEP = timedelta(seconds=keys.ADMIN_NOTICES_TTL_SECONDS)


class NoticeKind(StrEnum):
    COVERAGE_GAP = "coverage_gap"
    FLOOD = "flood"
    BACK_TO_BACK = "back_to_back"
    DROP_IN_REQUEST = "drop_in_request"
    OPEN_SHIFT = "open_shift"


NOTICE_TITLES = {
    NoticeKind.COVERAGE_GAP: N_("Coverage gap"),
    NoticeKind.FLOOD: N_("Flood"),
    NoticeKind.BACK_TO_BACK: N_("Back-to-back limit"),
    NoticeKind.DROP_IN_REQUEST: N_("Drop-in asked"),
    NoticeKind.OPEN_SHIFT: N_("Swap to approve"),
}


@dataclass(frozen=True)
class AdminNotice:
    id: str
    kind: NoticeKind
    text: str
    at: datetime
    line_id: int | None = None
    ref: str = ""
    """What an action on the board refers to (a drop-in request id); never a caller's."""

    @property
    def title(self) -> str:
        return NOTICE_TITLES[self.kind]


def post_notice(redis: Redis, kind: NoticeKind, text: str, at: datetime, *,
                line_id: int | None = None, ref: str = "") -> AdminNotice:
    """`text` is best a Wording (N_): its message and values are kept, so each admin reads the
    notice in their own language (the board's `tr`), not in the language it was written in."""
    notice = AdminNotice(uuid.uuid4().hex, kind, text, at, line_id, ref)
    wording = ({"template": text.template, "values": values_to_json(text.values)}
               if isinstance(text, Wording) else {})
    record = json.dumps({"id": notice.id, "kind": kind.value, "text": str(text), **wording,
                         "at": at.isoformat(), "line_id": line_id, "ref": ref})
    pipe = redis.pipeline()
    pipe.lpush(keys.admin_notices(), record)
    pipe.ltrim(keys.admin_notices(), 0, NOTICES_MAX - 1)
    pipe.expire(keys.admin_notices(), keys.ADMIN_NOTICES_TTL_SECONDS)
    pipe.execute()
    return notice


def list_notices(redis: Redis, now: datetime) -> list[AdminNotice]:
    """Notices of the last two days, newest first."""
    found: list[AdminNotice] = []
    raw_items: list[bytes] = redis.lrange(keys.admin_notices(), 0, NOTICES_MAX - 1)  # type: ignore[assignment]
    for raw in raw_items:
        item = json.loads(raw)
        at = datetime.fromisoformat(item["at"])
        if now - at > NOTICES_KEEP:
            continue
        text = (Wording(item["template"], values_from_json(item.get("values") or {}))
                if "template" in item
                else item["text"])
        found.append(AdminNotice(item["id"], NoticeKind(item["kind"]), text, at,
                                 item.get("line_id"), item.get("ref", "")))
    return found
