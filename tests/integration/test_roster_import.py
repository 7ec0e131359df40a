"""Roster import and export on real PostgreSQL (and once on SQLite): round trip, upsert, shifts, prune."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.support.roster import EXAMPLE, dump_tables, import_text, normalised
from tests.support.services import make_test_settings
from warmline.migrations.runner import upgrade_database
from warmline.models import Experience, Line, Peer, Shift, User
from warmline.roster.exporter import dump_roster, export_roster
from warmline.roster.schema import (
    LINE_COLUMNS,
    LINE_CONVERTED_FIELDS,
    InvalidRosterError,
    RosterLine,
)
from warmline.roster.validate import parse_roster
from warmline.runtime import Runtime, build_runtime

SECOND_LINE = """
  - number: "+13125550100"
    name: "Peer Warmline Chicago"
    timezone: "America/Chicago"
"""


def export_text(runtime: Runtime) -> str:
    with runtime.sessions() as session:
        return dump_roster(export_roster(session, runtime.keys))


def with_second_line(roster_text: str) -> str:
    return roster_text.replace("\nexperiences:", SECOND_LINE + "\nexperiences:", 1)


def test_every_roster_line_field_is_a_line_column_once() -> None:
    fields = [f.name for f in dataclasses.fields(RosterLine)]
    assert sorted(LINE_COLUMNS + LINE_CONVERTED_FIELDS) == sorted(fields)
    assert all(column in Line.__table__.columns for column in fields)


def test_import_then_export_round_trips(runtime: Runtime) -> None:
    report = import_text(runtime, EXAMPLE)
    assert (report.lines.created, report.experiences.created, report.peers.created) == (1, 5, 3)
    assert (report.users_created, report.shifts_added) == (3, 3)

    exported = export_text(runtime)
    assert normalised(parse_roster(exported)) == normalised(parse_roster(EXAMPLE))
    with runtime.sessions() as session:  # `mentor: true` (Lee) is kept, and only there
        assert set(session.scalars(select(Peer.email).where(Peer.mentor.is_(True)))) == {
            "lee@example.org"}
    assert exported.count("mentor: true") == 1

    before = dump_tables(runtime.engine, skip=("audit_entries",))
    again = import_text(runtime, exported)
    assert not again.changed
    assert again.shifts_kept == 3
    assert dump_tables(runtime.engine, skip=("audit_entries",)) == before
    assert export_text(runtime) == exported


def test_export_writes_every_default_explicitly(runtime: Runtime) -> None:
    import_text(runtime, EXAMPLE)
    exported = export_text(runtime)
    ana = exported[exported.index("email: ana@example.org"):]
    assert "max_texts: 2" in ana.split("- email:")[0]  # the default, written out
    assert "active: false" in exported  # grief
    assert exported.index("number:") < exported.index("timezone:") < exported.index("greeting:")


def test_second_import_with_a_changed_name_updates_not_duplicates(runtime: Runtime) -> None:
    import_text(runtime, EXAMPLE)
    report = import_text(runtime, EXAMPLE.replace('name: "Sam"', 'name: "Samira"'))
    assert (report.peers.created, report.peers.updated, report.peers.unchanged) == (0, 1, 2)
    assert not report.lines.updated and not report.experiences.updated
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Peer)) == 3
        assert session.scalar(select(func.count()).select_from(User)) == 3
        sam = session.scalars(select(Peer).where(Peer.email == "sam@example.org")).one()
        assert sam.name == "Samira"


def test_user_keeps_its_password_and_follows_the_role(runtime: Runtime) -> None:
    import_text(runtime, EXAMPLE)
    with runtime.sessions.begin() as session:
        session.scalars(select(User).where(User.email == "sam@example.org")).one().password_hash = "x"
    import_text(runtime, EXAMPLE.replace("role: peer", "role: admin", 1))  # Sam is first
    with runtime.sessions() as session:
        sam = session.scalars(select(User).where(User.email == "sam@example.org")).one()
        assert (sam.password_hash, sam.role, sam.peer is not None) == ("x", "admin", True)


def test_a_lines_shifts_are_replaced_exactly_and_other_lines_untouched(runtime: Runtime) -> None:
    first = with_second_line(EXAMPLE) + """  - peer: ana@example.org
    line: "+13125550100"
    start: "2026-12-02 08:00"
    end: "12:00"
    repeat: "FREQ=WEEKLY;BYDAY=WE"
"""
    import_text(runtime, first)
    with runtime.sessions() as session:
        chicago_before = [(s.id, s.peer_id, s.start_local) for s in session.scalars(
            select(Shift).join(Line).where(Line.number == "+13125550100"))]
        kept_id = session.scalars(select(Shift).join(Line).where(
            Line.number == "+12125550100", Shift.rrule == "FREQ=DAILY")).one().id
    assert len(chicago_before) == 1

    # The second file names only the NYC line: Sam's and Lee's shifts go, Ana's daily stays,
    # one new shift comes.
    nyc_only = EXAMPLE[: EXAMPLE.index("shifts:")] + """shifts:
  - peer: ana@example.org
    line: "+12125550100"
    start: "2026-12-01 18:00"
    end: "01:00"
    repeat: "FREQ=DAILY"
  - peer: sam@example.org
    line: "+12125550100"
    start: "2026-12-05 10:00"
    end: "10:00"
