"""Peers (who answer), their experiences, and the dashboard's users."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    ForeignKey,
    Integer,
    String,
    Table,
    UniqueConstraint,
    false,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from warmline.models.base import Base
from warmline.models.line import Experience

peer_experiences = Table(
    "peer_experiences",
    Base.metadata,
    Column("peer_id", ForeignKey("peers.id", ondelete="CASCADE"), primary_key=True),
    Column("experience_id", ForeignKey("experiences.id", ondelete="CASCADE"), primary_key=True),
)


class Peer(Base):
    __tablename__ = "peers"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # key; also the sign-in
    name: Mapped[str] = mapped_column(String(120))
    # The phone is needed to ring the peer, so it is stored encrypted; the keyed hash lets us
    # recognise a text from it (ON/OFF/BREAK/STATUS) without decrypting every row.
    phone_encrypted: Mapped[str] = mapped_column(String(255))
    phone_hash: Mapped[str] = mapped_column(String(64), unique=True)
    languages: Mapped[list[str]] = mapped_column(default=lambda: ["en"])
    channels: Mapped[list[str]] = mapped_column(default=lambda: ["voice", "sms"])
    max_texts: Mapped[int] = mapped_column(Integer, default=2)
    role: Mapped[str] = mapped_column(String(10), default="peer")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # May be asked to join a call to support a peer (roster `mentor: true`; admins may always).
    mentor: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # SHA-256 of the secret token of the peer's private calendar (iCal) link: the token itself is
    # shown once, so a copy of the database cannot be turned into anyone's feed.
    calendar_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    # The presence the peer last asked for (available, break, off), or `off` when the engine set
    # them off: a durable fact, so a Redis that comes back empty puts them back as they were.
    # Offered, busy and wrap-up are the engine's own and live in Redis only.
    presence: Mapped[str] = mapped_column(String(10), default="off", server_default="off")
    presence_changed_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    experiences: Mapped[list[Experience]] = relationship(secondary=peer_experiences, lazy="selectin")

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name.strip() else ""


class User(Base):
    """A dashboard sign-in. Peers sign in with their roster email; admins are peers with role admin."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(10), default="peer")
    peer_id: Mapped[int | None] = mapped_column(ForeignKey("peers.id", ondelete="SET NULL"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_sign_ins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column()
    # Bumped by "sign out everywhere": sessions carry the version they were made with.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    # One-time invitation / password reset: only the keyed hash of the token is stored.
    invite_token_hash: Mapped[str | None] = mapped_column(String(64))
    invite_expires_at: Mapped[datetime | None] = mapped_column()
    # The language this person reads the dashboard and admin pages in; none: the browser's.
    language: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    peer: Mapped[Peer | None] = relationship(lazy="joined")


class PeerActivity(Base):
    """One durable fact of a peer's working time: a presence change, a contact taken, a missed
    offer, a back-to-back limit reached. Never anything about a caller. Rolled up into
    PeerActivityDay and pruned after PEER_ACTIVITY_RAW_DAYS (warmline.services.peers.hours)."""

    __tablename__ = "peer_activity"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(32), unique=True)  # idempotent writes by the job
    peer_id: Mapped[int] = mapped_column(ForeignKey("peers.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # presence | contact | missed | back_to_back
    state: Mapped[str] = mapped_column(String(16), default="")  # a presence, or a channel
    line_id: Mapped[int | None] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(index=True)


class PeerActivityDay(Base):
    """A peer's totals for one UTC day, kept after the raw activity is pruned (stipends, care)."""

    __tablename__ = "peer_activity_days"
    __table_args__ = (UniqueConstraint("peer_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    peer_id: Mapped[int] = mapped_column(ForeignKey("peers.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date)
    available_seconds: Mapped[int] = mapped_column(Integer, default=0)
    busy_seconds: Mapped[int] = mapped_column(Integer, default=0)
    wrap_up_seconds: Mapped[int] = mapped_column(Integer, default=0)
    break_seconds: Mapped[int] = mapped_column(Integer, default=0)
    calls: Mapped[int] = mapped_column(Integer, default=0)
    texts: Mapped[int] = mapped_column(Integer, default=0)
    missed_offers: Mapped[int] = mapped_column(Integer, default=0)
    back_to_back: Mapped[int] = mapped_column(Integer, default=0)
