"""Write a validated roster to SQL in one transaction: upserts by key, shifts replaced per line."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from warmline.clock import utc_now
from warmline.crypto import DataKeys
from warmline.models import AuditEntry, Experience, Line, Peer, Shift, User
from warmline.roster.schema import (
    LINE_COLUMNS,
    ExistingExperience,
    ExistingRows,
    Roster,
    RosterExperience,
    RosterLine,
    RosterPeer,
    RosterShift,
)
from warmline.roster.validate import parse_roster

CLI_ACTOR = "cli"
AUDIT_ACTION = "roster.import"


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deactivated: int = 0  # by --prune

    def __str__(self) -> str:
        parts = [f"{n} {w}" for n, w in ((self.created, "created"), (self.updated, "updated"),
                                         (self.deactivated, "deactivated")) if n]
        return ", ".join(parts) or "unchanged"


@dataclass
class ImportReport:
    lines: Counts = field(default_factory=Counts)
    experiences: Counts = field(default_factory=Counts)
    peers: Counts = field(default_factory=Counts)
    users_created: int = 0
    shifts_added: int = 0
    shifts_removed: int = 0
    shifts_kept: int = 0

    @property
    def changed(self) -> bool:
        return any((
            self.lines.created, self.lines.updated, self.lines.deactivated,
            self.experiences.created, self.experiences.updated, self.experiences.deactivated,
            self.peers.created, self.peers.updated, self.peers.deactivated,
            self.users_created, self.shifts_added, self.shifts_removed,
        ))

    def summary(self) -> str:
        return (
            f"lines: {self.lines}; experiences: {self.experiences}; peers: {self.peers};"
            f" shifts: {self.shifts_added} added, {self.shifts_removed} removed,"
            f" {self.shifts_kept} kept"
        )


def load_existing(session: Session) -> ExistingRows:
    """What the database holds that a roster file may refer to or collide with."""
    experiences = {
        row.key: ExistingExperience(row.digit, row.keyword, row.active)
        for row in session.scalars(select(Experience))
    }
    peers = session.execute(select(Peer.email, Peer.phone_hash)).all()
    return ExistingRows(
        line_numbers=frozenset(session.scalars(select(Line.number))),
        experiences=experiences,
        peer_emails=frozenset(email for email, _ in peers),
        peer_phone_hashes={phone_hash: email for email, phone_hash in peers},
    )


def import_roster_text(
    session: Session,
    keys: DataKeys,
    text: str,
    *,
    prune: bool = False,
    actor: str = CLI_ACTOR,
    user_id: int | None = None,
    source: str = "roster",
    now: datetime | None = None,
) -> ImportReport:
    """Validate ``text`` against the file format and the database, then write it.

    Raises InvalidRosterError before anything is written. The caller owns the transaction
    (``with runtime.sessions.begin() as session``), so a failure anywhere rolls all of it back.
    """
    roster = parse_roster(text, load_existing(session), phone_hash=keys.keyed_hash, prune=prune)
    report = apply_roster(session, keys, roster, prune=prune)
    session.add(AuditEntry(
        user_id=user_id,
        actor=actor,
        action=AUDIT_ACTION,
        target=source[:200],
        detail={"prune": prune, **asdict(report)},
        at=now or utc_now(),
    ))
    return report


def apply_roster(
    session: Session, keys: DataKeys, roster: Roster, *, prune: bool = False
) -> ImportReport:
    """Upsert a validated roster; see schema.py for the rules it keeps."""
    report = ImportReport()
    lines = _upsert_lines(session, roster.lines, report.lines)
    experiences = _upsert_experiences(session, roster.experiences, report.experiences)
    peers = _upsert_peers(session, keys, roster.peers, experiences, report)
    _replace_shifts(session, roster, lines, peers, report)
    if prune:
        _prune(session, roster, report)
    session.flush()
    return report


def _assign(row: Any, values: dict[str, Any]) -> bool:
    """Set the values that differ; True when any did (unchanged rows are not written at all)."""
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed


def _upsert(session: Session, row: Any, make: Any, values: dict[str, Any], counts: Counts) -> Any:
    if row is None:
        row = make(**values)
        session.add(row)
        counts.created += 1
    elif _assign(row, values):
        counts.updated += 1
    else:
        counts.unchanged += 1
    return row


def _hhmm(value: time) -> str:
    return value.strftime("%H:%M")


def line_values(line: RosterLine) -> dict[str, Any]:
    """A validated roster line as the Line row's column values (the admin forms use it too)."""
    return {
        **{column: getattr(line, column) for column in LINE_COLUMNS},
        "languages": list(line.languages),
        "hours": [
            {"days": list(o.days), "open": _hhmm(o.open), "close": _hhmm(o.close)}
            for o in line.hours
        ],
        "closed_dates": [d.isoformat() for d in line.closed_dates],
        "greeting": dict(line.greeting),
        "chat_origins": list(line.chat_origins),
        "resources": dict(line.resources),
    }


def _upsert_lines(
    session: Session, lines: tuple[RosterLine, ...], counts: Counts
) -> dict[str, Line]:
    rows = {row.number: row for row in session.scalars(select(Line))}
    for line in lines:
        rows[line.number] = _upsert(session, rows.get(line.number), Line, line_values(line), counts)
    session.flush()
    return rows


