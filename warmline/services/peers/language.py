"""The language a peer reads and hears: their own setting, the one their dashboard is in.

A peer who chose none (the dashboard then follows the browser, which a phone call or a text
cannot see) reads and hears the line's default language.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from warmline.catalogs import shipped_languages
from warmline.models import User


def peer_language(session: Session, peer_id: int | None, fallback: str) -> str:
    if peer_id is None:
        return fallback
    chosen = session.scalars(select(User.language).where(User.peer_id == peer_id)).first()
    return chosen if chosen in shipped_languages() else fallback
