"""Installs, per process, how offers reach peers: voice rings their phone, texts reach the dashboard.

Called by the app factory and the worker entry, before any offer can be taken in the process
(a forked RQ work horse inherits the registry of its parent).
"""

from __future__ import annotations

from warmline.services import routing
from warmline.services.callbacks import CallbackAwareDispatcher
from warmline.services.voice_peer import VoiceOfferDispatcher


def install_dispatchers() -> None:
    # Callbacks (workers issue): a callback's routing contact rings through the callback path.
    routing.register_dispatcher("voice", CallbackAwareDispatcher(VoiceOfferDispatcher()))
