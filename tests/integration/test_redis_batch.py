"""A webhook's writes that nobody reads back go to Redis together once its answer is decided."""

from __future__ import annotations

import pytest

from warmline import keys
from warmline.redis_batch import collect, defer, writes_together
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



def test_collected_items_are_written_by_one_write_with_every_item_of_the_block(
        runtime: Runtime) -> None:
    written: list[list[str]] = []

    def write_all(pipe: object, items: list[str]) -> None:
        written.append(list(items))
        pipe.rpush("collected", *items)  # type: ignore[attr-defined]

    assert not collect(runtime.redis, "names", "a", write_all)  # no block: write at once
    with writes_together():
        assert collect(runtime.redis, "names", "a", write_all)
        CallState(runtime.redis).set_wait_facts("c3", WaitFacts(1, "en", None, True))
        assert collect(runtime.redis, "names", "b", write_all)
        with writes_together():  # a nested block collects into the outer one
            assert collect(runtime.redis, "names", "c", write_all)
        assert written == [] and not runtime.redis.exists("collected")
    assert written == [["a", "b", "c"]]
    assert runtime.redis.lrange("collected", 0, -1) == [b"a", b"b", b"c"]
    assert runtime.redis.exists(keys.voice_wait_facts("c3"))
    with writes_together():  # a new block starts with nothing collected
        collect(runtime.redis, "names", "d", write_all)
    assert written == [["a", "b", "c"], ["d"]]