def _upsert_experiences(
    session: Session, experiences: tuple[RosterExperience, ...], counts: Counts
) -> dict[str, Experience]:
    rows = {row.key: row for row in session.scalars(select(Experience))}
    for item in experiences:
        values = {"key": item.key, "label": item.label, "labels": dict(item.labels),
                  "digit": item.digit, "keyword": item.keyword, "active": item.active}
        rows[item.key] = _upsert(session, rows.get(item.key), Experience, values, counts)
    session.flush()
    return rows


def _upsert_peers(
    session: Session,
    keys: DataKeys,
    peers: tuple[RosterPeer, ...],
    experiences: dict[str, Experience],
    report: ImportReport,
) -> dict[str, Peer]:
    rows = {row.email: row for row in session.scalars(select(Peer))}
    hashes = {peer.email: keys.keyed_hash(peer.phone) for peer in peers}
    # Two peers of the file may swap phones: free every changing hash first, so that the
    # unique index on phone_hash never sees the same hash twice mid-import.
    moving = [
        rows[p.email] for p in peers
        if p.email in rows and rows[p.email].phone_hash != hashes[p.email]
    ]
    for moved in moving:
        moved.phone_hash = f"moving:{moved.id}"
    if moving:
        session.flush()
    for peer in peers:
        existing = rows.get(peer.email)
        values: dict[str, Any] = {
            "email": peer.email, "name": peer.name, "languages": list(peer.languages),
            "channels": list(peer.channels), "max_texts": peer.max_texts, "role": peer.role,
            "active": peer.active, "mentor": peer.mentor, "phone_hash": hashes[peer.email],
        }
        # The ciphertext has a fresh nonce each time, so it is rewritten only with a new phone:
        # a re-import of the same file then leaves the row exactly as it was.
        if existing is None or existing.phone_hash != hashes[peer.email]:
            values["phone_encrypted"] = keys.encrypt(peer.phone)
        wanted = [experiences[key] for key in peer.experiences]
        if existing is None:
            rows[peer.email] = Peer(**values, experiences=wanted)
            session.add(rows[peer.email])
            report.peers.created += 1
            continue
        changed = _assign(existing, values)
        if {e.key for e in existing.experiences} != set(peer.experiences):
            existing.experiences = wanted
            changed = True
        if changed:
            report.peers.updated += 1
        else:
            report.peers.unchanged += 1
    session.flush()
    _upsert_users(session, peers, rows, report)
    return rows


def _upsert_users(
    session: Session, peers: tuple[RosterPeer, ...], rows: dict[str, Peer], report: ImportReport
) -> None:
    """Each peer signs in with their roster email; passwords are never touched here."""
    users = {user.email: user for user in session.scalars(select(User))}
    for peer in peers:
        values = {"email": peer.email, "role": peer.role, "peer_id": rows[peer.email].id,
                  "active": peer.active}
        user = users.get(peer.email)
        if user is None:
            session.add(User(**values))
            report.users_created += 1
        else:
            _assign(user, values)


ShiftKey = tuple[int, datetime, time, str | None, tuple[str, ...], str | None]


def _shift_key(shift: Shift) -> ShiftKey:
    return (shift.peer_id, shift.start_local, shift.end_local, shift.rrule,
            tuple(shift.skip_dates), shift.note)


def _wanted_key(shift: RosterShift, peers: dict[str, Peer]) -> ShiftKey:
    return (peers[shift.peer].id, shift.start, shift.end, shift.repeat,
            tuple(d.isoformat() for d in shift.skip), shift.note)


def _replace_shifts(
    session: Session,
    roster: Roster,
    lines: dict[str, Line],
    peers: dict[str, Peer],
    report: ImportReport,
) -> None:
    """Make each named line's shifts exactly the file's, keeping rows that already match."""
    for line in roster.lines:
        line_id = lines[line.number].id
        wanted = Counter(_wanted_key(s, peers) for s in roster.shifts if s.line == line.number)
        for row in session.scalars(select(Shift).where(Shift.line_id == line_id)):
            key = _shift_key(row)
            if wanted[key] > 0:
                wanted[key] -= 1
                report.shifts_kept += 1
            else:
                session.delete(row)
                report.shifts_removed += 1
        for shift in roster.shifts:
            key = _wanted_key(shift, peers)
            if shift.line == line.number and wanted[key] > 0:
                wanted[key] -= 1
                session.add(Shift(line_id=line_id, peer_id=key[0], start_local=shift.start,
                                  end_local=shift.end, rrule=shift.repeat,
                                  skip_dates=list(key[4]), note=shift.note))
                report.shifts_added += 1


def _prune(session: Session, roster: Roster, report: ImportReport) -> None:
    """Deactivate, never delete: contacts, reports and the audit trail still refer to them."""
    numbers = {line.number for line in roster.lines}
    for line in session.scalars(select(Line).where(Line.active.is_(True))):
        if line.number not in numbers:
            line.active = False
            report.lines.deactivated += 1
    keys = {item.key for item in roster.experiences}
    for experience in session.scalars(select(Experience).where(Experience.active.is_(True))):
        if experience.key not in keys:
            experience.active = False
            report.experiences.deactivated += 1
    emails = {peer.email for peer in roster.peers}
    pruned: list[int] = []
    for peer in session.scalars(select(Peer).where(Peer.active.is_(True))):
        if peer.email not in emails:
            peer.active = False
            pruned.append(peer.id)
            report.peers.deactivated += 1
    if pruned:
        for user in session.scalars(select(User).where(User.peer_id.in_(pruned))):
            user.active = False
