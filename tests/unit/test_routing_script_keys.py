"""What each routing Lua script may name as a key, read from the scripts themselves.

No script builds a key from a string: every key comes from a builder generated from
`warmline.routing.keys`. The keys with fixed names are declared in KEYS (the builders return
`KEYS[n]`); the families named from what a script reads are pinned below, so a new fixed-name
key used by a script without being declared fails here.
"""

from __future__ import annotations

import inspect
import re

import pytest

from warmline.routing import keys
from warmline.routing.scripts import SCRIPT_NAMES, script_source

# Families whose names come from data a script reads or is given (a peer, a contact, an offer,
# a line's waiting classes...): they cannot be listed in KEYS before the script runs. All carry
# the `{wl}` tag (tests/unit/test_keys.py), so they share the declared keys' slot and node.
NAMED_FROM_DATA = {
    "line", "line_on_shift", "line_classes", "waiting", "pool", "staffed", "peer",
    "peer_shift_lines", "peer_drop_ins", "peer_memberships", "peer_contacts", "presence_members",
    "contact", "offer", "pending_offers", "recent_waits",
}
LUA_STRING = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
BUILDER_CALL = re.compile(r"\bkey_([a-z_]+)\s*\(")


def _script_body(name: str) -> str:
    """The script without the generated builders: the code a person wrote."""
    source = script_source(name)
    builders = keys.lua_key_builders()
    assert builders in source
    return source.replace(builders, "")


@pytest.mark.parametrize("name", SCRIPT_NAMES)
def test_no_script_builds_a_key_from_a_string(name: str) -> None:
    body = _script_body(name)
    for literal in LUA_STRING.findall(body):
        assert keys.PREFIX + ":" not in literal and keys.HASH_TAG not in literal, (name, literal)
    # nor reaches past the builders into KEYS, whose order is theirs
    assert "KEYS" not in body, name


@pytest.mark.parametrize("name", SCRIPT_NAMES)
def test_every_key_a_script_names_is_declared_or_named_from_data(name: str) -> None:
    declared = {family.__name__ for family in keys.DECLARED_FAMILIES}
    used = set(BUILDER_CALL.findall(_script_body(name)))
    known = {family.__name__ for family in keys.KEY_FAMILIES}
    assert used <= known, (name, used - known)
    assert used - declared <= NAMED_FROM_DATA, (name, used - declared - NAMED_FROM_DATA)


def test_declared_builders_return_the_scripts_keys_in_order() -> None:
    builders = keys.lua_key_builders()
    for n, family in enumerate(keys.DECLARED_FAMILIES, start=1):
        assert f"local function key_{family.__name__}() return KEYS[{n}] end" in builders
    assert keys.script_keys() == [family() for family in keys.DECLARED_FAMILIES]
    assert len(set(keys.script_keys())) == len(keys.DECLARED_FAMILIES)


def test_every_family_with_a_fixed_name_is_declared() -> None:
    fixed = {family for family in keys.KEY_FAMILIES if not inspect.signature(family).parameters}
    assert fixed == set(keys.DECLARED_FAMILIES)
    assert not {f.__name__ for f in keys.DECLARED_FAMILIES} & NAMED_FROM_DATA
