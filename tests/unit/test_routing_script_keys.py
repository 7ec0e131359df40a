"""Every key a routing Lua script touches is declared in its KEYS, read from the scripts.

No script builds a key from a string: every key comes from a builder generated from
`warmline.routing.keys`. The fixed-name families are KEYS[n]; every other builder a script's
code calls (`key_<family>`) checks that its key is in KEYS and raises otherwise. A script finds
the keys named from data with its plan (lua/common.lua), which only names keys (`name_<family>`)
and reads a key only once it is declared (`plan_call`, or a read behind `DECLARED[...]`), and it
writes nothing until the plan is whole. So: no code outside the plan reaches `name_*`, no
`redis.call` in the plan takes a key that was not checked, and every data-named builder is
checked, here on the source and on a real Redis.
"""

from __future__ import annotations

import inspect
import re

import pytest
from redis import Redis
from redis.exceptions import ResponseError

from tests.support.services import TEST_REDIS_URL
from warmline.routing import keys
from warmline.routing.scripts import (
    _DECLARED_PRELUDE,
    LUA_DIR,
    SCRIPT_NAMES,
    UNDECLARED_KEY_ERROR,
    script_source,
)

LUA_STRING = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
BUILDER_CALL = re.compile(r"\bkey_([a-z_]+)\s*\(")
NAME_CALL = re.compile(r"\bname_([a-z_]+)\s*\(")
REDIS_CALL = re.compile(r"redis\.call\(\s*'[A-Z]+',\s*([a-z_]+\([^)]*\)|[^,)]+)")
DATA_FAMILIES = {f.__name__ for f in keys.KEY_FAMILIES} - {f.__name__ for f in keys.DECLARED_FAMILIES}


def _script_body(name: str) -> str:
    """The script without the generated builders: the code a person wrote."""
    source = script_source(name)
    builders = keys.lua_key_builders(checked=True)
    assert builders in source
    return source.replace(builders, "")


def _plan_and_rest(name: str) -> tuple[str, str]:
    """(the plan's code, the rest): common.lua's Plan section and each script's lines before
    its `plan_reply()`."""
    common = (LUA_DIR / "common.lua").read_text()
    start, end = common.index("-- Plan ---"), common.index("-- An offer id the engine reserved")
    own = (LUA_DIR / f"{name}.lua").read_text()
    cut = own.index("local need = plan_reply()")
    return common[start:end] + own[:cut], common[:start] + common[end:] + own[cut:]


@pytest.mark.parametrize("name", SCRIPT_NAMES)
def test_no_script_builds_a_key_from_a_string(name: str) -> None:
    body = _script_body(name)
    for literal in LUA_STRING.findall(body):
        assert keys.PREFIX + ":" not in literal and keys.HASH_TAG not in literal, (name, literal)
    # nor reaches into KEYS but through the builders (and the prelude's set of them)
    code = re.sub(r"--[^\n]*", "", body.replace(_DECLARED_PRELUDE, ""))
    assert not re.search(r"\bKEYS\b", code), name


@pytest.mark.parametrize("name", SCRIPT_NAMES)
def test_every_builder_a_script_calls_is_known(name: str) -> None:
    body = _script_body(name)
    known = {family.__name__ for family in keys.KEY_FAMILIES}
    assert set(BUILDER_CALL.findall(body)) <= known, name
    assert set(NAME_CALL.findall(body)) <= DATA_FAMILIES, name


@pytest.mark.parametrize("name", SCRIPT_NAMES)
def test_only_the_plan_names_keys_and_it_reads_only_declared_ones(name: str) -> None:
    plan, rest = _plan_and_rest(name)
    assert "plan_reply()" in rest and "if need then return need end" in rest, name
    # outside the plan every key comes from a checked builder
    assert not NAME_CALL.findall(rest), (name, NAME_CALL.findall(rest))
    for line in plan.splitlines():
        for found in REDIS_CALL.findall(line):
            key = found.strip()
            # a fixed key, plan_call's own (after want), or one checked on the same line
            checked = (key.startswith("key_") or line.strip().startswith("if want(k) then")
                       or f"DECLARED[{key}]" in line or f"want({key})" in line)
            assert checked, (name, line)


@pytest.mark.parametrize("name", SCRIPT_NAMES)
def test_the_plan_comes_before_any_write(name: str) -> None:
    """A script's own code writes nothing before its plan's verdict."""
    own = (LUA_DIR / f"{name}.lua").read_text()
    before = own[:own.index("local need = plan_reply()")]
    writes = re.findall(r"redis\.call\(\s*'(?!HMGET|HGET|SMEMBERS|ZRANGE|ZRANGEBYSCORE|EXISTS|HKEYS|GET)"
                        r"[A-Z]+'", before)
    assert not writes, (name, writes)


def test_declared_builders_return_the_scripts_keys_in_order() -> None:
    builders = keys.lua_key_builders(checked=True)
    for n, family in enumerate(keys.DECLARED_FAMILIES, start=1):
        assert f"local function key_{family.__name__}() return KEYS[{n}] end" in builders
    fixed = keys.script_keys()
    assert fixed[:len(keys.DECLARED_FAMILIES)] == [family() for family in keys.DECLARED_FAMILIES]
    assert len(set(fixed)) == len(fixed)
    assert {keys.presence_members(p) for p in keys.PRESENCES} <= set(fixed)
    assert {keys.pending_offers(c) for c in keys.CHANNELS} <= set(fixed)


def test_every_data_named_builder_is_checked() -> None:
    builders = keys.lua_key_builders(checked=True)
    for family in DATA_FAMILIES:
        assert re.search(rf"local function key_{family}\([^)]*\) return declared_key\(name_{family}\(",
                         builders), family


def test_every_family_with_a_fixed_name_is_declared() -> None:
    fixed = {family for family in keys.KEY_FAMILIES if not inspect.signature(family).parameters}
    assert fixed == set(keys.DECLARED_FAMILIES)


def test_the_presences_and_channels_are_the_domains() -> None:
    from warmline.domain.matching import CHANNELS, Presence
    assert set(keys.PRESENCES) == {p.value for p in Presence}
    assert keys.CHANNELS == CHANNELS


def test_a_script_reaching_an_undeclared_key_fails_on_redis() -> None:
    """The check is Redis's too: a builder's key not in KEYS is an error, not a quiet write."""
    redis = Redis.from_url(TEST_REDIS_URL)
    source = (f"local UNDECLARED_KEY_ERROR = {UNDECLARED_KEY_ERROR!r}\n" + _DECLARED_PRELUDE
              + keys.lua_key_builders(checked=True) + "return key_peer(ARGV[1])")
    given = keys.script_keys()
    assert redis.eval(source, len(given) + 1, *given, keys.peer("7"), "7") == keys.peer("7").encode()
    with pytest.raises(ResponseError, match="WARMLINE_UNDECLARED_KEY"):
        redis.eval(source, len(given), *given, "8")
