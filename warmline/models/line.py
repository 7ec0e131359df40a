"""Lines (one warmline phone number and its settings) and the shared experiences callers ask for."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, Integer, String, false, func
from sqlalchemy.orm import Mapped, mapped_column

from warmline.models.base import Base


class Line(Base):
    __tablename__ = "lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)  # E.164; the key of a line
    name: Mapped[str] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    timezone: Mapped[str] = mapped_column(String(64))
    languages: Mapped[list[str]] = mapped_column(default=lambda: ["en"])
    # [{"days": ["mon", ...], "open": "08:00", "close": "23:00"}]; empty means open 24/7.
    hours: Mapped[list[Any]] = mapped_column(default=list)
    closed_dates: Mapped[list[str]] = mapped_column(default=list)  # ISO local dates
    crisis_number: Mapped[str | None] = mapped_column(String(20))
    backup_number: Mapped[str | None] = mapped_column(String(20))
    max_wait_seconds: Mapped[int] = mapped_column(Integer, default=600)
    max_call_minutes: Mapped[int] = mapped_column(Integer, default=30)
    daily_contact_limit: Mapped[int] = mapped_column(Integer, default=3)
    wrap_up_seconds: Mapped[int] = mapped_column(Integer, default=90)
    callbacks: Mapped[bool] = mapped_column(Boolean, default=True)
    share_peer_first_name: Mapped[bool] = mapped_column(Boolean, default=False)
    calls_while_texting: Mapped[bool] = mapped_column(Boolean, default=False)
    retention_days: Mapped[int] = mapped_column(Integer, default=90)
    greeting: Mapped[dict[str, str]] = mapped_column(default=dict)  # language -> text
    back_to_back_limit: Mapped[int] = mapped_column(Integer, default=0)  # 0 = no limit
    flood_caller_limit: Mapped[int] = mapped_column(Integer, default=0)  # per 10 min; 0 = off
    flood_line_limit: Mapped[int] = mapped_column(Integer, default=0)  # per minute; 0 = off
    swap_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    # The roster's service_target: what the staffing planner plans for (answered within, share).
    target_answer_seconds: Mapped[int] = mapped_column(Integer, default=60, server_default="60")
    target_share: Mapped[float] = mapped_column(Float, default=0.8, server_default="0.8")
    # The roster's chat.origins: pages allowed to embed the line's chat widget; empty: no chat.
    chat_origins: Mapped[list[str]] = mapped_column(default=list, server_default="[]")
    # After a call: the one anonymous keypad question, and the resources texted on a yes.
    survey: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    resources: Mapped[dict[str, str]] = mapped_column(default=dict, server_default="{}")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())

    @property
    def default_language(self) -> str:
        return self.languages[0] if self.languages else "en"


class Experience(Base):
    __tablename__ = "experiences"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    label: Mapped[str] = mapped_column(String(120))
    labels: Mapped[dict[str, str]] = mapped_column(default=dict)  # per-language labels
    digit: Mapped[int] = mapped_column(Integer)  # 1-8 on the keypad menu
    keyword: Mapped[str] = mapped_column(String(40))  # upper case, for texts
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    def label_for(self, language: str) -> str:
        return self.labels.get(language, self.label)
