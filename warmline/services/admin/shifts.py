"""Shifts from the admin pages: recurring rules from simple controls, skips, one-off covers."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from warmline.domain.numbers import parse_id, parse_whole_number
from warmline.domain.schedule import list_shift_occurrences
from warmline.models import Line, Peer, Shift
from warmline.roster.importer import load_existing
from warmline.roster.schema import InvalidRosterError, RosterShift
from warmline.roster.validate import validate_roster
from warmline.runtime import Runtime
from warmline.services.admin.audit import Actor, record_change
from warmline.services.admin.forms import FormErrors, FormValues, place_errors, words
from warmline.services.schedules import shift_rule
from warmline.wording import N_, LocalMoment

RRULE_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
DAY_NAMES = dict(zip(RRULE_DAYS, (N_("Monday"), N_("Tuesday"), N_("Wednesday"), N_("Thursday"),
                                  N_("Friday"), N_("Saturday"), N_("Sunday")), strict=True))
NTH_CHOICES = (("1", N_("first")), ("2", N_("second")), ("3", N_("third")), ("4", N_("fourth")),
               ("-1", N_("last")))
REPEAT_CHOICES = (
    ("once", N_("Once (a one-off cover)")),
    ("weekly", N_("Weekly on chosen days")),
    ("monthly", N_("Monthly, on the first (second...) weekday")),
    ("daily", N_("Every day")),
    ("custom", N_("Custom RRULE (for experts)")),
)
FIELDS = ("peer", "start_date", "start_time", "end_time", "repeat", "weekly_days", "interval",
          "monthly_nth", "monthly_day", "until", "rrule", "skip_dates", "note")
# Where the validator's paths are shown on this form.
_ALIASES = {"start": "start_date", "end": "end_time", "skip": "skip_dates"}
_UNTIL_DATE = re.compile(r"\d{8}")


@dataclass(frozen=True)
class ShiftSave:
    shift_id: int | None
    errors: FormErrors


def rule_controls(rule: str | None) -> dict[str, list[str]]:
    """The simple controls that describe an RRULE, or the custom field when none can."""
    if rule is None:
        return {"repeat": ["once"]}
    parts = dict(part.split("=", 1) for part in rule.split(";") if "=" in part)
    freq = parts.pop("FREQ", "")
    interval = parts.pop("INTERVAL", "1")
    until = parts.pop("UNTIL", None)
    by_day = parts.pop("BYDAY", None)
    custom = {"repeat": ["custom"], "rrule": [rule]}
    bad_until = until is not None and not _UNTIL_DATE.fullmatch(until)
    if parts or bad_until or parse_whole_number(interval, maximum=999) is None:
        return custom
    found: dict[str, list[str]] = {"interval": [interval]}
    if until is not None:
        found["until"] = [f"{until[:4]}-{until[4:6]}-{until[6:]}"]
    days = by_day.split(",") if by_day else []
    if freq == "WEEKLY" and days and all(d in RRULE_DAYS for d in days):
        return {**found, "repeat": ["weekly"], "weekly_days": days}
    if freq == "DAILY" and not days:
        return {**found, "repeat": ["daily"]}
    nth = re.fullmatch(r"(-1|[1-4])(MO|TU|WE|TH|FR|SA|SU)", by_day or "")
    if freq == "MONTHLY" and nth and interval == "1":
        return {**found, "repeat": ["monthly"], "monthly_nth": [nth[1]], "monthly_day": [nth[2]]}
    return custom


def build_rule(form: FormValues, errors: FormErrors) -> str | None:
    """The RRULE the simple controls describe (the roster's validator checks it afterwards)."""
    repeat = form.get("repeat", "once")
    if repeat == "once":
        return None
    if repeat == "custom":
        raw = form.get("rrule").strip()
        if not raw:
            errors.add("rrule", N_("write an RRULE, e.g. FREQ=WEEKLY;BYDAY=TU,TH"))
        return raw or None
    interval = form.get("interval", "1").strip() or "1"
    if not (parse_whole_number(interval, maximum=52) or 0) >= 1:
        errors.add("interval", N_("every 1 to 52 (weeks or days)"))
        interval = "1"
    parts: list[str] = []
    if repeat == "weekly":
        days = [d for d in RRULE_DAYS if d in form.getlist("weekly_days")]
        if not days:
            errors.add("weekly_days", N_("choose at least one day"))
        parts = ["FREQ=WEEKLY", f"BYDAY={','.join(days or ['MO'])}"]
    elif repeat == "daily":
        parts = ["FREQ=DAILY"]
    elif repeat == "monthly":
        nth, day = form.get("monthly_nth", "1"), form.get("monthly_day", "MO")
        if nth not in {n for n, _ in NTH_CHOICES} or day not in RRULE_DAYS:
            errors.add("monthly_nth", N_("choose which weekday of the month"))
            nth, day = "1", "MO"
        parts = ["FREQ=MONTHLY", f"BYDAY={nth}{day}"]
    else:
        errors.add("repeat", N_("choose how the shift repeats"))
        return None
    if interval != "1" and repeat != "monthly":
        parts.append(f"INTERVAL={interval}")
    until = form.get("until").strip()
    if until:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", until):
            parts.append(f"UNTIL={until.replace('-', '')}")
        else:
            errors.add("until", N_("expected a date YYYY-MM-DD, got %(value)s", value=repr(until)))
    return ";".join(parts)


def shift_form(shift: Shift | None, defaults: dict[str, str] | None = None) -> FormValues:
    form = FormValues()
    form.set("repeat", "weekly")
    form.set("interval", "1")
    if shift is None:
        for name, value in (defaults or {}).items():
            form.set(name, value)
        return form
    form.set("peer", shift.peer.email)
    form.set("start_date", shift.start_local.strftime("%Y-%m-%d"))
    form.set("start_time", shift.start_local.strftime("%H:%M"))
    form.set("end_time", shift.end_local.strftime("%H:%M"))
    for name, values in rule_controls(shift.rrule).items():
        form.set(name, *values)
    form.set("skip_dates", "\n".join(sorted(shift.skip_dates)))
    form.set("note", shift.note or "")
    return form


def _entry(form: FormValues, line: Line, errors: FormErrors) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "peer": form.get("peer").strip().lower(),
        "line": line.number,
        "start": f"{form.get('start_date').strip()} {form.get('start_time').strip()}",
        "end": form.get("end_time").strip(),
    }
    rule = build_rule(form, errors)
    if rule is not None:
        entry["repeat"] = rule
    skips = words(form.get("skip_dates"))
    if skips:
        entry["skip"] = skips
    note = form.get("note").strip()
    if note:
        entry["note"] = note
    return entry


