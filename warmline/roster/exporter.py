"""Read the roster back out of SQL and write it in the file format, every setting explicit."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, time
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from warmline.crypto import DataKeys
from warmline.models import Experience, Line, Peer, Shift
from warmline.roster.schema import (
    LINE_COLUMNS,
    ROSTER_VERSION,
    Opening,
    Roster,
    RosterExperience,
    RosterLine,
    RosterPeer,
    RosterShift,
)

HEADER = (
    "# Warmline roster, exported by `python -m warmline roster export`.\n"
    "# Load it with `python -m warmline roster import FILE`. It holds peers' phone numbers in clear:\n"
    "# keep it as safe as the database itself.\n"
)


def _clock(text: str) -> time:
    return time.fromisoformat(text)


def read_roster(session: Session) -> Roster:
    """Everything in SQL that a roster file describes, inactive rows included."""
    experiences = list(session.scalars(select(Experience).order_by(Experience.digit, Experience.key)))
    order = {row.key: index for index, row in enumerate(experiences)}
    lines = session.scalars(select(Line).order_by(Line.id)).all()
    peers = session.scalars(select(Peer).order_by(Peer.id)).all()
    shifts = session.scalars(
        select(Shift).order_by(Shift.line_id, Shift.start_local, Shift.peer_id, Shift.id)
    ).all()
    return Roster(
        lines=tuple(_line(row) for row in lines),
        experiences=tuple(
            RosterExperience(row.key, row.label, row.digit, row.keyword, dict(row.labels), row.active)
            for row in experiences
        ),
        peers=tuple(
            RosterPeer(
                email=row.email,
                name=row.name,
                phone="",  # filled in by export_roster, which holds the key
                experiences=tuple(sorted((e.key for e in row.experiences), key=order.__getitem__)),
                languages=tuple(row.languages),
                channels=tuple(row.channels),
                max_texts=row.max_texts,
                role=row.role,
                active=row.active,
                mentor=row.mentor,
            )
            for row in peers
        ),
        shifts=tuple(
            RosterShift(
                peer=row.peer.email,
                line=row.line.number,
                start=row.start_local,
                end=row.end_local,
                repeat=row.rrule,
                skip=tuple(sorted(date.fromisoformat(d) for d in row.skip_dates)),
                note=row.note,
            )
            for row in shifts
        ),
    )


def export_roster(session: Session, keys: DataKeys) -> Roster:
    """The roster with peers' phones decrypted; raises DecryptionError under a wrong data key."""
    roster = read_roster(session)
    phones = {row.email: keys.decrypt(row.phone_encrypted) for row in session.scalars(select(Peer))}
    peers = tuple(
        RosterPeer(p.email, p.name, phones[p.email], p.experiences, p.languages, p.channels,
                   p.max_texts, p.role, p.active, p.mentor)
        for p in roster.peers
    )
    return Roster(lines=roster.lines, experiences=roster.experiences, peers=peers,
                  shifts=roster.shifts)


def _line(row: Line) -> RosterLine:
    return RosterLine(
        **{column: getattr(row, column) for column in LINE_COLUMNS},
        languages=tuple(row.languages),
        hours=tuple(
            Opening(tuple(o["days"]), _clock(o["open"]), _clock(o["close"])) for o in row.hours
        ),
        closed_dates=tuple(sorted(date.fromisoformat(d) for d in row.closed_dates)),
        greeting=dict(row.greeting),
        chat_origins=tuple(row.chat_origins),
        resources=dict(row.resources),
    )


# --------------------------------------------------------------------------- YAML


class _Flow(list[Any]):
    """A short list written on one line, as in the example file."""


class _FlowMap(dict[str, Any]):
    """A small mapping written on one line (an opening, an experience)."""


class _Quoted(str):
    """Text written in double quotes, as the example writes numbers, times and free text."""

    __slots__ = ()


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        # Indent list items under their key, as the example file does.
        super().increase_indent(flow, False)


_Dumper.add_representer(
    _Flow, lambda d, v: d.represent_sequence("tag:yaml.org,2002:seq", v, flow_style=True)
)
_Dumper.add_representer(
    _Quoted, lambda d, v: d.represent_scalar("tag:yaml.org,2002:str", str(v), style='"')
)
_Dumper.add_representer(
    _FlowMap, lambda d, v: d.represent_mapping("tag:yaml.org,2002:map", v.items(), flow_style=True)
)


