"""A webhook's writes that nobody reads back go to Redis together once its answer is decided."""

from __future__ import annotations

import pytest

from warmline import keys
from warmline.redis_batch import defer, writes_together
from warmline.runtime import Runtime
from warmline.voice.state import CallState, WaitFacts


def test_deferred_writes_wait_for_the_end_of_the_block_and_outside_one_nothing_waits(
        runtime: Runtime) -> None:
    state = CallState(runtime.redis)
    assert not defer(runtime.redis, lambda pipe: pipe.set("x", 1))  # no block: write at once
    state.count_miss("c1", "menu")
    with writes_together():
        state.set_wait_facts("c1", WaitFacts(1, "en", "recovery", False))
        state.clear_misses("c1", "menu")
        with writes_together():  # a nested block joins the outer one
            pass
        assert not runtime.redis.exists(keys.voice_wait_facts("c1"))
        assert runtime.redis.exists(keys.voice_gather_misses("c1", "menu"))
    facts, _waited = state.wait_facts("c1")
    assert facts == WaitFacts(1, "en", "recovery", False)
    assert not runtime.redis.exists(keys.voice_gather_misses("c1", "menu"))


def test_deferred_writes_are_sent_when_the_block_fails(runtime: Runtime) -> None:
    with pytest.raises(LookupError), writes_together():
        CallState(runtime.redis).set_wait_facts("c2", WaitFacts(1, "en", None, True))
        raise LookupError
    assert runtime.redis.exists(keys.voice_wait_facts("c2"))

