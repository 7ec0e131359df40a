"""Every Warmline Redis key is built from this module's one prefix, with its TTL beside it.

One function per key family, grouped by the area that owns it. The routing families live in
`warmline.routing.keys`, built from the `PREFIX` below: they carry the `{wl}` hash tag and the Lua
scripts' key builders are generated from those very functions, so they stay next to that
generator. Nothing else in `warmline/` or `workers/` writes a key string (a test checks).
Iterate with SCAN, never KEYS. RQ's own keys (`rq:...`) are RQ's business, not listed here.

The strings are a contract with live deployments (keys written by the previous release are read
by the next): a change here is a migration, and `tests/unit/test_keys.py` pins every one.
"""

from __future__ import annotations

import hashlib
from datetime import date

PREFIX = "wl"

# --------------------------------------------------------------------------- voice calls
# The Redis state of a live call that is not routing: which call is which contact, the caller's
# menu choice, the first outcome claimed. No phone number in clear: the callback draft is
# encrypted by its writer.
_VOICE = f"{PREFIX}:voice:"

# A call's bookkeeping outlives any call; nothing here must survive a day.
CALL_STATE_TTL_SECONDS = 6 * 3600
CALLBACK_DRAFT_TTL_SECONDS = 15 * 60
# Held only while a hang-up is looked at and its outcome claimed.
ENDING_LOCK_SECONDS = 10


def voice_contact_of_call(call_sid: str) -> str:
    return f"{_VOICE}call:{call_sid}:contact"


def voice_call_sequence(call_sid: str) -> str:
    """The highest status-callback SequenceNumber seen for the call."""
    return f"{_VOICE}call:{call_sid}:seq"


def voice_choice(contact_id: str) -> str:
    return f"{_VOICE}contact:{contact_id}:choice"


def voice_outcome(contact_id: str) -> str:
    return f"{_VOICE}contact:{contact_id}:outcome"


def voice_gather_misses(call_key: str, prompt: str) -> str:
    """How often one keypad question of one call went unanswered or was answered wrongly.

    `call_key` is the id the question's URL carries (a contact, offer, ring or attempt id)."""
    return f"{_VOICE}gather:{call_key}:{prompt}"


def voice_waited_before(contact_id: str) -> str:
    """Seconds the caller already waited in an earlier <Enqueue> of the same call."""
    return f"{_VOICE}contact:{contact_id}:waited"


def voice_arrival_facts(contact_id: str) -> str:
    """Hash of what the answer to a call's first question needs of its contact (line, language,
    the caller's keyed hash, arrival, priority), so the menu's answer reads no SQL."""
    return f"{_VOICE}contact:{contact_id}:arrival"


def voice_wait_facts(contact_id: str) -> str:
    """Hash of what the hold loop needs of a queued caller (line, language, experience, any),
    so the wait step reads no SQL."""
    return f"{_VOICE}contact:{contact_id}:wait"


def voice_callback_draft(contact_id: str) -> str:
    """Hash of a callback request being recorded (CALLBACK_DRAFT_TTL_SECONDS)."""
    return f"{_VOICE}contact:{contact_id}:callback"


def voice_offer_ring(offer_id: str) -> str:
    return f"{_VOICE}offer:{offer_id}:ring"


def voice_offer_call(offer_id: str) -> str:
    return f"{_VOICE}offer:{offer_id}:call"


def voice_offer_contact(offer_id: str) -> str:
    return f"{_VOICE}offer:{offer_id}:contact"


def voice_ringing_call(contact_id: str) -> str:
    return f"{_VOICE}contact:{contact_id}:ringing"


def voice_ending_lock(contact_id: str) -> str:
    """Lock (ENDING_LOCK_SECONDS) serialising how a contact's call ended."""
    return f"{_VOICE}contact:{contact_id}:ending"


def voice_on_hangup(contact_id: str) -> str:
    return f"{_VOICE}contact:{contact_id}:on_hangup"


def voice_after_call(contact_id: str, step: str) -> str:
    """Claimed once per call for each step after it (`survey`, `resources`): Twilio's retries and
    a second key press neither count an answer twice nor send a second text."""
    return f"{_VOICE}contact:{contact_id}:after:{step}"


# DESIGN step 10: a caller whose call dropped may ask for the same peer within this long.
RECONNECT_SECONDS = 10 * 60


def voice_dropped_call(caller_hash: str) -> str:
    """Hash of the call a caller just lost (peer, line, experience, language) for
    RECONNECT_SECONDS, under the keyed hash of their number: never SQL, never a number."""
    return f"{_VOICE}dropped:{caller_hash}"


