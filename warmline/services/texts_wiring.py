"""Wires texts into routing for a process (app or worker): the sms offer dispatcher and the
peer notifier by text. Idempotent; called from create_app and the worker entry."""

from __future__ import annotations

from warmline.services import routing
from warmline.services.peer_texts import TextPeerNotifier
from warmline.services.texts_conversation import TextOfferDispatcher


def register_text_routing() -> None:
    routing.register_dispatcher("sms", TextOfferDispatcher())
    routing.register_peer_notifier(TextPeerNotifier())