def check_shift_form(
    session: Session, line: Line, form: FormValues
) -> tuple[RosterShift | None, FormErrors]:
    """The roster's validator on the form (the same rules as `roster import`)."""
    errors = FormErrors()
    entry = _entry(form, line, errors)
    # The line is only there so the shift may name it; its settings are not being changed.
    document = {"version": 1, "lines": [{"number": line.number, "name": line.name,
                                         "timezone": line.timezone}], "shifts": [entry]}
    aliases = dict(_ALIASES)
    aliases["repeat"] = "rrule" if form.get("repeat") == "custom" else "repeat"
    if not form.get("start_date").strip():
        errors.add("start_date", N_("required"))
    if not form.get("start_time").strip():
        errors.add("start_time", N_("required"))
    try:
        roster = validate_roster(document, load_existing(session))
    except InvalidRosterError as exc:
        if errors.get("start_date") or errors.get("start_time"):
            exc.errors = [e for e in exc.errors if not e.path.endswith(".start")]
        place_errors(errors, exc.errors, "shifts[0]", FIELDS, aliases=aliases)
        return None, errors
    if errors:
        return None, errors
    return roster.shifts[0], errors


def _describe(shift: RosterShift) -> dict[str, Any]:
    return {"peer": shift.peer, "start": shift.start.strftime("%Y-%m-%d %H:%M"),
            "end": shift.end.strftime("%H:%M"), "repeat": shift.repeat or "once",
            "skip": [d.isoformat() for d in shift.skip]}


