"""Installs, per process, how offers reach peers: voice rings their phone, texts reach the dashboard.

Called by the app factory and the worker entry, before any offer can be taken in the process
(a forked RQ work horse inherits the registry of its parent).
"""

from __future__ import annotations

from warmline.services import routing
from warmline.services.voice_peer import VoiceOfferDispatcher


def install_dispatchers() -> None:
    routing.register_dispatcher("voice", VoiceOfferDispatcher())
