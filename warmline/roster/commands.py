"""`python -m warmline roster import FILE [--prune]` and `roster export [FILE]`."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from warmline.crypto import DecryptionError
from warmline.roster.exporter import dump_roster, export_roster
from warmline.roster.importer import CLI_ACTOR, import_roster_text
from warmline.roster.schema import InvalidRosterError, Roster
from warmline.runtime import Runtime


def _fail(message: str) -> int:
    print(message, file=sys.stderr)
    return 1


def import_roster_command(runtime: Runtime, path: str, *, prune: bool = False) -> int:
    """Import a roster file, all or nothing; print every error with its path, or a summary."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return _fail(f"{path}: cannot read the file ({exc}), nothing was changed")
    try:
        with runtime.sessions.begin() as session:
            report = import_roster_text(
                session, runtime.keys, text, prune=prune, actor=CLI_ACTOR, source=path
            )
    except InvalidRosterError as exc:
        count = len(exc.errors)
        lines = [f"{path}: {count} error{'s' if count != 1 else ''}, nothing was changed"]
        lines += [f"  {error}" for error in exc.errors]
        return _fail("\n".join(lines))
    except SQLAlchemyError as exc:
        # A constraint the validator could not foresee (e.g. a concurrent edit): rolled back.
        reason = getattr(exc, "orig", None) or exc
        return _fail(f"{path}: the database refused the import, nothing was changed ({reason})")
    print(f"{path}: imported{' (with --prune)' if prune else ''}. {report.summary()}")
    return 0


def export_roster_command(runtime: Runtime, path: str | None) -> int:
    """Write the roster to ``path`` (atomically) or to stdout."""
    try:
        with runtime.sessions() as session:
            roster = export_roster(session, runtime.keys)
    except DecryptionError:
        return _fail("cannot decrypt the peers' phones: is WARMLINE_DATA_KEY the one they were saved with?")
    text = dump_roster(roster)
    if path is None:
        sys.stdout.write(text)
        return 0
    target = Path(path)
    try:
        _write_private(target, text)
    except OSError as exc:
        return _fail(f"{path}: cannot write the file ({exc})")
    print(f"{path}: {_counts(roster)}")
    return 0


def _write_private(target: Path, text: str) -> None:
    # The file holds peers' phones in clear: readable by its owner only, and never half-written.
    handle, temp = tempfile.mkstemp(dir=target.parent or Path("."), prefix=f".{target.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _counts(roster: Roster) -> str:
    return (
        f"{len(roster.lines)} lines, {len(roster.experiences)} experiences,"
        f" {len(roster.peers)} peers, {len(roster.shifts)} shifts"
    )
