"""Daily aggregates: what survives retention, and all that reports ever read."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from warmline.models.base import Base


class DailyAggregate(Base):
    __tablename__ = "daily_aggregates"
    __table_args__ = (UniqueConstraint("line_id", "day", "hour", "channel", "experience_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    line_id: Mapped[int] = mapped_column(Integer, index=True)
    day: Mapped[date] = mapped_column(Date, index=True)  # line-local date
    hour: Mapped[int] = mapped_column(Integer)  # line-local hour 0-23
    channel: Mapped[str] = mapped_column(String(8))
    experience_key: Mapped[str] = mapped_column(String(40), default="")  # "" = anyone
    offered: Mapped[int] = mapped_column(Integer, default=0)
    answered: Mapped[int] = mapped_column(Integer, default=0)
    abandoned: Mapped[int] = mapped_column(Integer, default=0)
    callbacks: Mapped[int] = mapped_column(Integer, default=0)
    transfers: Mapped[int] = mapped_column(Integer, default=0)
    # The transfers by where the call went (services/upkeep/aggregates.TRANSFER_KINDS).
    transfers_crisis_warm: Mapped[int] = mapped_column(Integer, default=0)
    transfers_crisis_keypad: Mapped[int] = mapped_column(Integer, default=0)
    transfers_peer: Mapped[int] = mapped_column(Integer, default=0)
    transfers_admin: Mapped[int] = mapped_column(Integer, default=0)
    transfers_backup: Mapped[int] = mapped_column(Integer, default=0)
    mentored: Mapped[int] = mapped_column(Integer, default=0)  # a mentor joined the call
    repeat_contacts: Mapped[int] = mapped_column(Integer, default=0)
    # Sums and samples to compute averages and percentiles without keeping events.
    answer_seconds: Mapped[list[Any]] = mapped_column(default=list)
    duration_seconds_total: Mapped[int] = mapped_column(Integer, default=0)


class AggregateDay(Base):
    """Bookkeeping of one line-local day's aggregates: when they were last computed from the
    events, and when that day's events were deleted (after which the day is never recomputed)."""

    __tablename__ = "aggregate_days"

    line_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    computed_at: Mapped[datetime] = mapped_column()
    purged_at: Mapped[datetime | None] = mapped_column()


class SurveyTally(Base):
    """How many callers on a line-local day answered the after-call question with each score:
    counts only, never who or which call (the answer is anonymous by design)."""

    __tablename__ = "survey_tallies"

    line_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    score: Mapped[int] = mapped_column(Integer, primary_key=True)  # 1-5
    answers: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
