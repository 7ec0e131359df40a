"""Shifts: a stretch of time a peer works a line, one-off or recurring, in the line's local time."""

from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import DateTime, ForeignKey, String, Text, Time
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
