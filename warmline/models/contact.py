"""Pseudonymous contacts, their event log, and callback requests (the only place a number is kept)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, func, text
from sqlalchemy.orm import Mapped, mapped_column

from warmline.models.base import Base


class Contact(Base):
    """One call or one text conversation, from arrival to outcome. Never holds a number."""

    __tablename__ = "contacts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # uuid4 hex, also queue name
    line_id: Mapped[int | None] = mapped_column(ForeignKey("lines.id"), index=True)
    channel: Mapped[str] = mapped_column(String(8))
    caller_hash: Mapped[str] = mapped_column(String(64), index=True)
    experience_key: Mapped[str | None] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(8), default="en")
    priority: Mapped[int] = mapped_column(Integer, default=0)
    any_peer: Mapped[bool] = mapped_column(Boolean, default=False)
    is_callback: Mapped[bool] = mapped_column(Boolean, default=False)  # the line rang back
    # Twilio's CallSid (inbound leg) or a conversation key; identifies a Twilio record, not a person.
    provider_sid: Mapped[str | None] = mapped_column(String(64), index=True)
    peer_id: Mapped[int | None] = mapped_column(ForeignKey("peers.id", ondelete="SET NULL"))
    arrived_at: Mapped[datetime] = mapped_column(index=True)
    answered_at: Mapped[datetime | None] = mapped_column()
    ended_at: Mapped[datetime | None] = mapped_column()
    outcome: Mapped[str | None] = mapped_column(String(24), index=True)
    risk_flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    # The call offer being rung now (written when the peer's phone is rung): ids only, so a
    # Redis that comes back empty while the phone rings restores the offer instead of ringing
    # someone again (warmline.services.upkeep.recovery). Twilio says whether that ring is still live.
    offer_id: Mapped[str | None] = mapped_column(String(40))
    offer_peer_id: Mapped[int | None] = mapped_column()
    offer_call_sid: Mapped[str | None] = mapped_column(String(64))
    offer_expires_at: Mapped[datetime | None] = mapped_column()

    # One contact per call: a Twilio retry of a call's first request, after Redis came back
    # empty, meets this index on insert instead of every arrival asking SQL first.
    __table_args__ = (Index("ux_contacts_voice_call", "provider_sid", unique=True,
                            postgresql_where=text("channel = 'voice'"),
                            sqlite_where=text("channel = 'voice'")),)


class ContactEvent(Base):
    """An append-only, anonymized log of what happened to a contact."""

    __tablename__ = "contact_events"
    # Reports and the nightly aggregates read one line's events of some kinds over a time window:
    # with many lines, the `at` index alone reads every line's events in that window.
    __table_args__ = (Index("ix_contact_events_line_kind_at", "line_id", "kind", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # A unique key per event makes the writer job idempotent under RQ retries.
    event_key: Mapped[str] = mapped_column(String(64), unique=True)
    contact_id: Mapped[str] = mapped_column(String(36), index=True)
    line_id: Mapped[int | None] = mapped_column(index=True)
    caller_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    channel: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(24))
    experience_key: Mapped[str | None] = mapped_column(String(40))
    peer_id: Mapped[int | None] = mapped_column()
    outcome: Mapped[str | None] = mapped_column(String(24))
    at: Mapped[datetime] = mapped_column(index=True)
    # Small, non-identifying facts (a digit chosen, a duration in seconds); never content.
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class CallbackRequest(Base):
    """A caller's wish to be called back: the number encrypted, deleted when done or expired."""

    __tablename__ = "callback_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[str] = mapped_column(String(36), index=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("lines.id"), index=True)
    caller_hash: Mapped[str] = mapped_column(String(64), index=True)
    number_encrypted: Mapped[str | None] = mapped_column(String(255))
    experience_key: Mapped[str | None] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(8), default="en")
    window_start: Mapped[datetime] = mapped_column()
    window_end: Mapped[datetime] = mapped_column()
    may_leave_message: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column()
    peer_id: Mapped[int | None] = mapped_column(ForeignKey("peers.id", ondelete="SET NULL"))
    expires_at: Mapped[datetime] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    ended_at: Mapped[datetime | None] = mapped_column()


class CallbackAttempt(Base):
    """One try at a callback, recorded before the REST call so a retried job can find it."""

    __tablename__ = "callback_attempts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    callback_id: Mapped[int] = mapped_column(ForeignKey("callback_requests.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)  # 1, 2, 3
    peer_call_sid: Mapped[str | None] = mapped_column(String(64))
    caller_call_sid: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(24), default="created")
    created_at: Mapped[datetime] = mapped_column()
