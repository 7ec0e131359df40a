"""Settings are read once, validated in full, and refuse to start production without secrets."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import pytest

from config import ConfigError, load_settings
from config.settings import (
    DEFAULT_WEB_THREADS,
    MIN_KEY_BITS,
    estimated_key_bits,
    normalize_database_url,
)
from config.text_policy import TextPolicy

REPO = Path(__file__).resolve().parents[2]

GOOD_KEY = "k" * 32


def test_a_local_run_needs_no_settings_and_reuses_its_development_keys(tmp_path: Path) -> None:
    env = {"WARMLINE_INSTANCE_DIR": str(tmp_path)}
    first = load_settings(env)
    second = load_settings(env)
    assert first.database_url == f"sqlite:///{tmp_path / 'warmline.db'}"
    assert first.redis_url == "redis://localhost:6379/0"
    assert first.twilio_api_url == "https://api.twilio.com"
    assert len(first.data_key) >= 32
    assert (first.data_key, first.secret_key) == (second.data_key, second.secret_key)
    assert (tmp_path / "dev-secrets.json").stat().st_mode & 0o077 == 0


def test_production_lists_every_missing_setting_in_one_message(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({"WARMLINE_ENV": "production", "WARMLINE_INSTANCE_DIR": str(tmp_path)})
    message = str(caught.value)
    for name in ("WARMLINE_SECRET_KEY", "WARMLINE_DATA_KEY", "TWILIO_AUTH_TOKEN",
                 "TWILIO_ACCOUNT_SID", "WARMLINE_PUBLIC_URL"):
        assert name in message
    assert not (tmp_path / "dev-secrets.json").exists()


def test_malformed_values_are_all_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({
            "WARMLINE_INSTANCE_DIR": str(tmp_path),
            "WARMLINE_DATA_KEY": "short",
            "TWILIO_ACCOUNT_SID": "nope",
            "REDIS_URL": "http://x",
            "WARMLINE_PUBLIC_URL": "ftp://x",
        })
    message = str(caught.value)
    assert message.count("\n  - ") == 4


def test_auth_tokens_accept_a_comma_separated_list_for_rotation(tmp_path: Path) -> None:
    settings = load_settings({
        "WARMLINE_INSTANCE_DIR": str(tmp_path), "TWILIO_AUTH_TOKEN": "new , old",
        "WARMLINE_SECRET_KEY": GOOD_KEY, "WARMLINE_DATA_KEY": GOOD_KEY,
    })
    assert settings.twilio_auth_tokens == ("new", "old")
    assert settings.twilio_auth_token == "new"
    assert "new" not in repr(settings) and GOOD_KEY not in repr(settings)


def test_the_text_policy_is_read_from_the_environment_with_the_other_settings(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {"WARMLINE_INSTANCE_DIR": str(tmp_path), "WARMLINE_ENV": "development",
                        "WARMLINE_TEXT_RISK_WORDS": " Pills, rope ,,", "WARMLINE_TEXT_CONTENT_HOURS": "2",
                        "WARMLINE_TEXT_INACTIVITY_MINUTES": "5"}.items():
        monkeypatch.setenv(name, value)
    assert load_settings().text_policy == TextPolicy(("pills", "rope"), 300.0, 7200.0)
    assert load_settings({"WARMLINE_INSTANCE_DIR": str(tmp_path)}).text_policy == TextPolicy()


def test_a_bad_text_setting_stops_the_start_in_the_one_message(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({
            "WARMLINE_INSTANCE_DIR": str(tmp_path),
            "WARMLINE_TEXT_INACTIVITY_MINUTES": "soon",
            "WARMLINE_TEXT_CONTENT_HOURS": "48",
            "REDIS_URL": "http://x",
        })
    message = str(caught.value)
    assert message.count("\n  - ") == 3
    for name in ("WARMLINE_TEXT_INACTIVITY_MINUTES", "WARMLINE_TEXT_CONTENT_HOURS", "REDIS_URL"):
        assert name in message


@pytest.mark.parametrize(("given", "expected"), [
    ("postgres://u:p@h/db", "postgresql+psycopg://u:p@h/db"),
    ("postgresql://u@h:5433/db", "postgresql+psycopg://u@h:5433/db"),
    ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
    ("sqlite:///x.db", "sqlite:///x.db"),
])
def test_hosting_platform_database_urls_map_to_the_shipped_driver(given: str, expected: str) -> None:
    assert normalize_database_url(given) == expected


def _production(tmp_path: Path, **overrides: str) -> dict[str, str]:
    return {
        "WARMLINE_ENV": "production", "WARMLINE_INSTANCE_DIR": str(tmp_path),
        "TWILIO_ACCOUNT_SID": "AC" + "1" * 32, "TWILIO_AUTH_TOKEN": "token",
        "WARMLINE_PUBLIC_URL": "https://warmline.example.org",
        "WARMLINE_SECRET_KEY": secrets.token_urlsafe(32), "WARMLINE_DATA_KEY": secrets.token_hex(16),
        **overrides,
    }


def test_production_starts_with_an_https_url_and_two_random_keys(tmp_path: Path) -> None:
    assert load_settings(_production(tmp_path)).is_production


def test_production_refuses_http_one_key_twice_and_a_placeholder_key_in_one_message(
    tmp_path: Path,
) -> None:
    # The review's three: an http:// public URL, identical keys, and "a" * 32.
    with pytest.raises(ConfigError) as caught:
        load_settings(_production(tmp_path, WARMLINE_PUBLIC_URL="http://warmline.example.org",
                                  WARMLINE_SECRET_KEY="a" * 32, WARMLINE_DATA_KEY="a" * 32))
    message = str(caught.value)
    assert message.count("\n  - ") == 4  # https, identical, and each key a placeholder
    assert "https://" in message and "must differ" in message and "placeholder" in message


@pytest.mark.parametrize("weak", ["a" * 32, "ab" * 16, "password" * 4, "0123" * 8])
def test_a_patterned_key_is_a_placeholder(tmp_path: Path, weak: str) -> None:
    with pytest.raises(ConfigError, match="WARMLINE_DATA_KEY: looks like a placeholder"):
        load_settings(_production(tmp_path, WARMLINE_DATA_KEY=weak))


def test_real_keys_are_far_above_the_placeholder_bar() -> None:
    for _ in range(200):
        for key in (secrets.token_urlsafe(32), secrets.token_hex(16), secrets.token_hex(32)):
            assert estimated_key_bits(key) >= MIN_KEY_BITS, key


def test_development_keeps_accepting_simple_test_keys(tmp_path: Path) -> None:
    settings = load_settings({"WARMLINE_INSTANCE_DIR": str(tmp_path),
                              "WARMLINE_SECRET_KEY": GOOD_KEY, "WARMLINE_DATA_KEY": GOOD_KEY})
    assert settings.public_url.startswith("http://")


def test_proxy_hops_default_to_none_trusted_and_accept_a_small_whole_number(tmp_path: Path) -> None:
    env = {"WARMLINE_INSTANCE_DIR": str(tmp_path)}
    assert load_settings(env).proxy_hops == 0
    assert load_settings({**env, "WARMLINE_PROXY_HOPS": " 2 "}).proxy_hops == 2


@pytest.mark.parametrize("given", ["-1", "one", "²", "1.5", "11", "9" * 5000])
def test_a_malformed_proxy_hops_is_reported(tmp_path: Path, given: str) -> None:
    with pytest.raises(ConfigError, match="WARMLINE_PROXY_HOPS: expected a whole number from 0 to 10"):
        load_settings({"WARMLINE_INSTANCE_DIR": str(tmp_path), "WARMLINE_PROXY_HOPS": given})


def test_a_sentinel_url_names_the_sentinels_the_service_and_the_db(tmp_path: Path) -> None:
    from config.redis_urls import SentinelTarget, parse_sentinel_url

    url = "redis+sentinel://:s%40cret@10.0.0.1:26379,sentinel-b:26380/warmline/3"
    settings = load_settings({"WARMLINE_INSTANCE_DIR": str(tmp_path), "REDIS_URL": url})
    assert settings.redis_url == url and settings.jobs_redis_url == url
    target = parse_sentinel_url(url)
    assert target == SentinelTarget((("10.0.0.1", 26379), ("sentinel-b", 26380)), "warmline", 3,
                                    "s@cret")
    assert "s@cret" not in repr(target)


@pytest.mark.parametrize(("url", "why"), [
    ("redis+sentinel:///warmline/0", "no sentinel HOST:PORT"),
    ("redis+sentinel://a:26379/warmline", "/SERVICE/DB"),
    ("redis+sentinel://a:26379/warmline/zero", "DB must be a number"),
    ("redis+sentinel://a:26379,b/warmline/0", "HOST:PORT for each sentinel"),
    ("redis+sentinel://a:99999/warmline/0", "HOST:PORT for each sentinel"),
    ("redis+sentinel://a:26379//0", "/SERVICE/DB"),
])
def test_a_malformed_sentinel_url_is_refused_with_the_reason(tmp_path: Path, url: str,
                                                            why: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({"WARMLINE_INSTANCE_DIR": str(tmp_path), "REDIS_URL": url})
    message = str(caught.value)
    assert "REDIS_URL: " in message and why in message
    assert "HOST:PORT[,HOST:PORT...]/SERVICE/DB" in message  # the form it expects


def test_rq_may_have_a_redis_of_its_own(tmp_path: Path) -> None:
    env = {"WARMLINE_INSTANCE_DIR": str(tmp_path), "REDIS_URL": "redis://routing:6379/0"}
    assert load_settings(env).jobs_redis_url == "redis://routing:6379/0"
    env["RQ_REDIS_URL"] = "redis://jobs:6379/1"
    assert load_settings(env).jobs_redis_url == "redis://jobs:6379/1"
    env["RQ_REDIS_URL"] = "http://jobs"
    with pytest.raises(ConfigError, match="RQ_REDIS_URL: expected a URL starting with redis://"):
        load_settings(env)


def test_the_sql_pool_follows_the_web_threads_and_both_limits_are_checked(tmp_path: Path) -> None:
    env = {"WARMLINE_INSTANCE_DIR": str(tmp_path)}
    settings = load_settings(env)
    assert (settings.web_threads, settings.db_pool_size, settings.db_statement_timeout_ms) \
        == (8, 8, 5000)
    assert (load_settings({**env, "WEB_THREADS": "32"}).db_pool_size) == 32
    assert load_settings({**env, "WEB_THREADS": "32", "WARMLINE_DB_POOL_SIZE": "40"}).db_pool_size == 40
    assert load_settings({**env, "WARMLINE_DB_STATEMENT_TIMEOUT_MS": "30000"}) \
        .db_statement_timeout_ms == 30000
    with pytest.raises(ConfigError) as caught:
        load_settings({**env, "WARMLINE_DB_POOL_SIZE": "0", "WARMLINE_DB_STATEMENT_TIMEOUT_MS": "x"})
    assert "WARMLINE_DB_POOL_SIZE: expected a whole number from 1 to 200" in str(caught.value)
    assert "WARMLINE_DB_STATEMENT_TIMEOUT_MS: expected a whole number" in str(caught.value)
    with pytest.raises(ConfigError, match="WEB_THREADS: expected a whole number from 1 to 200"):
        load_settings({**env, "WEB_THREADS": "0", "WARMLINE_DB_POOL_SIZE": "4"})


def test_the_web_threads_default_is_the_procfiles() -> None:
    """gunicorn reads WEB_THREADS from the Procfile, the app from the environment: one default."""
    for name in ("Procfile", "Procfile.dev"):
        web = next(line for line in (REPO / name).read_text().splitlines() if line.startswith("web:"))
        threads = re.search(r"--threads (?:\$\{WEB_THREADS:-(\d+)\}|(\d+))", web)
        assert threads is not None, name
        assert int(threads.group(1) or threads.group(2)) == DEFAULT_WEB_THREADS, name


def test_chat_long_polls_take_at_most_half_the_threads() -> None:
    from warmline.web.chat import long_polls_per_process

    assert long_polls_per_process(DEFAULT_WEB_THREADS) == 4
    assert long_polls_per_process(3) == 1
    assert long_polls_per_process(1) == 0  # one thread: never held by a chat
