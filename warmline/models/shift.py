"""Shifts: a stretch of time a peer works a line, one-off or recurring, in the line's local time."""

from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import DateTime, ForeignKey, String, Text, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from warmline.models.base import Base
from warmline.models.line import Line
from warmline.models.people import Peer


class Shift(Base):
    __tablename__ = "shifts"

    id: Mapped[int] = mapped_column(primary_key=True)
    peer_id: Mapped[int] = mapped_column(ForeignKey("peers.id", ondelete="CASCADE"), index=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("lines.id", ondelete="CASCADE"), index=True)
    # Local wall-clock time of the line, deliberately naive: "09:00 every Tuesday" must stay
    # 09:00 across DST, so the zone is applied per occurrence, never stored here.
    start_local: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    end_local: Mapped[time] = mapped_column(Time())  # earlier than the start time: the next day
    rrule: Mapped[str | None] = mapped_column(String(255))  # RFC 5545; None for a one-off
    skip_dates: Mapped[list[str]] = mapped_column(default=list)  # ISO local dates
    note: Mapped[str | None] = mapped_column(Text)

    peer: Mapped[Peer] = relationship(lazy="joined")
    line: Mapped[Line] = relationship(lazy="joined")


class OpenShift(Base):
    """One occurrence of a shift its peer offered up ("I can't make Friday"), and who took it.

    Taking is one conditional UPDATE (state open -> taken), so the first to take it gets it.
    Once applied, the roster says it the way the roster file does: the series skips the date and
    a one-off shift covers it (a one-off shift offered up simply changes hands).
    """

    __tablename__ = "open_shifts"
    __table_args__ = (UniqueConstraint("shift_id", "occurrence_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shift_id: Mapped[int] = mapped_column(ForeignKey("shifts.id", ondelete="CASCADE"), index=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("lines.id", ondelete="CASCADE"), index=True)
    occurrence_date: Mapped[str] = mapped_column(String(10))  # ISO local start date
    starts_at: Mapped[datetime] = mapped_column()  # aware UTC, for ordering and reminders
    ends_at: Mapped[datetime] = mapped_column()
    offered_by_peer_id: Mapped[int] = mapped_column(ForeignKey("peers.id", ondelete="CASCADE"))
    offered_at: Mapped[datetime] = mapped_column()
    # open | pending_approval | taken | declined | withdrawn
    state: Mapped[str] = mapped_column(String(20), default="open", index=True)
    taken_by_peer_id: Mapped[int | None] = mapped_column(ForeignKey("peers.id", ondelete="SET NULL"))
    taken_at: Mapped[datetime | None] = mapped_column()
    cover_shift_id: Mapped[int | None] = mapped_column(ForeignKey("shifts.id", ondelete="SET NULL"))


class ShadowSession(Base):
    """A new peer paired with a mentor for one occurrence of the peer's shift (DESIGN step 9):
    while it lasts, each call the peer is connected to rings the mentor in, listening only.
    The times are the occurrence's, kept in aware UTC so a ringing call finds it in one query."""

    __tablename__ = "shadow_sessions"
    __table_args__ = (UniqueConstraint("shift_id", "occurrence_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shift_id: Mapped[int] = mapped_column(ForeignKey("shifts.id", ondelete="CASCADE"), index=True)
    occurrence_date: Mapped[str] = mapped_column(String(10))  # ISO local start date
    line_id: Mapped[int] = mapped_column(ForeignKey("lines.id", ondelete="CASCADE"))
    peer_id: Mapped[int] = mapped_column(ForeignKey("peers.id", ondelete="CASCADE"), index=True)
    mentor_id: Mapped[int] = mapped_column(ForeignKey("peers.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column()
    ends_at: Mapped[datetime] = mapped_column()
    created_at: Mapped[datetime] = mapped_column()
