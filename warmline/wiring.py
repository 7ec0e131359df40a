"""The composition root's wiring: how offers and notices reach peers, and how lost routing
state is rebuilt, installed per process.

Routing (`services/routing.py`) declares what it needs (an `OfferDispatcher` per channel, a
`PeerNotifier`, a `RestNotifier`, a `StateRebuilder`) and hands each the runtime and `now` of the
service that called it; the feature packages implement them. This module, above both, connects
them: voice offers ring the peer's phone (through an RQ job), text offers appear on their
dashboard, peers set off by routing are told by text, a Redis that came back empty is rebuilt
by `upkeep.recovery`. Called by the app factory and the worker entry before any offer can be
taken in the process (a forked RQ work horse inherits the registry); the command line installs
only the rebuild (it carries no offers). Idempotent.
"""

from __future__ import annotations

from warmline.services import routing
from warmline.services.callbacks.placing import CallbackAwareDispatcher
from warmline.services.texts.conversation import TextOfferDispatcher
from warmline.services.texts.peer_texts import RoutingPeerTexts
from warmline.services.upkeep import recovery
from warmline.services.voice.peer import VoiceOfferDispatcher


def install_state_rebuilder() -> None:
    """Any process that calls routing rebuilds a lost state from SQL and Twilio, then goes on."""
    routing.register_state_rebuilder(recovery.ensure_live_state)


def install_dispatchers() -> None:
    install_state_rebuilder()
    # A callback's routing contact (`cb-...`) rings through the
    # callback path; every other voice offer through the live-call path.
    routing.register_dispatcher("voice", CallbackAwareDispatcher(VoiceOfferDispatcher()))
    routing.register_dispatcher("sms", TextOfferDispatcher())
    # A web chat is offered as a text is: on the peer's dashboard, in the texts pane.
    routing.register_dispatcher("chat", TextOfferDispatcher())
    routing.register_peer_notifier(RoutingPeerTexts())
    routing.register_rest_notifier(RoutingPeerTexts())
