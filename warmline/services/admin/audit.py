"""The admin audit trail: every change made from the admin pages, read back for the audit page."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from warmline.models import AuditEntry

AUDIT_PAGE_SIZE = 100


@dataclass(frozen=True)
class Actor:
    """Who is changing things: the signed-in admin."""

    user_id: int | None
    email: str


def record_change(  # noqa: PLR0917 - an audit entry is these six things
    session: Session, actor: Actor, action: str, target: str, detail: dict[str, Any], now: datetime
) -> None:
    """Append one entry in the caller's transaction, so the change and its record commit together."""
    session.add(AuditEntry(user_id=actor.user_id, actor=actor.email, action=action,
                           target=target[:200], detail=detail, at=now))


def list_audit_entries(
    session: Session, *, before_id: int | None = None, limit: int = AUDIT_PAGE_SIZE
) -> Sequence[AuditEntry]:
    """Newest first, a page at a time (`before_id` is the last id of the previous page)."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    return session.scalars(query).all()


def describe_detail(detail: dict[str, Any]) -> str:
    """A short, readable summary of an entry's detail for the audit page."""
    parts: list[str] = []
    for key, value in detail.items():
        if isinstance(value, dict):
            inner = ", ".join(f"{k} {v}" for k, v in value.items() if v not in (0, None, "", [], {}))
            if inner:
                parts.append(f"{key}: {inner}")
        elif isinstance(value, list):
            if value:
                parts.append(f"{key}: {', '.join(str(v) for v in value)}")
        elif value not in (None, ""):
            parts.append(f"{key}: {value}")
    return "; ".join(parts)
