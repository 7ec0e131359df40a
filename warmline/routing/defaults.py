"""Documented routing defaults: offer expiry, misses, staleness and batch sizes, as named constants."""

from __future__ import annotations

# Twilio paces outbound calls at 1 a second per account by default, so an offer waits its turn
# behind the voice offers already pending before the peer's phone even rings.
PACING_SECONDS_PER_CALL = 1.0
# Twilio's `Timeout` on the peer's leg (DESIGN.md: about 20 s).
RING_SECONDS = 20.0
# Webhook and job latency between "offer taken" and "ringing".
OFFER_MARGIN_SECONDS = 5.0
# A text offer sits on the peer's dashboard; give them a minute to notice it.
TEXT_OFFER_SECONDS = 60.0
# Offers can wait in Twilio's pacing at most this long before they are not worth ringing.
MAX_OFFER_SECONDS = 300.0
# Two misses in a row (no answer, declined, busy, failed, expired) set the peer off.
MISSES_BEFORE_OFF = 2
# A waiting contact older than this was lost (a hang-up nobody saw); the sweeper withdraws it.
STALE_WAITING_SECONDS = {"voice": 2 * 3600.0, "sms": 24 * 3600.0}
# One match pass takes at most this many offers, so a script never holds Redis for long;
# a full pass tells the caller to run another.
MAX_OFFERS_PER_PASS = 100
# The sweeper handles at most this many items of each kind per run.
SWEEP_BATCH = 500
