"""The forms `REDIS_URL` (and `RQ_REDIS_URL`) take, parsed: one server, or Redis Sentinel."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

SENTINEL_SCHEME = "redis+sentinel"
SERVER_SCHEMES = ("redis", "rediss", "unix")
SENTINEL_FORM = f"{SENTINEL_SCHEME}://[:PASSWORD@]HOST:PORT[,HOST:PORT...]/SERVICE/DB"


@dataclass(frozen=True)
class SentinelTarget:
    """A primary found through Redis Sentinel: the sentinels, the service they watch, a DB."""

    sentinels: tuple[tuple[str, int], ...]
    service: str
    db: int
    # The password of the primary and its replicas (the sentinels themselves take none here).
    password: str | None = field(default=None, repr=False)


def is_sentinel_url(url: str) -> bool:
    return url.startswith(f"{SENTINEL_SCHEME}://")


def _host_port(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not (port.isascii() and port.isdecimal()) or not 0 < int(port) < 65536:
        raise ValueError(f"expected HOST:PORT for each sentinel, got {text!r} ({SENTINEL_FORM})")
    return host.strip("[]"), int(port)


def parse_sentinel_url(url: str) -> SentinelTarget:
    """`redis+sentinel://HOST:PORT[,HOST:PORT...]/SERVICE/DB`; ValueError says what is wrong."""
    parts = urlsplit(url)
    if parts.scheme != SENTINEL_SCHEME:
        raise ValueError(f"expected {SENTINEL_FORM}")
    userinfo, _, hosts = parts.netloc.rpartition("@")
    password = unquote(userinfo.partition(":")[2]) if userinfo else None
    if not hosts:
        raise ValueError(f"no sentinel HOST:PORT (expected {SENTINEL_FORM})")
    sentinels = tuple(_host_port(h) for h in hosts.split(","))
    path = parts.path.strip("/").split("/")
    if len(path) != 2 or not path[0]:
        raise ValueError(f"expected /SERVICE/DB after the sentinels ({SENTINEL_FORM})")
    service, db = path
    if not (db.isascii() and db.isdecimal()):
        raise ValueError(f"DB must be a number, got {db!r} ({SENTINEL_FORM})")
    return SentinelTarget(sentinels, unquote(service), int(db), password or None)


def redis_url_error(url: str) -> str | None:
    """Why `url` is not a Redis URL Warmline can use, or None."""
    if is_sentinel_url(url):
        try:
            parse_sentinel_url(url)
        except ValueError as exc:
            return str(exc)
        return None
    parts = urlsplit(url)
    if parts.scheme not in SERVER_SCHEMES or not (parts.netloc or parts.path):
        return f"expected a URL starting with redis://, rediss:// or unix://, or {SENTINEL_FORM}"
    return None