"""
    report = import_text(runtime, nyc_only)
    assert (report.shifts_added, report.shifts_removed, report.shifts_kept) == (1, 2, 1)
    with runtime.sessions() as session:
        nyc = session.scalars(select(Shift).join(Line).where(Line.number == "+12125550100")).all()
        assert sorted((s.peer.email, s.start_local.isoformat(), s.end_local.isoformat(), s.rrule)
                      for s in nyc) == [
            ("ana@example.org", "2026-12-01T18:00:00", "01:00:00", "FREQ=DAILY"),
            ("sam@example.org", "2026-12-05T10:00:00", "10:00:00", None),  # 24 hours
        ]
        assert kept_id in {s.id for s in nyc}
        chicago_after = [(s.id, s.peer_id, s.start_local) for s in session.scalars(
            select(Shift).join(Line).where(Line.number == "+13125550100"))]
    assert chicago_after == chicago_before


def test_prune_deactivates_and_never_deletes(runtime: Runtime) -> None:
    extra_peer = """  - email: kim@example.org
    name: "Kim"
    phone: "+12125550104"
    experiences: [veteran]
"""
    bigger = with_second_line(EXAMPLE).replace("\nshifts:", "\n" + extra_peer + "\nshifts:", 1)
    bigger = bigger.replace("\npeers:", '\n  - {key: caregiver, label: "Caregiver", digit: 6,'
                            " keyword: CARER}\n\npeers:", 1)
    import_text(runtime, bigger)

    without_prune = import_text(runtime, EXAMPLE)
    assert not without_prune.changed
    report = import_text(runtime, EXAMPLE, prune=True)
    assert (report.lines.deactivated, report.experiences.deactivated, report.peers.deactivated) == (1, 1, 1)
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Line)) == 2
        assert session.scalar(select(func.count()).select_from(Experience)) == 6
        assert session.scalar(select(func.count()).select_from(Peer)) == 3 + 1
        chicago = session.scalars(select(Line).where(Line.number == "+13125550100")).one()
        kim = session.scalars(select(Peer).where(Peer.email == "kim@example.org")).one()
        kim_user = session.scalars(select(User).where(User.email == "kim@example.org")).one()
        carer = session.scalars(select(Experience).where(Experience.key == "caregiver")).one()
        assert not chicago.active and not kim.active and not kim_user.active and not carer.active
        sam = session.scalars(select(Peer).where(Peer.email == "sam@example.org")).one()
        assert sam.active

    # Pruned rows stay in the export (inactive), and that export imports back unchanged.
    assert not import_text(runtime, export_text(runtime)).changed


def test_peers_may_swap_phones(runtime: Runtime) -> None:
    import_text(runtime, EXAMPLE)
    swapped = (EXAMPLE.replace('"+12125550101"', "SAM").replace('"+12125550102"', '"+12125550101"')
               .replace("SAM", '"+12125550102"'))
    report = import_text(runtime, swapped)
    assert report.peers.updated == 2
    with runtime.sessions() as session:
        sam = session.scalars(select(Peer).where(Peer.email == "sam@example.org")).one()
        assert runtime.keys.decrypt(sam.phone_encrypted) == "+12125550102"
        assert sam.phone_hash == runtime.keys.keyed_hash("+12125550102")


def test_references_resolve_to_the_database_and_conflicts_are_found(runtime: Runtime) -> None:
    import_text(runtime, EXAMPLE)
    # A file of one new peer may name an experience and its shifts a peer that only the
    # database holds; a phone another peer has in the database is refused.
    only_peer = """version: 1
lines:
  - {number: "+12125550100", name: "Peer Warmline NYC", timezone: "America/New_York"}
peers:
  - {email: kim@example.org, name: "Kim", phone: "+12125550104", experiences: [veteran]}
  - {email: jo@example.org, name: "Jo", phone: "+12125550101"}
shifts:
  - {peer: lee@example.org, line: "+12125550100", start: "2026-12-01 09:00", end: "17:00"}
experiences:
  - {key: navy, label: "Navy", digit: 4, keyword: VETERAN}
"""
    with pytest.raises(InvalidRosterError) as caught:
        import_text(runtime, only_peer)
    assert [str(e) for e in caught.value.errors] == [
        "experiences[0].digit: 4 is already used by experience 'veteran' in the database"
        " (deactivate it, or import with --prune)",
        "experiences[0].keyword: VETERAN is already used by experience 'veteran' in the database"
        " (deactivate it, or import with --prune)",
        "peers[1].phone: already the phone of sam@example.org in the database",
    ]


def test_import_and_export_work_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'roster.db'}"
    upgrade_database(url)
    runtime = build_runtime(make_test_settings(url, tmp_path))
    try:
        import_text(runtime, EXAMPLE)
        exported = export_text(runtime)
        assert normalised(parse_roster(exported)) == normalised(parse_roster(EXAMPLE))
        before = dump_tables(runtime.engine, skip=("audit_entries",))
        assert not import_text(runtime, exported).changed
        assert dump_tables(runtime.engine, skip=("audit_entries",)) == before
    finally:
        runtime.close()
