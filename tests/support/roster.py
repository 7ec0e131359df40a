"""Roster helpers: the example roster, importing text, every table's rows, validator errors, the CLI."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from config import Settings
from tests.support.paths import REPO_ROOT
from warmline.models import Base
from warmline.roster.importer import ImportReport, import_roster_text
from warmline.roster.schema import ExistingRows, InvalidRosterError, Roster
from warmline.roster.validate import parse_roster
from warmline.runtime import Runtime

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


EXAMPLE = (FIXTURES / "roster.example.yaml").read_text()


def import_text(runtime: Runtime, roster_text: str, *, prune: bool = False) -> ImportReport:
    with runtime.sessions.begin() as session:
        return import_roster_text(session, runtime.keys, roster_text, prune=prune)


def normalised(roster: Roster) -> dict[str, Any]:
    """A roster as plain data where order carries no meaning (peers' experiences, shifts)."""
    data = dataclasses.asdict(roster)
    for peer in data["peers"]:
        peer["experiences"] = sorted(peer["experiences"])
    data["shifts"] = sorted(data["shifts"], key=repr)
    return data


def dump_tables(engine: Engine, skip: tuple[str, ...] = ()) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in primary-key order: the database's whole state."""
    state = {}
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if table.name in skip:
                continue
            order = ", ".join(c.name for c in table.primary_key.columns)
            rows = conn.execute(text(f'SELECT * FROM "{table.name}" ORDER BY {order}'))
            state[table.name] = [tuple(row) for row in rows]
    return state


LINE = '{number: "+12125550100", name: "L", timezone: "UTC"}'


def errors(text: str, existing: ExistingRows | None = None) -> list[str]:
    with pytest.raises(InvalidRosterError) as caught:
        parse_roster(text, existing)
    return [str(error) for error in caught.value.errors]


def roster(*sections: str) -> str:
    return "version: 1\n" + "\n".join(sections) + "\n"


def cli_env(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "WARMLINE_ENV": "test",
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "TWILIO_ACCOUNT_SID": settings.twilio_account_sid,
        "TWILIO_AUTH_TOKEN": ",".join(settings.twilio_auth_tokens),
        "TWILIO_API_URL": settings.twilio_api_url,
        "WARMLINE_PUBLIC_URL": settings.public_url,
        "WARMLINE_SECRET_KEY": settings.secret_key,
        "WARMLINE_DATA_KEY": settings.data_key,
        "WARMLINE_INSTANCE_DIR": str(settings.instance_dir),
    })
    return env


def warmline(settings: Settings, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "warmline", *args],
        input=stdin, capture_output=True, text=True, cwd=REPO_ROOT, env=cli_env(settings),
        timeout=60, check=False,
    )
