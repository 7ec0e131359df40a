"""The routing key strings are a contract between processes and versions: pinned here."""

from __future__ import annotations

import re
from pathlib import Path

from warmline.routing import keys

ROUTING_DIR = Path(keys.__file__).parent


def test_key_strings_are_pinned() -> None:
    assert keys.lines() == "wl:{wl}:lines"
    assert keys.line(7) == "wl:{wl}:line:7"
    assert keys.line_on_shift(7) == "wl:{wl}:line:7:on_shift"
    assert keys.line_classes(7) == "wl:{wl}:line:7:classes"
    assert keys.waiting(7, "voice", "recovery", "en") == "wl:{wl}:waiting:7:voice:recovery:en"
    assert keys.waiting_all() == "wl:{wl}:waiting_all"
    assert keys.pool(7, "sms", "*", "es") == "wl:{wl}:pool:7:sms:*:es"
    assert keys.staffed(7, "sms", "*", "es") == "wl:{wl}:staffed:7:sms:*:es"
    assert keys.peers() == "wl:{wl}:peers"
    assert keys.peer(3) == "wl:{wl}:peer:3"
    assert keys.peer_shift_lines(3) == "wl:{wl}:peer:3:shift_lines"
    assert keys.peer_drop_ins(3) == "wl:{wl}:peer:3:drop_ins"
    assert keys.peer_memberships(3) == "wl:{wl}:peer:3:memberships"
    assert keys.peer_contacts(3, "voice") == "wl:{wl}:peer:3:contacts:voice"
    assert keys.presence_members("available") == "wl:{wl}:presence:available"
    assert keys.wrap_ups() == "wl:{wl}:wrap_ups"
    assert keys.drop_in_ends() == "wl:{wl}:drop_in_ends"
    assert keys.contact("abc") == "wl:{wl}:contact:abc"
    assert keys.connected() == "wl:{wl}:connected"
    assert keys.state_marker() == "wl:{wl}:state_marker"
    assert keys.rebuild_lock() == "wl:{wl}:rebuild_lock"
    assert keys.offer(12) == "wl:{wl}:offer:12"
    assert keys.offer_sequence() == "wl:{wl}:offer_sequence"
    assert keys.pending_offers("voice") == "wl:{wl}:offers:voice"
    assert keys.recent_waits(7, "voice", "*") == "wl:{wl}:waits:7:voice:*"


def test_every_family_carries_the_hash_tag_once() -> None:
    for family in keys.KEY_FAMILIES:
        args = ["x"] * family.__code__.co_argcount
        key = family(*args)
        assert key.startswith("wl:{wl}:"), key
        assert key.count("{") == 1, key


def test_lua_builders_match_python() -> None:
    lua = keys.lua_key_builders()
    assert "local function key_pool(line_id, channel, experience, language) return " \
        "'wl:{wl}:pool:' .. line_id .. ':' .. channel .. ':' .. experience .. ':' .. " \
        "language end" in lua
    assert lua.count("local function key_") == len(keys.KEY_FAMILIES)


def test_no_key_strings_outside_the_keys_module_and_no_keys_command() -> None:
    for path in [*ROUTING_DIR.rglob("*.py"), *ROUTING_DIR.rglob("*.lua")]:
        text = path.read_text()
        assert not re.search(r"['\"]KEYS['\"]", text), path
        assert not re.search(r"\.keys\(", text), path
        if path.name != "keys.py":
            assert "wl:{wl}" not in text, path
