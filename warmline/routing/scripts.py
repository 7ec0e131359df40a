"""The routing Lua scripts, assembled from the shared library, the key builders and the defaults."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from redis import Redis
from redis.commands.core import Script

from warmline.routing import defaults, keys

LUA_DIR = Path(__file__).with_name("lua")
# The error every script answers while the state marker is missing (see common.lua); Redis
# prefixes it to the message redis-py raises as a ResponseError.
STATE_LOST_ERROR = "WARMLINE_STATE_LOST routing state is missing (Redis came back empty)"
# What a script raises if it reaches a key it was not given: a plan (lua/common.lua) that missed
# one, a bug, which the engine's tests meet on every path they take.
UNDECLARED_KEY_ERROR = "WARMLINE_UNDECLARED_KEY a routing script reached a key it was not given"
# The first reply of a script whose plan found keys (or offer ids) it was not given; it wrote
# nothing, and the engine calls it again with them.
NEED_REPLY = "__need__"
# Before the key builders: the set of KEYS, for the checked builders.
_DECLARED_PRELUDE = """local DECLARED = {}
for _, k in ipairs(KEYS) do DECLARED[k] = true end
local function declared_key(k)
  if not DECLARED[k] then error({err = UNDECLARED_KEY_ERROR .. ': ' .. k}) end
  return k
end
"""
SCRIPT_NAMES = (
    "accept", "allow_drop_in", "arrive", "choose_any", "end_contact", "end_offer", "match_pass",
    "set_on_shift", "set_presence", "sweep", "sync_line", "sync_peer", "wrap_up",
    "requeue",  # texts: a risk word raises priority, a keyword changes the experience
    "restore_connection", "restore_offer", "restore_wrap_up",  # the rebuild after a Redis loss
)


def _constants() -> str:
    values = {
        "RING": defaults.RING_SECONDS,
        "PACING": defaults.PACING_SECONDS_PER_CALL,
        "MARGIN": defaults.OFFER_MARGIN_SECONDS,
        "TEXT_OFFER": defaults.TEXT_OFFER_SECONDS,
        "MAX_OFFER": defaults.MAX_OFFER_SECONDS,
        "MISSES_BEFORE_OFF": defaults.MISSES_BEFORE_OFF,
        "STALE_VOICE": defaults.STALE_WAITING_SECONDS["voice"],
        "STALE_SMS": defaults.STALE_WAITING_SECONDS["sms"],
        "SWEEP_BATCH": defaults.SWEEP_BATCH,
        "CONTACT_TTL": keys.CONTACT_TTL_SECONDS,
        "OFFER_RECORD_TTL": keys.OFFER_RECORD_TTL_SECONDS,
        "RECENT_WAITS_TTL": keys.RECENT_WAITS_TTL_SECONDS,
        "RECENT_WAITS_KEPT": keys.RECENT_WAITS_KEPT,
        "STATE_LOST_ERROR": STATE_LOST_ERROR,
        "UNDECLARED_KEY_ERROR": UNDECLARED_KEY_ERROR,
        "NEED_REPLY": NEED_REPLY,
    }
    return "".join(f"local {name} = {value!r}\n" for name, value in values.items())


@cache
def script_source(name: str) -> str:
    if name not in SCRIPT_NAMES:
        raise KeyError(name)
    return "\n".join((
        _constants(),
        _DECLARED_PRELUDE,
        keys.lua_key_builders(checked=True),
        (LUA_DIR / "common.lua").read_text(),
        (LUA_DIR / f"{name}.lua").read_text(),
    ))


def register_scripts(redis: Redis) -> dict[str, Script]:
    """EVALSHA-backed scripts: loaded once per server, reloaded by redis-py after a restart."""
    return {name: redis.register_script(script_source(name)) for name in SCRIPT_NAMES}
