"""A virtual run recorded into the event log gives `plan` a history: the rates it reads back are
the rates the run played."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.support.services import TEST_REDIS_URL
from warmline.models import Line
from warmline.planning.history import read_history
from warmline.roster.importer import import_roster_text
from warmline.runtime import Runtime
from warmline.simulate.__main__ import main
from warmline.simulate.scenario import default_roster


def test_recorded_days_are_read_back_as_the_lines_history(
        runtime: Runtime, monkeypatch: pytest.MonkeyPatch, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    roster = tmp_path / "roster.yaml"
    roster.write_text(default_roster(4))
    with runtime.sessions.begin() as session:
        import_roster_text(session, runtime.keys, roster.read_text(), prune=True)
    settings = runtime.settings
    for name, value in {"DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url,
                        "WARMLINE_INSTANCE_DIR": settings.instance_dir}.items():
        monkeypatch.setenv(name, str(value))
    assert main(["--virtual", "--roster", str(roster), "--shift-minutes", str(2 * 24 * 60),
                 "--calls-per-hour", "3", "--texts-per-hour", "1", "--record-history",
                 "--plot", "-", "--redis-url", TEST_REDIS_URL, "--seed", "2"]) == 0
    out = capsys.readouterr()
    assert "recorded" in out.err
    offered = int(out.out.split("contacts offered (calls + texts)")[1].split()[0])
    with runtime.sessions() as session:
        line = session.query(Line).one()
        history = read_history(session, line, datetime.now(UTC), weeks=2)
    assert sum(history.offered.values()) == offered
    # Two days: each hour of the week happened at most once, so the rates add up to the calls.
    assert sum(history.rate(hour, "voice") for hour in range(168)) == history.offered["voice"]
    assert 100 < history.offered["voice"] < 190  # 3 an hour for 48 hours
    assert history.talk_seconds["voice"] is not None and 6 * 60 < history.talk_seconds["voice"] < 10 * 60
