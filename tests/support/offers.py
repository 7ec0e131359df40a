"""A dispatcher that records the offers routing makes (and the peers it sets off), in place of
ringing anyone: routing's tests read what would have been rung."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from warmline.domain.matching import VOICE
from warmline.routing.results import Offer, PeerOff
from warmline.runtime import Runtime
from warmline.services import routing


class OfferRecorder:
    def __init__(self) -> None:
        self.offers: list[Offer] = []
        self.offs: list[PeerOff] = []

    def dispatch(self, runtime: Runtime, offer: Offer, now: datetime) -> None:
        self.offers.append(offer)

    def notify_off(self, runtime: Runtime, peer_off: PeerOff, now: datetime) -> None:
        self.offs.append(peer_off)


@contextmanager
def recording_offers(channel: str = VOICE) -> Iterator[OfferRecorder]:
    """Routing's offers on `channel` go to a recorder for the duration."""
    recorder = OfferRecorder()
    routing.register_dispatcher(channel, recorder)
    try:
        yield recorder
    finally:
        routing.register_dispatcher(channel, None)
