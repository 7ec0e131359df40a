"""The routing section of `warmline.keys`: every routing key, built from its prefix, with the TTLs.

It is kept beside the Lua scripts, not in `warmline.keys`, because the scripts' key builders are
generated from these very functions (`lua_key_builders`), so a key's shape is written once.
All keys start with the one prefix and carry one hash tag, `{wl}`, so that they live in one Redis
Cluster slot and a Lua script may touch any of them.
Iterate with SCAN (or SSCAN / ZRANGE on an index below), never KEYS.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

from warmline.keys import PREFIX

HASH_TAG = f"{{{PREFIX}}}"  # the prefix in braces: "{wl}"
ROUTING = f"{PREFIX}:{HASH_TAG}:"

# A contact's record outlives any real wait or conversation; it is refreshed on each change, so
# a crash's leftovers vanish by themselves and the sweeper repairs what points at them.
CONTACT_TTL_SECONDS = 12 * 3600
# An ended offer is kept a while so a late "1" can be told it lapsed rather than "unknown".
OFFER_RECORD_TTL_SECONDS = 3600
# Observed waits feed the honest estimate; older ones say little about now.
RECENT_WAITS_TTL_SECONDS = 3600
RECENT_WAITS_KEPT = 50
# If the rebuilder dies mid-rebuild, its lock frees itself and the next routing operation (or
# sweep) tries again.
REBUILD_LOCK_SECONDS = 60

Part = str | int


def lines() -> str:
    """Set of line ids synced into Redis."""
    return f"{ROUTING}lines"


def line(line_id: Part) -> str:
    """Hash of a line's routing settings (wrap_up_seconds, calls_while_texting,
    back_to_back_limit)."""
    return f"{ROUTING}line:{line_id}"


def line_on_shift(line_id: Part) -> str:
    """Set of peer ids on shift for the line now (the schedule's answer)."""
    return f"{ROUTING}line:{line_id}:on_shift"


def line_classes(line_id: Part) -> str:
    """Set of "channel:experience:language" classes with waiting contacts on the line."""
    return f"{ROUTING}line:{line_id}:classes"


def waiting(line_id: Part, channel: Part, experience: Part, language: Part) -> str:
    """Sorted set of waiting contact ids of one class, by queue score (priority, then arrival)."""
    return f"{ROUTING}waiting:{line_id}:{channel}:{experience}:{language}"


def waiting_all() -> str:
    """Sorted set of every waiting contact id by arrival (stale sweep, state checks)."""
    return f"{ROUTING}waiting_all"


def pool(line_id: Part, channel: Part, experience: Part, language: Part) -> str:
    """Sorted set of peers who may be offered a contact of this class now, by idle-since."""
    return f"{ROUTING}pool:{line_id}:{channel}:{experience}:{language}"


def staffed(line_id: Part, channel: Part, experience: Part, language: Part) -> str:
    """Sorted set of peers working the line, not off, who could serve this class (any presence)."""
    return f"{ROUTING}staffed:{line_id}:{channel}:{experience}:{language}"


def peers() -> str:
    """Set of peer ids synced into Redis."""
    return f"{ROUTING}peers"


def peer(peer_id: Part) -> str:
    """Hash of a peer's profile and presence."""
    return f"{ROUTING}peer:{peer_id}"


def peer_shift_lines(peer_id: Part) -> str:
    """Set of line ids the peer is on shift for now."""
    return f"{ROUTING}peer:{peer_id}:shift_lines"


def peer_drop_ins(peer_id: Part) -> str:
    """Hash line id -> until (epoch seconds): admin-approved drop-ins outside a shift."""
    return f"{ROUTING}peer:{peer_id}:drop_ins"


def peer_memberships(peer_id: Part) -> str:
    """Set of pool and staffed keys the peer is in, so one refresh can take them all back."""
    return f"{ROUTING}peer:{peer_id}:memberships"


def peer_contacts(peer_id: Part, channel: Part) -> str:
    """Set of connected contact ids the peer holds on a channel (its load)."""
    return f"{ROUTING}peer:{peer_id}:contacts:{channel}"


def presence_members(presence: Part) -> str:
    """Set of peer ids in one presence; each synced peer is in exactly one."""
    return f"{ROUTING}presence:{presence}"


def wrap_ups() -> str:
    """Sorted set of peers in wrap-up, by the time it ends."""
    return f"{ROUTING}wrap_ups"


def drop_in_ends() -> str:
    """Sorted set of peers with a drop-in, by when the last one ends."""
    return f"{ROUTING}drop_in_ends"


def contact(contact_id: Part) -> str:
    """Hash of a live contact (line, channel, experience, language, score, state, offer, peer)."""
    return f"{ROUTING}contact:{contact_id}"


def connected() -> str:
    """Sorted set of connected contact ids by the time they were accepted."""
    return f"{ROUTING}connected"


def offer(offer_id: Part) -> str:
    """Hash of one offer (contact, peer, expires, state)."""
    return f"{ROUTING}offer:{offer_id}"


def offer_sequence() -> str:
    """Counter giving each offer its id; the engine reserves ids from it ahead (INCRBY), since a
    script must be given the key of every offer it makes."""
    return f"{ROUTING}offer_sequence"


def pending_offers(channel: Part) -> str:
    """Sorted set of pending offer ids on a channel, by expiry."""
    return f"{ROUTING}offers:{channel}"


def recent_waits(line_id: Part, channel: Part, experience: Part) -> str:
    """List of recently observed waits (seconds, newest first) for the estimate."""
    return f"{ROUTING}waits:{line_id}:{channel}:{experience}"


def state_marker() -> str:
    """This Redis's routing generation, set once live state is built; its absence means Redis
    lost it (restart, failover). Every routing script checks it; offer ids start with it."""
    return f"{ROUTING}state_marker"


def rebuild_lock() -> str:
    """Held (with a random token) while one process rebuilds live state: nobody else rebuilds,
    and only scripts carrying the token run while the marker is missing."""
    return f"{ROUTING}rebuild_lock"


KEY_FAMILIES: tuple[Callable[..., str], ...] = (
    lines, line, line_on_shift, line_classes, waiting, waiting_all, pool, staffed, peers, peer,
    peer_shift_lines, peer_drop_ins, peer_memberships, peer_contacts, presence_members, wrap_ups,
    drop_in_ends, contact, connected, offer, offer_sequence, pending_offers, recent_waits,
    state_marker, rebuild_lock,
)

# Every key a routing script touches is declared in its KEYS (Redis Cluster routes a script by
# them and checks them while a slot moves). First the families whose names depend on nothing, in
# this order; then the per-presence and per-channel families, whose arguments are a closed set.
# The other families are named from data (a peer, a contact, an offer, a line's classes): the
# engine passes them after the fixed ones, found by the script's plan (lua/common.lua "Plan").
DECLARED_FAMILIES: tuple[Callable[[], str], ...] = (
    lines, peers, waiting_all, wrap_ups, drop_in_ends, connected, offer_sequence, state_marker,
    rebuild_lock,
)
PRESENCES = ("off", "available", "break", "wrap_up", "offered", "busy")
CHANNELS = ("voice", "sms", "chat")


def script_keys() -> list[str]:
    """The keys every routing script is given first: the fixed-name families, every presence's
    members and every channel's pending offers."""
    return [*(family() for family in DECLARED_FAMILIES),
            *(presence_members(p) for p in PRESENCES),
            *(pending_offers(c) for c in CHANNELS)]


_MARK = "\x00"


def _lua_string(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def lua_key_builders(*, checked: bool = False) -> str:
    """Lua functions `key_<family>(...)`, generated from the Python functions above; those of
    DECLARED_FAMILIES return the script's KEYS, so a script never names them itself.

    `checked` (the routing scripts): `key_<family>` of a family named from data raises
    `UNDECLARED_KEY_ERROR` for a key not in KEYS (the table `DECLARED`, which the script builds),
    and `name_<family>` only names the key, for the plan that finds what to declare."""
    out: list[str] = []
    declared = {family: n for n, family in enumerate(DECLARED_FAMILIES, start=1)}
    for family in KEY_FAMILIES:
        if family in declared:
            out.append(f"local function key_{family.__name__}() return KEYS[{declared[family]}] end")
            continue
        params = list(inspect.signature(family).parameters)
        shape = family(*(f"{_MARK}{name}{_MARK}" for name in params))
        pieces = shape.split(_MARK)
        # pieces alternate: literal, parameter, literal, ...
        parts = [
            piece if i % 2 else _lua_string(piece)
            for i, piece in enumerate(pieces)
            if i % 2 or piece
        ]
        args, expr = ", ".join(params), " .. ".join(parts)
        if not checked:
            out.append(f"local function key_{family.__name__}({args}) return {expr} end")
            continue
        out.append(f"local function name_{family.__name__}({args}) return {expr} end")
        out.append(
            f"local function key_{family.__name__}({args}) "
            f"return declared_key(name_{family.__name__}({args})) end"
        )
    return "\n".join(out) + "\n"
