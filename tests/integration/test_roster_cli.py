"""`python -m warmline roster import|export` through a real subprocess, on real PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from config import Settings
from tests.support.roster import EXAMPLE, dump_tables, normalised, warmline
from warmline.roster.validate import parse_roster
from warmline.runtime import Runtime

BROKEN = {
    'phone: "+12125550102"': ('phone: "+1212555"', "peers[1].phone: not a valid phone number"),
    "experiences: [survivor, grief]": (
        "experiences: [survivor, astronaut]", "peers[1].experiences[1]: unknown experience 'astronaut'"
    ),
    'repeat: "FREQ=DAILY"': ('repeat: "FREQ=DAILY;DTSTART=20260101"', "shifts[1].repeat: DTSTART"),
    "digit: 4": ("digit: 2", "experiences[3].digit: 2 is already used by experiences[1]"),
    "    callbacks: true": ("    callbacks: true\n    bogus: 1", "lines[0].bogus: unknown key"),
    'timezone: "America/New_York"': (
        'timezone: "Mars/Olympus"', "lines[0].timezone: unknown time zone 'Mars/Olympus'"
    ),
}


def test_broken_copy_exits_non_zero_names_each_path_and_changes_nothing(
    runtime: Runtime, settings: Settings, tmp_path: Path
) -> None:
    good = tmp_path / "roster.yaml"
    good.write_text(EXAMPLE)
    assert warmline(settings, "roster", "import", str(good)).returncode == 0

    broken_text = EXAMPLE
    for original, (replacement, _) in BROKEN.items():
        assert original in broken_text
        broken_text = broken_text.replace(original, replacement, 1)
    broken = tmp_path / "broken.yaml"
    broken.write_text(broken_text)

    before = dump_tables(runtime.engine)  # audit trail included: nothing at all is written
    result = warmline(settings, "roster", "import", str(broken), "--prune")
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == f"{broken}: {len(BROKEN)} errors, nothing was changed"
    for _, expected in BROKEN.values():
        assert any(expected in line for line in lines[1:]), (expected, result.stderr)
    assert len(lines) == 1 + len(BROKEN)
    assert dump_tables(runtime.engine) == before


def test_yaml_syntax_error_is_reported_with_line_and_column(
    runtime: Runtime, settings: Settings, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nlines:\n  - {number: '+12125550100'\n")
    result = warmline(settings, "roster", "import", str(bad))
    assert result.returncode == 1
    assert result.stderr.splitlines()[0] == f"{bad}: 1 error, nothing was changed"
    assert "line 4, column 1" in result.stderr


def test_import_then_export_to_stdout_and_to_a_file(
    runtime: Runtime, settings: Settings, tmp_path: Path
) -> None:
    source = tmp_path / "roster.yaml"
    source.write_text(EXAMPLE)
    imported = warmline(settings, "roster", "import", str(source))
    assert imported.returncode == 0, imported.stderr
    assert "lines: 1 created" in imported.stdout

    exported = warmline(settings, "roster", "export")
    assert exported.returncode == 0, exported.stderr
    assert normalised(parse_roster(exported.stdout)) == normalised(parse_roster(EXAMPLE))

    target = tmp_path / "out.yaml"
    written = warmline(settings, "roster", "export", str(target))
    assert written.returncode == 0
    assert target.read_text() == exported.stdout
    assert target.stat().st_mode & 0o077 == 0  # phones in clear: owner only

    again = warmline(settings, "roster", "import", str(target))
    assert again.returncode == 0
    assert "lines: unchanged; experiences: unchanged; peers: unchanged" in again.stdout


def test_missing_file_is_a_clear_error(runtime: Runtime, settings: Settings, tmp_path: Path) -> None:
    result = warmline(settings, "roster", "import", str(tmp_path / "nope.yaml"))
    assert result.returncode == 1
    assert "cannot read the file" in result.stderr