def voice_transfer(contact_id: str) -> str:
    """Hash of the warm transfer of a call (DESIGN step 8): who is brought in (`crisis`,
    `admin`), their CallSid, how far it went and whether the caller is held. No number."""
    return f"{_VOICE}contact:{contact_id}:transfer"


def voice_transfer_origin(contact_id: str) -> str:
    """The call a linked contact was made for (a warm transfer to another peer, DESIGN step 8):
    the original contact's id, so the second peer's answer joins that call's room."""
    return f"{_VOICE}contact:{contact_id}:transfer-of"


def voice_mentor(contact_id: str) -> str:
    """Hash of the mentor asked onto a call (DESIGN step 9): their peer id, CallSid, how far it
    went and whether they speak with the caller yet. No number."""
    return f"{_VOICE}contact:{contact_id}:mentor"


def voice_mentoring(mentor_peer_id: int) -> str:
    """The call a mentor was last offered or is shadowing (its contact id): their dashboard's
    alert reads it; the call's own `voice_mentor` hash says whether it still stands."""
    return f"{_VOICE}peer:{mentor_peer_id}:mentoring"


def voice_reconnecting(contact_id: str) -> str:
    """The peer a returning caller asked for again: that peer's leg says so on connecting."""
    return f"{_VOICE}contact:{contact_id}:reconnecting"


# --------------------------------------------------------------------------- callbacks
# Which callback a peer's ring belongs to, holds and locks. Ids only, never a number. Under the
# voice prefix, since a callback is a pair of voice calls.
_CALLBACK = f"{_VOICE}callback:"

# A callback's bookkeeping outlives any attempt; nothing here must survive a day.
CALLBACK_STATE_TTL_SECONDS = 24 * 3600
# Placing a call to the caller takes one REST request (5 s timeout) and two commits.
ATTEMPT_LOCK_SECONDS = 15
# Held while one step (place or expire) reads a callback and decides what to do with it.
CALLBACK_LOCK_SECONDS = 10


def callback_ring_attempt(ring_id: str) -> str:
    return f"{_CALLBACK}ring:{ring_id}:attempt"


def callback_attempt_lock(attempt_id: str) -> str:
    """Lock (ATTEMPT_LOCK_SECONDS) around placing one attempt's call to the caller."""
    return f"{_CALLBACK}attempt:{attempt_id}:lock"


def callback_attempt_calling(attempt_id: str) -> str:
    return f"{_CALLBACK}attempt:{attempt_id}:calling"


def callback_lock(callback_id: int) -> str:
    """Lock (CALLBACK_LOCK_SECONDS) on one callback request."""
    return f"{_CALLBACK}{callback_id}:lock"


def callback_peer_language(leg_id: str) -> str:
    """The language the peer of a callback ring (or of its attempt) hears: their own."""
    return f"{_CALLBACK}peer-language:{leg_id}"


def callback_peer_hold(peer_id: int) -> str:
    """A peer who took a callback on the dashboard, held (on break) while we ring them."""
    return f"{_CALLBACK}hold:{peer_id}"


# --------------------------------------------------------------------------- texts
# Content (message bodies) and the texter's number are stored only encrypted with the data key,
# and every key expires: while a conversation is open, a day after its last message; once
# closed, after the policy's short while (at most 24 hours).
_TEXT = f"{PREFIX}:text:"

# An offer's pointer outlives the offer itself (60 s) so a late accept is told "too late".
TEXT_OFFER_TTL_SECONDS = 3600
TEXT_SEND_LOCK_SECONDS = 30


def text_conversation(contact_id: str) -> str:
    """Hash: line, caller hash, number (encrypted), peer, offer, risk, times, next seq."""
    return f"{_TEXT}conv:{contact_id}"


def text_claims(contact_id: str) -> str:
    """Hash of once-only marks: the risk flag raised, crisis numbers sent, closing."""
    return f"{_TEXT}conv:{contact_id}:claims"


def text_messages(contact_id: str) -> str:
    """List of encrypted JSON entries: inbound, outbound (by seq) and notes, in order."""
    return f"{_TEXT}conv:{contact_id}:msgs"


def text_outbound(contact_id: str) -> str:
    """Hash seq -> encrypted body still to send, and seq -> delivery status / MessageSid."""
    return f"{_TEXT}conv:{contact_id}:out"


def text_send_lock(contact_id: str) -> str:
    """Lock (TEXT_SEND_LOCK_SECONDS): one sender per conversation, so replies keep their order."""
    return f"{_TEXT}conv:{contact_id}:sending"


