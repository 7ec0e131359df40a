"""Warmline's settings, read once from the environment into a frozen object."""

from __future__ import annotations

import json
import math
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from config.redis_urls import redis_url_error
from config.text_policy import TextPolicy, read_text_policy

# Documented defaults (README "Settings"). A local run needs none of them set.
DEFAULT_REDIS_URL = "redis://localhost:6379/0"
DEFAULT_TWILIO_API_URL = "https://api.twilio.com"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:5000"
DEFAULT_INSTANCE_DIR = "instance"
DEV_SECRETS_FILE = "dev-secrets.json"
MIN_KEY_LENGTH = 32
# A rough lower bound on a key's strength (length x log2 of its distinct characters) below which
# production refuses it: `"a" * 32` or a word repeated is a placeholder, not a secret. Any
# `secrets.token_urlsafe(32)` or `token_hex(16)` is far above it.
MIN_KEY_BITS = 100
# A development account SID; real ones come from the Twilio console.
DEV_ACCOUNT_SID = "AC" + "0" * 30 + "de"
MAX_PROXY_HOPS = 10
# gunicorn's threads per web process: the Procfile's WEB_THREADS default. Eight, not more: a
# 2-core host runs the webhooks on one interpreter lock per process, and more threads only wait
# on it in turn (README "Threads per web process": 16 gave the arrival a quarter more p99 under
# 50 callers). The SQL pool follows it (one connection per thread), and below, how long one
# statement may run before PostgreSQL cancels it (a webhook must answer in 15 s).
DEFAULT_WEB_THREADS = 8
DEFAULT_DB_STATEMENT_TIMEOUT_MS = 5000

PRODUCTION = "production"
DEVELOPMENT = "development"


class ConfigError(Exception):
    """Raised at start with every missing or malformed setting listed in one message."""


@dataclass(frozen=True)
class Settings:
    """Everything Warmline reads from its environment, validated."""

    env: str
    database_url: str
    # Routing, live state and (unless rq_redis_url says otherwise) RQ: one server or a primary
    # found through Redis Sentinel (config.redis_urls).
    redis_url: str
    twilio_account_sid: str
    twilio_api_url: str
    public_url: str
    instance_dir: Path
    # Several tokens are accepted so that the auth token can be rotated without downtime;
    # the first one signs our own REST requests.
    twilio_auth_tokens: tuple[str, ...] = field(repr=False)
    secret_key: str = field(repr=False)
    data_key: str = field(repr=False)
    log_level: str = "INFO"
    # How many reverse proxies in front of `web` set X-Forwarded-*: exactly that many are
    # trusted (werkzeug's ProxyFix); 0 ignores the headers, so a client cannot pick its address.
    proxy_hops: int = 0
    text_policy: TextPolicy = field(default_factory=TextPolicy)
    # RQ's queues, jobs and scheduler: REDIS_URL unless RQ_REDIS_URL names another Redis (README
    # "Redis Cluster": RQ does not run on a cluster, so it keeps a Redis of its own there).
    # Empty when unset; read it through jobs_redis_url.
    rq_redis_url: str = ""
    # WEB_THREADS, as gunicorn reads it from the Procfile: what the process sizes by it.
    web_threads: int = DEFAULT_WEB_THREADS
    db_pool_size: int = DEFAULT_WEB_THREADS
    db_statement_timeout_ms: int = DEFAULT_DB_STATEMENT_TIMEOUT_MS

    @property
    def jobs_redis_url(self) -> str:
        return self.rq_redis_url or self.redis_url

    @property
    def is_production(self) -> bool:
        return self.env == PRODUCTION

    @property
    def twilio_auth_token(self) -> str:
        return self.twilio_auth_tokens[0]


