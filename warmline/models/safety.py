"""Blocks (for abuse only, always with an expiry) and text opt-outs, both by keyed hash."""

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