def save_shift(
    runtime: Runtime,
    actor: Actor,
    form: FormValues,
    *,
    line_id: int,
    shift_id: int | None,
    now: datetime,
) -> ShiftSave:
    """Create or edit a shift; with ``cover_shift``/``cover_date`` in the form, also skip that
    date of the covered series (a swap), in the same transaction."""
    with runtime.sessions.begin() as session:
        line = session.get(Line, line_id)
        if line is None:
            errors = FormErrors()
            errors.add("peer", N_("This line no longer exists."))
            return ShiftSave(None, errors)
        checked, errors = check_shift_form(session, line, form)
        row = session.get(Shift, shift_id) if shift_id is not None else None
        if shift_id is not None and (row is None or row.line_id != line_id):
            errors.add("peer", N_("This shift no longer exists."))
        if checked is None or errors:
            return ShiftSave(None, errors)
        peer = session.scalars(select(Peer).where(Peer.email == checked.peer)).one()
        values = {"peer_id": peer.id, "line_id": line.id, "start_local": checked.start,
                  "end_local": checked.end, "rrule": checked.repeat,
                  "skip_dates": [d.isoformat() for d in checked.skip], "note": checked.note}
        target = f"shift of {checked.peer} on line {line.number}"
        if row is None:
            row = Shift(**values)
            session.add(row)
            record_change(session, actor, "shift.create", target, _describe(checked), now)
        else:
            for name, value in values.items():
                setattr(row, name, value)
            record_change(session, actor, "shift.update", target, _describe(checked), now)
        covered = form.get("cover_shift")
        cover_date = form.get("cover_date")
        covered_id = parse_id(covered)
        if covered_id is not None and cover_date and form.has("skip_covered"):
            other = session.get(Shift, covered_id)
            if other is not None and other.line_id == line.id and other.rrule:
                _add_skip(session, actor, other, cover_date, now)
        session.flush()
        return ShiftSave(row.id, errors)


def _occurs_on(shift: Shift, day: date) -> bool:
    zone = ZoneInfo(shift.line.timezone)
    rule = shift_rule(shift)
    start = datetime.combine(day, datetime.min.time(), zone)
    end = datetime.combine(date.fromordinal(day.toordinal() + 1), datetime.min.time(), zone)
    unskipped = replace(rule, skip_dates=frozenset())
    return any(o.start.astimezone(zone).date() == day
               for o in list_shift_occurrences(unskipped, zone, start, end))


def _add_skip(session: Session, actor: Actor, shift: Shift, day_text: str, now: datetime) -> str | None:
    try:
        day = date.fromisoformat(day_text)
    except ValueError:
        return N_("Not a date: %(text)s.", text=repr(day_text))
    if not shift.rrule:
        return N_("Only a repeating shift has dates to skip; delete a one-off instead.")
    if not _occurs_on(shift, day):
        return N_("This shift does not happen on %(day)s.",
                  day=LocalMoment(datetime.combine(day, time(12)), "EEE d MMM"))
    if day.isoformat() in shift.skip_dates:
        return None
    shift.skip_dates = sorted([*shift.skip_dates, day.isoformat()])
    record_change(session, actor, "shift.skip", f"shift of {shift.peer.email} on line {shift.line.number}",
                  {"date": day.isoformat(), "start": shift.start_local.strftime("%Y-%m-%d %H:%M")}, now)
    return None


def skip_date(runtime: Runtime, actor: Actor, shift_id: int, day_text: str, now: datetime) -> str | None:
    """Skip one date of a series; an error message, or None when done."""
    with runtime.sessions.begin() as session:
        shift = session.get(Shift, shift_id)
        if shift is None:
            return N_("This shift no longer exists.")
        return _add_skip(session, actor, shift, day_text, now)


def restore_date(runtime: Runtime, actor: Actor, shift_id: int, day_text: str, now: datetime) -> None:
    with runtime.sessions.begin() as session:
        shift = session.get(Shift, shift_id)
        if shift is None or day_text not in shift.skip_dates:
            return
        shift.skip_dates = [d for d in shift.skip_dates if d != day_text]
        record_change(session, actor, "shift.restore",
                      f"shift of {shift.peer.email} on line {shift.line.number}", {"date": day_text}, now)


def delete_shift(runtime: Runtime, actor: Actor, shift_id: int, now: datetime) -> int | None:
    """Delete a shift; the line it was on, or None when there was none."""
    with runtime.sessions.begin() as session:
        shift = session.get(Shift, shift_id)
        if shift is None:
            return None
        line_id = shift.line_id
        record_change(session, actor, "shift.delete",
                      f"shift of {shift.peer.email} on line {shift.line.number}",
                      {"start": shift.start_local.strftime("%Y-%m-%d %H:%M"),
                       "end": shift.end_local.strftime("%H:%M"), "repeat": shift.rrule or "once"}, now)
        session.delete(shift)
        return line_id