def normalize_database_url(url: str) -> str:
    """Map the `postgres://` URLs that hosting platforms hand out to the driver we ship."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _dev_secrets(instance_dir: Path) -> dict[str, str]:
    """Development keys are made once and reused, so sessions and hashes survive restarts."""
    path = instance_dir / DEV_SECRETS_FILE
    if path.exists():
        loaded: dict[str, str] = json.loads(path.read_text())
        return loaded
    instance_dir.mkdir(parents=True, exist_ok=True)
    made = {
        "WARMLINE_SECRET_KEY": secrets.token_urlsafe(32),
        "WARMLINE_DATA_KEY": secrets.token_urlsafe(32),
        "TWILIO_AUTH_TOKEN": secrets.token_hex(16),
    }
    path.write_text(json.dumps(made, indent=2))
    path.chmod(0o600)
    return made


def estimated_key_bits(key: str) -> float:
    """Length x log2(distinct characters): generous to real keys, hard on repeated patterns."""
    distinct = len(set(key))
    return len(key) * math.log2(distinct) if distinct > 1 else 0.0


def _check_production_secrets(
    secret_key: str, data_key: str, public_url: str | None, errors: list[str]
) -> None:
    # Each of these starts a production that looks fine and is not: cookies sent in clear and
    # Twilio signing http URLs; one leaked key opening both sessions and stored numbers; a key
    # anyone could guess.
    if public_url is not None and not public_url.startswith("https://"):
        errors.append("WARMLINE_PUBLIC_URL: production needs an https:// URL (cookies and "
                      "Twilio's requests would travel in clear)")
    if secret_key and secret_key == data_key:
        errors.append("WARMLINE_SECRET_KEY and WARMLINE_DATA_KEY: must differ (one leak would "
                      "expose both sessions and stored numbers)")
    for name, value in (("WARMLINE_SECRET_KEY", secret_key), ("WARMLINE_DATA_KEY", data_key)):
        if len(value) >= MIN_KEY_LENGTH and estimated_key_bits(value) < MIN_KEY_BITS:
            errors.append(f"{name}: looks like a placeholder, not a random key (make one with "
                          "python -c \"import secrets; print(secrets.token_urlsafe(32))\")")


def _check_url(name: str, value: str, schemes: tuple[str, ...], errors: list[str]) -> None:
    parts = urlsplit(value)
    if parts.scheme not in schemes or not (parts.netloc or parts.path):
        errors.append(f"{name}: expected a URL starting with {' or '.join(schemes)}, got {value!r}")


def _proxy_hops(raw: str, errors: list[str]) -> int:
    value = raw.strip() or "0"
    # ASCII digits only (str.isdigit() lets "²" through to int()), and few of them.
    if not (value.isascii() and value.isdecimal() and len(value) <= 2) or int(value) > MAX_PROXY_HOPS:
        errors.append(f"WARMLINE_PROXY_HOPS: expected a whole number from 0 to {MAX_PROXY_HOPS}, "
                      f"got {raw!r}")
        return 0
    return int(value)


def _whole_number(name: str, raw: str, errors: list[str], *, default: int, lowest: int,
                  highest: int) -> int:
    value = raw.strip()
    if not value:
        return default
    if not (value.isascii() and value.isdecimal() and len(value) <= 7) \
            or not lowest <= int(value) <= highest:
        errors.append(f"{name}: expected a whole number from {lowest} to {highest}, got {raw!r}")
        return default
    return int(value)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read and validate the settings; raise ConfigError listing every problem at once."""
    env_vars = os.environ if environ is None else environ
    env = env_vars.get("WARMLINE_ENV", DEVELOPMENT).strip() or DEVELOPMENT
    instance_dir = Path(env_vars.get("WARMLINE_INSTANCE_DIR", DEFAULT_INSTANCE_DIR)).resolve()
    errors: list[str] = []
    if env not in (PRODUCTION, DEVELOPMENT, "test"):
        errors.append(f"WARMLINE_ENV: expected production, development or test, got {env!r}")

    def secret(name: str) -> str:
        value = env_vars.get(name, "")
        if value:
            return value
        if env == PRODUCTION:
            errors.append(f"{name}: required in production")
            return ""
        return _dev_secrets(instance_dir)[name]

    secret_key = secret("WARMLINE_SECRET_KEY")
    data_key = secret("WARMLINE_DATA_KEY")
    for name, value in (("WARMLINE_SECRET_KEY", secret_key), ("WARMLINE_DATA_KEY", data_key)):
        if value and len(value) < MIN_KEY_LENGTH:
            errors.append(f"{name}: must be at least {MIN_KEY_LENGTH} characters")

    tokens_raw = secret("TWILIO_AUTH_TOKEN")
    tokens = tuple(t.strip() for t in tokens_raw.split(",") if t.strip())
    if tokens_raw and not tokens:
        errors.append("TWILIO_AUTH_TOKEN: no token in the comma-separated list")

    account_sid = env_vars.get("TWILIO_ACCOUNT_SID", "")
    if not account_sid:
        if env == PRODUCTION:
            errors.append("TWILIO_ACCOUNT_SID: required in production")
        account_sid = DEV_ACCOUNT_SID
    elif not (account_sid.startswith("AC") and len(account_sid) == 34):
        errors.append("TWILIO_ACCOUNT_SID: expected 'AC' followed by 32 characters")

    default_db = f"sqlite:///{instance_dir / 'warmline.db'}"
    database_url = normalize_database_url(env_vars.get("DATABASE_URL", "") or default_db)
    _check_url("DATABASE_URL", database_url,
               ("sqlite", "postgresql+psycopg"), errors)
    redis_url = env_vars.get("REDIS_URL", "") or DEFAULT_REDIS_URL
    rq_redis_url = env_vars.get("RQ_REDIS_URL", "")  # empty: RQ shares REDIS_URL
    for name, value in (("REDIS_URL", redis_url), ("RQ_REDIS_URL", rq_redis_url)):
        problem = redis_url_error(value) if value else None
        if problem:  # the URL itself is left out: it may carry a password
            errors.append(f"{name}: {problem}")
    api_url = (env_vars.get("TWILIO_API_URL", "") or DEFAULT_TWILIO_API_URL).rstrip("/")
    _check_url("TWILIO_API_URL", api_url, ("http", "https"), errors)
    public_url = env_vars.get("WARMLINE_PUBLIC_URL", "")
    if not public_url:
        if env == PRODUCTION:
            errors.append("WARMLINE_PUBLIC_URL: required in production (the URL Twilio calls)")
        public_url = DEFAULT_PUBLIC_URL
    public_url = public_url.rstrip("/")
    _check_url("WARMLINE_PUBLIC_URL", public_url, ("http", "https"), errors)
    log_level = env_vars.get("WARMLINE_LOG_LEVEL", "INFO").upper()
    if log_level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        errors.append(f"WARMLINE_LOG_LEVEL: expected DEBUG, INFO, WARNING or ERROR, got {log_level!r}")

    proxy_hops = _proxy_hops(env_vars.get("WARMLINE_PROXY_HOPS", ""), errors)
    text_policy = read_text_policy(env_vars, errors)
    # WEB_THREADS is gunicorn's (Procfile): the pool follows it unless set on its own.
    web_threads = _whole_number("WEB_THREADS", env_vars.get("WEB_THREADS", ""), errors,
                                default=DEFAULT_WEB_THREADS, lowest=1, highest=200)
    pool_size = _whole_number("WARMLINE_DB_POOL_SIZE", env_vars.get("WARMLINE_DB_POOL_SIZE", ""),
                              errors, default=web_threads, lowest=1, highest=200)
    statement_timeout = _whole_number(
        "WARMLINE_DB_STATEMENT_TIMEOUT_MS", env_vars.get("WARMLINE_DB_STATEMENT_TIMEOUT_MS", ""),
        errors, default=DEFAULT_DB_STATEMENT_TIMEOUT_MS, lowest=100, highest=3_600_000)
    if env == PRODUCTION:
        given_url = public_url if env_vars.get("WARMLINE_PUBLIC_URL") else None  # else: "required"
        _check_production_secrets(secret_key, data_key, given_url, errors)

    if errors:
        raise ConfigError("Warmline cannot start:\n  - " + "\n  - ".join(errors))
    return Settings(
        env=env,
        database_url=database_url,
        redis_url=redis_url,
        rq_redis_url=rq_redis_url,
        twilio_account_sid=account_sid,
        twilio_auth_tokens=tokens,
        twilio_api_url=api_url,
        public_url=public_url,
        secret_key=secret_key,
        data_key=data_key,
        instance_dir=instance_dir,
        log_level=log_level,
        proxy_hops=proxy_hops,
        text_policy=text_policy,
        web_threads=web_threads,
        db_pool_size=pool_size,
        db_statement_timeout_ms=statement_timeout,
    )
