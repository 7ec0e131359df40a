"""Scans for leaks: every Redis key (decrypting what our key decrypts), every SQL row, the logs."""

from __future__ import annotations

import re
import zlib

from sqlalchemy import select

from warmline.crypto import DecryptionError
from warmline.models import Base
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