def text_open_conversation(line_id: int, caller_hash: str) -> str:
    """The texter's open conversation on a line (their keyed hash, never the number)."""
    return f"{_TEXT}open:{line_id}:{caller_hash}"


def text_conversations_of(caller_hash: str) -> str:
    """Set of the texter's conversation ids, so DELETE finds every one of them."""
    return f"{_TEXT}texter:{caller_hash}"


def text_live() -> str:
    """Sorted set of open conversation ids by last activity (the inactivity close reads it)."""
    return f"{_TEXT}live"


def text_waiting() -> str:
    """Sorted set of open conversations no peer has taken yet, by when their wait is next
    looked at (the line's max_wait_seconds bounds a texter's wait as it does a caller's)."""
    return f"{_TEXT}waiting"


def text_offer(offer_id: str) -> str:
    """Hash: contact and peer of a text offer shown on a dashboard."""
    return f"{_TEXT}offer:{offer_id}"


def text_peer_offers(peer_id: int) -> str:
    """Sorted set of the peer's text offers by expiry."""
    return f"{_TEXT}peer:{peer_id}:offers"


# --------------------------------------------------------------------------- web chat
# A chat is a text conversation (the `text_*` keys above hold its content); these keys only find
# it from the chatter's token (its limits are Flask-Limiter's, warmline.web.chat_limits). The
# token is kept as a digest, never as sent.
_CHAT = f"{PREFIX}:chat:"


def chat_token(token_digest: str) -> str:
    """The contact id of a chatter's conversation, by the digest of their token (expires with
    the conversation's content)."""
    return f"{_CHAT}token:{token_digest}"


def chat_seen(contact_id: str) -> str:
    """Set of the widget's own message ids already taken: a resent message is kept once."""
    return f"{_CHAT}conv:{contact_id}:seen"


# --------------------------------------------------------------------------- peer dashboard
# No hash tag: no Lua script touches these together with routing's keys.
_DASH = f"{PREFIX}:dash:"

# The page posts a heartbeat every ~20 s; three missed beats and the dashboard counts as closed.
HEARTBEAT_TTL_SECONDS = 60
# Failed sign-ins of one email are forgotten after this much quiet (plus the wait they set).
SIGN_IN_ACCOUNT_TTL_SECONDS = 15 * 60
# The admins' live list of support alerts; the durable record is the AuditEntry.
SUPPORT_ALERTS_TTL_SECONDS = 24 * 3600


def dashboard_heartbeat(peer_id: int) -> str:
    """Present while the peer's dashboard is open (HEARTBEAT_TTL_SECONDS)."""
    return f"{_DASH}open:{peer_id}"


def sign_in_account(email_digest: str, device: str | None) -> str:
    """Hash: failures and not-before of one email's sign-ins (SIGN_IN_ACCOUNT_TTL_SECONDS), or of
    that email from one known browser. A digest, never the email."""
    suffix = f":{hashlib.sha256(device.encode()).hexdigest()[:16]}" if device else ""
    return f"{_DASH}signin:{email_digest}{suffix}"


def ended_session(session_digest: str) -> str:
    """Set at sign-out: this browser session no longer counts (for as long as its cookie could)."""
    return f"{_DASH}ended-session:{session_digest}"


def rate_limits_prefix() -> str:
    """Prefix of Flask-Limiter's counters (address caps, support alerts); it builds the rest."""
    return f"{PREFIX}:limits"


# A "10-minute break" the dashboard offered ends by itself; the marker names which break.
REST_BREAK_TTL_SECONDS = 2 * 3600


def rest_break(peer_id: int) -> str:
    """When the peer's timed break ends (epoch seconds), while it runs (REST_BREAK_TTL_SECONDS)."""
    return f"{_DASH}rest-break:{peer_id}"


# A peer's ask to drop in waits this long for an admin's answer.
DROP_IN_REQUEST_TTL_SECONDS = 2 * 3600


def drop_in_request(request_id: int) -> str:
    """Hash of one ask to drop in: peer, line, minutes, asked, state (DROP_IN_REQUEST_TTL_SECONDS)."""
    return f"{_DASH}drop-in:{request_id}"


def drop_in_sequence() -> str:
    """Counter of drop-in asks: the short number an admin texts back ("YES 12")."""
    return f"{_DASH}drop-in-seq"


def support_alerts() -> str:
    """List of recent support alerts, newest first (SUPPORT_ALERTS_TTL_SECONDS)."""
    return f"{_DASH}support-alerts"


# The admins' live list of other notices (coverage gaps, floods, back-to-back limits): kept
# two days so a notice sent in the morning is still there the evening after.
ADMIN_NOTICES_TTL_SECONDS = 2 * 24 * 3600


