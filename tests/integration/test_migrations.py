"""Migrations run forwards and backwards on SQLite and PostgreSQL, and match the models."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from tests.support.services import throwaway_postgres_database
from warmline.db import make_engine
from warmline.migrations.runner import downgrade_database, upgrade_database
from warmline.models import Base


def _assert_schema_matches_models(url: str) -> None:
    engine = make_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == [], f"models and migrations disagree: {diff}"


def test_migrations_run_on_sqlite_in_wal_mode(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'w.db'}"
    upgrade_database(url)
    _assert_schema_matches_models(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
    engine.dispose()
    downgrade_database(url, "base")
    upgrade_database(url)


def test_migrations_run_up_and_down_on_postgresql() -> None:
    with throwaway_postgres_database("warmline_migrate") as url:
        upgrade_database(url)
        _assert_schema_matches_models(url)
        downgrade_database(url, "base")
        plain = create_engine(url)
        assert set(inspect(plain).get_table_names()) <= {"alembic_version"}
        plain.dispose()
        upgrade_database(url)


def test_existing_calendar_links_keep_working_once_tokens_are_hashed(tmp_path: Path) -> None:
    from sqlalchemy import text

    from warmline.services.peers.calendar import calendar_token_hash

    url = f"sqlite:///{tmp_path / 'w.db'}"
    upgrade_database(url, "0002")
    token = "x" * 43
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO peers (email, name, phone_encrypted, phone_hash, languages, channels,"
            " max_texts, role, active, calendar_token) VALUES ('robin@example.org', 'Robin',"
            " 'sealed', 'hash', '[\"en\"]', '[\"voice\"]', 2, 'peer', 1, :token)"), {"token": token})
    upgrade_database(url)
    with engine.connect() as conn:
        row = conn.execute(text("SELECT * FROM peers")).mappings().one()
    engine.dispose()
    assert "calendar_token" not in row and token not in str(dict(row))
    assert row["calendar_token_hash"] == calendar_token_hash(token)
    _assert_schema_matches_models(url)
    downgrade_database(url, "0002")


def _duplicate_voice_calls_keep_one_sid(url: str) -> None:
    """A call stored twice before migration 0015 (a retry after Redis came back empty) keeps
    its sid on its first contact only; a text's sid is no call's and is left alone."""
    from sqlalchemy import text

    upgrade_database(url, "0014")
    engine = make_engine(url)
    rows = [("first", "voice", "CA1", "2026-01-01 10:00:00"),
            ("retry", "voice", "CA1", "2026-01-01 10:00:02"),
            ("other", "voice", "CA2", "2026-01-01 10:00:00"),
            ("text1", "sms", "SM1", "2026-01-01 10:00:00"),
            ("text2", "sms", "SM1", "2026-01-01 10:00:00")]
    with engine.begin() as conn:
        for contact_id, channel, sid, at in rows:
            conn.execute(text(
                "INSERT INTO contacts (id, channel, caller_hash, language, priority, any_peer,"
                " is_callback, provider_sid, arrived_at, risk_flagged) VALUES (:id, :channel,"
                " 'h', 'en', 0, false, false, :sid, :at, false)"),
                {"id": contact_id, "channel": channel, "sid": sid, "at": at})
    upgrade_database(url)
    with engine.connect() as conn:
        sids = {row[0]: row[1] for row in conn.execute(text("SELECT id, provider_sid FROM contacts"))}
    engine.dispose()
    assert sids == {"first": "CA1", "retry": None, "other": "CA2", "text1": "SM1",
                    "text2": "SM1"}
    _assert_schema_matches_models(url)


def test_a_call_stored_twice_keeps_one_sid_on_sqlite(tmp_path: Path) -> None:
    _duplicate_voice_calls_keep_one_sid(f"sqlite:///{tmp_path / 'w.db'}")


def test_a_call_stored_twice_keeps_one_sid_on_postgresql() -> None:
    with throwaway_postgres_database("warmline_migrate") as url:
        _duplicate_voice_calls_keep_one_sid(url)
