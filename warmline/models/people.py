"""Peers (who answer), their experiences, and the dashboard's users."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Column, ForeignKey, Integer, String, Table, func
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
    # SHA-256 of the secret token of the peer's private calendar (iCal) link: the token itself is
    # shown once, so a copy of the database cannot be turned into anyone's feed.
    calendar_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
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
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    peer: Mapped[Peer | None] = relationship(lazy="joined")