def admin_notices() -> str:
    """List of recent admin notices (JSON), newest first (ADMIN_NOTICES_TTL_SECONDS)."""
    return f"{_DASH}admin-notices"


# --------------------------------------------------------------------------- configuration


def config_version() -> str:
    """A random token set anew after any commit that changed a line or an experience; each
    process keeps both in memory while it is unchanged (warmline.config_cache)."""
    return f"{PREFIX}:config-version"


# --------------------------------------------------------------------------- flood protection
# Fixed-window counters: calls from one caller (pseudonym) to a line per 10 minutes, calls to a
# line per minute. The window number is part of the key, so a counter dies with its window.
_FLOOD = f"{PREFIX}:flood:"
FLOOD_CALLER_WINDOW_SECONDS = 10 * 60
FLOOD_LINE_WINDOW_SECONDS = 60
# The admin on shift is told once per line and kind of flood in this long.
FLOOD_ALERT_QUIET_SECONDS = 10 * 60


def flood_caller_calls(line_id: int, caller_hash: str, window: int) -> str:
    """Calls from one caller to a line in one window (FLOOD_CALLER_WINDOW_SECONDS)."""
    return f"{_FLOOD}caller:{line_id}:{caller_hash}:{window}"


def flood_line_calls(line_id: int, window: int) -> str:
    """Calls to a line in one window (FLOOD_LINE_WINDOW_SECONDS)."""
    return f"{_FLOOD}line:{line_id}:{window}"


def flood_alerted(line_id: int, kind: str) -> str:
    """Set (NX, FLOOD_ALERT_QUIET_SECONDS) when the admins were told of a flood on the line."""
    return f"{_FLOOD}alerted:{line_id}:{kind}"


# --------------------------------------------------------------------------- routing sync
# How often one line's rules, peers and on-shift set are copied from SQL into routing at most.
LINE_SYNC_INTERVAL_SECONDS = 30


def line_synced(line_id: int) -> str:
    """Set (NX, LINE_SYNC_INTERVAL_SECONDS) when a line was synced into routing."""
    return f"{PREFIX}:sync:line:{line_id}"


# --------------------------------------------------------------------------- background jobs
# Recurring-job bookkeeping and once-only markers, all under one sub-prefix, so retention can
# SCAN for exactly these (`jobs_pattern`).
_JOBS = f"{PREFIX}:jobs:"

RECURRING_LOCK_TTL_MS = 10_000
# A marker only has to outlive the window in which the same thing could be noticed again.
ONCE_MARKER_TTL_SECONDS = 2 * 24 * 3600


def recurring_lock() -> str:
    """Held (SET NX PX) while the recurring jobs are reconciled."""
    return f"{_JOBS}recurring:lock"


def recurring_next(name: str) -> str:
    """The RQ job id of a recurring job's next scheduled instance. No TTL: retention prunes
    the ones whose name is no longer in the table."""
    return f"{_JOBS}recurring:next:{name}"


def recurring_next_pattern() -> str:
    """SCAN pattern of every `recurring_next` key."""
    return f"{_JOBS}recurring:next:*"


def shift_end_handled(peer_id: int, line_id: int, ended_at_epoch: int) -> str:
    """Set once a peer's shift end was handed to the routing engine (ONCE_MARKER_TTL_SECONDS)."""
    return f"{_JOBS}shift-end:{peer_id}:{line_id}:{ended_at_epoch}"


def shift_reminder_sent(shift_id: int, starts_at_epoch: int) -> str:
    """Set once the reminder of one shift occurrence was sent (ONCE_MARKER_TTL_SECONDS)."""
    return f"{_JOBS}shift-reminder:{shift_id}:{starts_at_epoch}"


def coverage_report_sent(day: date) -> str:
    """Set once the coverage report of a UTC day was sent (ONCE_MARKER_TTL_SECONDS)."""
    return f"{_JOBS}coverage-report:{day.isoformat()}"


# A coverage gap is told about once; its marker outlives the report's 14-day horizon.
COVERAGE_GAP_MARKER_TTL_SECONDS = 15 * 24 * 3600


def coverage_gap_noticed(line_id: int, hour_start_epoch: int) -> str:
    """Set (NX) once the admins were told about one uncovered hour of a line
    (COVERAGE_GAP_MARKER_TTL_SECONDS)."""
    return f"{_JOBS}coverage-gap:{line_id}:{hour_start_epoch}"


def jobs_pattern() -> str:
    """SCAN pattern of every background-job key above (for retention)."""
    return f"{_JOBS}*"
