"""Blocks (for abuse only, always with an expiry), text opt-outs and the inbound texts already
taken, all by keyed hash."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from warmline.models.base import Base


class Block(Base):
    __tablename__ = "blocks"

    id: Mapped[int] = mapped_column(primary_key=True)
    caller_hash: Mapped[str] = mapped_column(String(64), index=True)
    line_id: Mapped[int | None] = mapped_column(ForeignKey("lines.id"))  # None: every line
    reason: Mapped[str] = mapped_column(String(200), default="abuse")
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column()
    expires_at: Mapped[datetime] = mapped_column(index=True)


class OptOut(Base):
    __tablename__ = "opt_outs"
    __table_args__ = (UniqueConstraint("caller_hash", "line_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    caller_hash: Mapped[str] = mapped_column(String(64), index=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("lines.id"))
    created_at: Mapped[datetime] = mapped_column()


class SeenMessage(Base):
    """An inbound text already taken, by the keyed hash of Twilio's MessageSid.

    Kept for good: Twilio signatures carry no timestamp, so a captured signed request (a `STOP`,
    a `DELETE`) could be replayed at any later time; its MessageSid is what refuses it. Hashed,
    so the table cannot be used to look a texter's messages up at Twilio.
    """

    __tablename__ = "seen_messages"

    message_sid_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column()