def _hhmm(value: time) -> _Quoted:
    return _Quoted(value.strftime("%H:%M"))


def _texts(values: Mapping[str, str]) -> dict[str, _Quoted]:
    return {language: _Quoted(text) for language, text in values.items()}


def _line_dict(line: RosterLine) -> dict[str, Any]:
    data: dict[str, Any] = {
        "number": _Quoted(line.number),
        "name": _Quoted(line.name),
        "active": line.active,
        "timezone": _Quoted(line.timezone),
        "languages": _Flow(line.languages),
    }
    if line.hours:  # no hours key: open 24/7
        data["hours"] = [
            _FlowMap(days=_Flow(o.days), open=_hhmm(o.open), close=_hhmm(o.close))
            for o in line.hours
        ]
    data["closed_dates"] = _Flow(_Quoted(d.isoformat()) for d in line.closed_dates)
    if line.crisis_number:
        data["crisis_number"] = _Quoted(line.crisis_number)
    if line.backup_number:
        data["backup_number"] = _Quoted(line.backup_number)
    data |= {
        "max_wait_seconds": line.max_wait_seconds,
        "max_call_minutes": line.max_call_minutes,
        "daily_contact_limit": line.daily_contact_limit,
        "wrap_up_seconds": line.wrap_up_seconds,
        "callbacks": line.callbacks,
        "share_peer_first_name": line.share_peer_first_name,
        "calls_while_texting": line.calls_while_texting,
        "retention_days": line.retention_days,
    }
    if line.greeting:
        data["greeting"] = _texts(line.greeting)
    data["back_to_back_limit"] = line.back_to_back_limit
    data["service_target"] = _FlowMap(answer_within_seconds=line.target_answer_seconds,
                                      share=line.target_share)
    data["survey"] = line.survey
    if line.chat_origins:
        data["chat"] = {"origins": _Flow(_Quoted(o) for o in line.chat_origins)}
    if line.resources:
        data["resources"] = _texts(line.resources)
    data |= {
        "flood_caller_limit": line.flood_caller_limit,
        "flood_line_limit": line.flood_line_limit,
        "swap_approval": line.swap_approval,
    }
    return data


def _experience_dict(item: RosterExperience) -> dict[str, Any]:
    data = {"key": item.key, "label": _Quoted(item.label), "digit": item.digit,
            "keyword": item.keyword}
    if item.labels:  # too long for one line: written as a block
        return {**data, "labels": _texts(item.labels), "active": item.active}
    return _FlowMap(data, active=item.active)


def _peer_dict(peer: RosterPeer) -> dict[str, Any]:
    return {
        "email": peer.email,
        "name": _Quoted(peer.name),
        "phone": _Quoted(peer.phone),
        "experiences": _Flow(peer.experiences),
        "languages": _Flow(peer.languages),
        "channels": _Flow(peer.channels),
        "max_texts": peer.max_texts,
        "role": peer.role,
        "active": peer.active,
        **({"mentor": True} if peer.mentor else {}),
    }


def _shift_dict(shift: RosterShift) -> dict[str, Any]:
    data: dict[str, Any] = {
        "peer": shift.peer,
        "line": _Quoted(shift.line),
        "start": _Quoted(shift.start.strftime("%Y-%m-%d %H:%M")),
        "end": _hhmm(shift.end),
    }
    if shift.repeat:
        data["repeat"] = _Quoted(shift.repeat)
    if shift.skip:
        data["skip"] = _Flow(_Quoted(d.isoformat()) for d in shift.skip)
    if shift.note:
        data["note"] = _Quoted(shift.note)
    return data


def dump_roster(roster: Roster) -> str:
    """The roster file's text, keys in the example's order."""
    document = {
        "version": ROSTER_VERSION,
        "lines": [_line_dict(line) for line in roster.lines],
        "experiences": [_experience_dict(item) for item in roster.experiences],
        "peers": [_peer_dict(peer) for peer in roster.peers],
        "shifts": [_shift_dict(shift) for shift in roster.shifts],
    }
    body = yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=1000)
    return HEADER + body
