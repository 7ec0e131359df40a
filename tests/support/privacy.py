"""Scans for leaks: every Redis key (decrypting what our key decrypts), every SQL row, every
job's arguments, the logs; `assert_nowhere` runs them all (DESIGN invariant 5)."""

from __future__ import annotations

import logging
import re
import zlib
from collections.abc import Iterator
from contextlib import contextmanager

from rq import Queue
from rq.registry import FailedJobRegistry, FinishedJobRegistry, ScheduledJobRegistry
from sqlalchemy import select

from warmline.crypto import DecryptionError
from warmline.logs import NumberMaskingFilter
from warmline.models import Base
from warmline.queues import QueueName
from warmline.runtime import Runtime

_TOKEN = re.compile(r"[A-Za-z0-9_\-=]{40,}")


def _text(value: object) -> str:
    if isinstance(value, bytes):
        if value[:1] == b"x":  # RQ's zlib-compressed job data
            try:
                return zlib.decompress(value).decode("latin-1")
            except zlib.error:
                pass
        return value.decode("utf-8", "replace")
    return str(value)


def redis_dump(runtime: Runtime, *, decrypt: bool) -> str:
    """Everything in the test's Redis DB; with `decrypt`, plus what our data key opens."""
    redis = runtime.redis
    parts: list[str] = []
    for raw_key in redis.scan_iter(count=500):
        key = _text(raw_key)
        kind = _text(redis.type(raw_key))
        parts.append(key)
        if kind == "string":
            parts.append(_text(redis.get(raw_key)))
        elif kind == "hash":
            parts += [_text(x) for kv in redis.hgetall(raw_key).items() for x in kv]
        elif kind == "list":
            parts += [_text(x) for x in redis.lrange(raw_key, 0, -1)]
        elif kind == "set":
            parts += [_text(x) for x in redis.smembers(raw_key)]
        elif kind == "zset":
            parts += [_text(x) for x, _ in redis.zrange(raw_key, 0, -1, withscores=True)]
    text = "\n".join(parts)
    if decrypt:
        opened = []
        for token in _TOKEN.findall(text):
            try:
                opened.append(runtime.keys.decrypt(token))
            except DecryptionError:
                continue
        text += "\n" + "\n".join(opened)
    return text


def sql_dump(runtime: Runtime) -> str:
    rows: list[str] = []
    with runtime.sessions() as session:
        for table in Base.metadata.sorted_tables:
            rows += [repr(tuple(r)) for r in session.execute(select(table)).all()]
    return "\n".join(rows)


def number_forms(number: str) -> list[str]:
    """E.164 and the bare national digits (a log line could hold either)."""
    return [number, number[-10:]]


def assert_absent(haystack: str, needles: list[str], where: str) -> None:
    found = [n for n in needles if n and n in haystack]
    assert not found, f"{where} holds {found}"


class LogCapture(logging.Handler):
    """Everything logged anywhere, as emitted before any masking filter could help."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@contextmanager
def capture_logs() -> Iterator[LogCapture]:
    """Every log line of the block, at every level (the e2e `logs` fixture)."""
    capture = LogCapture()
    root = logging.getLogger()
    previous = root.level
    root.setLevel(logging.DEBUG)
    # First of the root's handlers: the masking filter (a safety net; the scans check the code
    # never needs it) rewrites the record in place, so a handler after it sees only the mask.
    root.handlers.insert(0, capture)
    assert not any(isinstance(f, NumberMaskingFilter) for f in capture.filters)
    try:
        yield capture
    finally:
        root.removeHandler(capture)
        root.setLevel(previous)


def job_arguments(runtime: Runtime) -> str:
    """The function and arguments of every job queued, scheduled, finished or failed."""
    redis = runtime.redis
    parts: list[str] = []
    for name in QueueName:
        queue = Queue(name.value, connection=redis)
        ids = set(queue.job_ids)
        for registry in (FailedJobRegistry, FinishedJobRegistry, ScheduledJobRegistry):
            ids |= set(registry(name.value, connection=redis).get_job_ids())
        for job in queue.job_class.fetch_many(list(ids), connection=redis):
            if job is not None:
                parts.append(f"{job.func_name} {job.args!r} {job.kwargs!r}")
    return "\n".join(parts)


def assert_nowhere(runtime: Runtime, logs: LogCapture, needles: list[str], *,
                   decrypt: bool = False) -> None:
    """None of `needles` in a log line, an SQL row, a job's arguments or Redis (with `decrypt`,
    not even encrypted there)."""
    assert_absent("\n".join(logs.lines), needles, "the logs")
    assert_absent(sql_dump(runtime), needles, "SQL")
    assert_absent(job_arguments(runtime), needles, "job arguments")
    assert_absent(redis_dump(runtime, decrypt=decrypt), needles, "Redis")
