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
