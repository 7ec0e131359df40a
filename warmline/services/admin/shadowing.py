"""Shadowing sessions as the admin sets them (DESIGN step 9): a new peer paired with a mentor for
one occurrence of the peer's shift. The mentor must be a mentor (roster `mentor: true`), active,
and on shift on the same line during that occurrence; nothing is written when any check fails."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from warmline.domain.numbers import parse_id
from warmline.domain.schedule import list_shift_occurrences
from warmline.models import Peer, ShadowSession, Shift
from warmline.runtime import Runtime
from warmline.services.admin.audit import Actor, record_change
from warmline.services.admin.forms import FORM_ERROR, FormErrors, FormValues
from warmline.services.schedules import shift_rule
from warmline.wording import N_


@dataclass(frozen=True)
class ShadowPage:
    """The occurrence being paired, who may shadow it and who does."""

    shift_id: int
    line_id: int
    line_name: str
    peer_name: str
    day: date
    start_label: str
    end_label: str
    mentors: list[tuple[int, str]]  # active mentors other than the peer
    mentor_id: int | None  # the one paired now, if any


def _occurrence(shift: Shift, day: date) -> tuple[datetime, datetime] | None:
    """The shift's occurrence starting on the local `day` (None when it has none, or skips it)."""
    zone = ZoneInfo(shift.line.timezone)
    start = datetime.combine(day, datetime.min.time(), zone)
    for found in list_shift_occurrences(shift_rule(shift), zone, start, start + timedelta(days=1)):
        if found.start.astimezone(zone).date() == day:
            return found.start, found.end
    return None


def _on_shift_during(session: Session, peer_id: int, line_id: int, start: datetime,
                     end: datetime) -> bool:
    """Whether any shift of the peer on the line overlaps [start, end)."""
    for shift in session.scalars(select(Shift).where(Shift.peer_id == peer_id,
                                                     Shift.line_id == line_id)):
        zone = ZoneInfo(shift.line.timezone)
        rule = shift_rule(shift)
        if any(o.start < end and o.end > start for o in
               list_shift_occurrences(rule, zone, start - timedelta(days=1), end)):
            return True
    return False


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def shadow_page(runtime: Runtime, shift_id: int, day_text: str) -> ShadowPage | None:
    """The page for pairing one occurrence; None when the shift or the date is not there."""
    day = _day(day_text)
    with runtime.sessions() as session:
        shift = session.get(Shift, shift_id)
        when = _occurrence(shift, day) if shift is not None and day is not None else None
        if shift is None or day is None or when is None:
            return None
        zone = ZoneInfo(shift.line.timezone)
        start, end = when
        mentors = [(p.id, p.name) for p in session.scalars(
            select(Peer).where(Peer.mentor.is_(True), Peer.active.is_(True),
                               Peer.id != shift.peer_id).order_by(Peer.name))]
        paired = session.scalars(select(ShadowSession.mentor_id).where(
            ShadowSession.shift_id == shift_id,
            ShadowSession.occurrence_date == day.isoformat())).first()
        return ShadowPage(shift.id, shift.line_id, shift.line.name, shift.peer.name, day,
                          f"{start.astimezone(zone):%H:%M}", f"{end.astimezone(zone):%H:%M}",
                          mentors, paired)


def pair(runtime: Runtime, actor: Actor, shift_id: int, form: FormValues,
         now: datetime) -> FormErrors:
    """Pair (or re-pair) the occurrence on `form['date']` with `form['mentor']`."""
    errors = FormErrors()
    day = _day(form.get("date"))
    mentor_id = parse_id(form.get("mentor"))
    with runtime.sessions.begin() as session:
        shift = session.get(Shift, shift_id)
        if shift is None:
            errors.add(FORM_ERROR, N_("This shift no longer exists."))
            return errors
        when = _occurrence(shift, day) if day is not None else None
        if when is None:
            errors.add("date", N_("This shift does not happen on that date (or it is skipped)."))
        mentor = session.get(Peer, mentor_id) if mentor_id is not None else None
        if mentor is None:
            errors.add("mentor", N_("Choose a mentor."))
        elif not mentor.mentor:
            errors.add("mentor", N_("%(name)s is not a mentor (roster `mentor: true`).",
                                    name=mentor.name))
        elif not mentor.active:
            errors.add("mentor", N_("%(name)s is deactivated.", name=mentor.name))
        elif mentor.id == shift.peer_id:
            errors.add("mentor", N_("A peer cannot shadow themselves."))
        elif when is not None and not _on_shift_during(session, mentor.id, shift.line_id, *when):
            errors.add("mentor", N_("%(name)s is not on shift on this line during this shift.",
                                    name=mentor.name))
        if errors or when is None or mentor is None or day is None:
            return errors
        row = session.scalars(select(ShadowSession).where(
            ShadowSession.shift_id == shift.id,
            ShadowSession.occurrence_date == day.isoformat())).first()
        if row is None:
            row = ShadowSession(shift_id=shift.id, occurrence_date=day.isoformat(),
                                line_id=shift.line_id, peer_id=shift.peer_id, created_at=now,
                                mentor_id=mentor.id, starts_at=when[0], ends_at=when[1])
            session.add(row)
        row.mentor_id, row.starts_at, row.ends_at = mentor.id, when[0], when[1]
        record_change(session, actor, "shift.shadow",
                      f"shift of {shift.peer.email} on line {shift.line.number}",
                      {"date": day.isoformat(), "mentor": mentor.email}, now)
    return errors


def unpair(runtime: Runtime, actor: Actor, shift_id: int, day_text: str, now: datetime) -> None:
    with runtime.sessions.begin() as session:
        row = session.scalars(select(ShadowSession).where(
            ShadowSession.shift_id == shift_id, ShadowSession.occurrence_date == day_text)).first()
        if row is None:
            return
        shift = session.get(Shift, shift_id)
        if shift is not None:
            record_change(session, actor, "shift.unshadow",
                          f"shift of {shift.peer.email} on line {shift.line.number}",
                          {"date": day_text}, now)
        session.delete(row)


def shadowed_dates(runtime: Runtime, line_id: int) -> dict[tuple[int, str], str]:
    """(shift id, ISO date) -> the mentor's name, for the roster week."""
    with runtime.sessions() as session:
        rows = session.execute(select(ShadowSession.shift_id, ShadowSession.occurrence_date,
                                      Peer.name).join(Peer, Peer.id == ShadowSession.mentor_id)
                               .where(ShadowSession.line_id == line_id)).all()
    return {(shift_id, day): name for shift_id, day, name in rows}
