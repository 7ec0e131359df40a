"""Redis writes whose answer nobody reads, sent together when a webhook's answer is decided.

A webhook's writes of this kind (the contact events' jobs, the caller's wait facts, a question's
miss count cleared) each cost a round trip to Redis while Twilio waited for the answer. Inside
`writes_together`, `defer` queues them instead, and they go in one MULTI/EXEC per Redis client
when the block ends, in the order they were made. Outside a block, `defer` refuses and the caller
writes at once, so jobs, tests and the command line behave as before.

Only writes that nothing reads later in the same block may be deferred. The queued writes are
sent even when the block fails (what they record happened); a failure to send them then is
logged by type, and the block's own error goes on. Nested blocks join the outermost one.

`collect` does the same for items that one write records together (a webhook's contact events:
one job, not one job each): the block's first item defers the write, which is handed every item
collected by the time the block is sent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from redis import Redis
from redis.client import Pipeline

log = logging.getLogger(__name__)

Write = Callable[[Pipeline], Any]

_open: ContextVar[list[tuple[Redis, Write]] | None] = ContextVar("redis_writes", default=None)
# The open block's collected items, by the name their write was deferred under.
_collected: ContextVar[dict[str, list[Any]] | None] = ContextVar("redis_collected", default=None)

Item = TypeVar("Item")


def defer(redis: Redis, write: Write) -> bool:
    """Queue `write` (commands on a pipeline of `redis`) for the open block; False when no block
    is open, and then nothing is queued: write at once."""
    pending = _open.get()
    if pending is None:
        return False
    pending.append((redis, write))
    return True


def collect(redis: Redis, name: str, item: Item,
            write_all: Callable[[Pipeline, list[Item]], Any]) -> bool:
    """Add `item` to the open block's items named `name`, written by one `write_all` (commands
    on a pipeline of `redis`) when the block is sent; False when no block is open, and then
    nothing is kept: write the item at once."""
    pending, collected = _open.get(), _collected.get()
    if pending is None or collected is None:
        return False
    items = collected.get(name)
    if items is None:
        items = collected[name] = []
        pending.append((redis, lambda pipe: write_all(pipe, items)))
    items.append(item)
    return True


def send(pending: list[tuple[Redis, Write]]) -> None:
    clients: list[Redis] = []
    for client, _write in pending:
        if not any(client is seen for seen in clients):
            clients.append(client)
    for client in clients:
        with client.pipeline(transaction=True) as pipe:
            # MULTI now, explicitly: RQ's enqueue on a caller's pipeline starts one itself
            # unless one is open, and refuses once other commands are queued.
            pipe.multi()
            for owner, write in pending:
                if owner is client:
                    write(pipe)
            pipe.execute()


@contextmanager
def writes_together() -> Iterator[None]:
    if _open.get() is not None:
        yield
        return
    pending: list[tuple[Redis, Write]] = []
    token, collected_token = _open.set(pending), _collected.set({})
    try:
        yield
    except BaseException:
        _open.reset(token)
        _collected.reset(collected_token)
        try:
            send(pending)
        except Exception as exc:  # noqa: BLE001 - the block's error is the one to report
            log.error("deferred Redis writes not sent after a failure (%s)", type(exc).__name__)
        raise
    _open.reset(token)
    _collected.reset(collected_token)
    send(pending)
