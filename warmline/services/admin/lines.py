"""Lines from the admin pages: the form's values, checked by the roster's own validator, then saved."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from warmline.domain.numbers import parse_whole_number
from warmline.models import Line
from warmline.roster.importer import line_values
from warmline.roster.schema import (
    DAYS,
    DEFAULT_TARGET_SHARE,
    LINE_INT_SETTINGS,
    TARGET_ANSWER_SECONDS,
    InvalidRosterError,
    RosterLine,
)
from warmline.roster.validate import validate_roster
from warmline.runtime import Runtime
from warmline.services.admin.audit import Actor, record_change
from warmline.services.admin.forms import (
    FormErrors,
    FormValues,
    blank_to_none,
    place_errors,
    whole_number,
    words,
)
from warmline.wording import N_

BLANK_HOUR_ROWS = 2
"""Empty opening rows under the filled ones, so an opening can be added without script."""

FLAGS = ("active", "callbacks", "share_peer_first_name", "calls_while_texting", "swap_approval",
         "survey")
# Per-language texts of a line, as `PREFIX-LANGUAGE` fields: the greeting, the resources.
TEXT_PREFIXES = ("greeting", "resources")
INT_FIELDS = tuple(spec.name for spec in LINE_INT_SETTINGS)
# The roster's service_target, as the staffing planner reads it; the share is typed as a percent.
TARGET_SECONDS_FIELD = "service_target-answer_within_seconds"
TARGET_SHARE_FIELD = "service_target-share"
# The roster's chat.origins, one per line or space-separated; empty: the line takes no chats.
CHAT_ORIGINS_FIELD = "chat-origins"
SIMPLE_FIELDS = ("number", "name", "timezone", "languages", "closed_dates", "crisis_number",
                 "backup_number", *INT_FIELDS, *FLAGS, TARGET_SECONDS_FIELD, TARGET_SHARE_FIELD,
                 CHAT_ORIGINS_FIELD)


@dataclass(frozen=True)
class SaveResult:
    """A saved row's id, or the errors to show at their fields."""

    row_id: int | None
    errors: FormErrors


def hour_rows(form: FormValues) -> int:
    count = form.get("hour_rows")
    rows = parse_whole_number(count, maximum=49)
    return BLANK_HOUR_ROWS if rows is None else rows


def greeting_languages(form: FormValues) -> list[str]:
    """A field for each of the line's languages, and for any greeting or resources already typed."""
    found = [lang for lang in words(form.get("languages")) if lang.isalpha()]
    for name in form.names():
        prefix, _, language = name.partition("-")
        if prefix in TEXT_PREFIXES and language not in found and form.get(name).strip():
            found.append(language)
    return found or ["en"]


def line_form(line: Line | None) -> FormValues:
    """The form's values for an existing line, or a new line's defaults."""
    form = FormValues()
    if line is None:
        form.set("languages", "en")
        form.set("timezone", "America/New_York")
        for spec in LINE_INT_SETTINGS:
            form.set(spec.name, str(spec.default))
        form.set("active", "1")
        form.set("callbacks", "1")
        form.set("hour_rows", str(BLANK_HOUR_ROWS))
        form.set(TARGET_SECONDS_FIELD, str(TARGET_ANSWER_SECONDS.default))
        form.set(TARGET_SHARE_FIELD, f"{DEFAULT_TARGET_SHARE * 100:g}")
        return form
    form.set("number", line.number)
    form.set("name", line.name)
    form.set("timezone", line.timezone)
    form.set("languages", " ".join(line.languages))
    for index, opening in enumerate(line.hours):
        form.set(f"hours-{index}-days", *opening["days"])
        form.set(f"hours-{index}-open", opening["open"])
        form.set(f"hours-{index}-close", opening["close"])
    form.set("hour_rows", str(len(line.hours) + BLANK_HOUR_ROWS))
    form.set("closed_dates", "\n".join(line.closed_dates))
    form.set("crisis_number", line.crisis_number or "")
    form.set("backup_number", line.backup_number or "")
    for name in INT_FIELDS:
        form.set(name, str(getattr(line, name)))
    for flag in FLAGS:
        if getattr(line, flag):
            form.set(flag, "1")
    for language, text in line.greeting.items():
        form.set(f"greeting-{language}", text)
    for language, text in line.resources.items():
        form.set(f"resources-{language}", text)
    form.set(TARGET_SECONDS_FIELD, str(line.target_answer_seconds))
    form.set(TARGET_SHARE_FIELD, f"{line.target_share * 100:g}")
    form.set(CHAT_ORIGINS_FIELD, "\n".join(line.chat_origins))
    return form


def _percent_as_share(raw: str) -> object:
    """`80` or `80%` as 0.8 for the validator; anything else as typed, so its message says why."""
    cleaned = raw.strip().rstrip("%").strip()
    try:
        return float(cleaned) / 100
    except ValueError:
        return raw.strip() or None


def form_field_names(form: FormValues) -> list[str]:
    names = list(SIMPLE_FIELDS)
    for index in range(hour_rows(form)):
        names += [f"hours-{index}-days", f"hours-{index}-open", f"hours-{index}-close"]
    names += [f"{prefix}-{language}" for prefix in TEXT_PREFIXES
              for language in greeting_languages(form)]
    return names


def _roster_entry(form: FormValues) -> tuple[dict[str, Any], dict[str, str]]:
    """The form as a roster file's line entry, and how the entry's opening rows map to the form's."""
    entry: dict[str, Any] = {
        "number": form.get("number").strip(),
        "name": form.get("name"),
        "timezone": form.get("timezone").strip(),
        "languages": words(form.get("languages")),
        "closed_dates": words(form.get("closed_dates")),
    }
    for flag in FLAGS:
        entry[flag] = form.has(flag)
    for name in INT_FIELDS:
        entry[name] = whole_number(form.get(name))
    for name in ("crisis_number", "backup_number"):
        entry[name] = blank_to_none(form.get(name))
    hours: list[dict[str, Any]] = []
    rename: dict[str, str] = {}
    for index in range(hour_rows(form)):
        days = [d for d in form.getlist(f"hours-{index}-days") if d]
        opens, closes = form.get(f"hours-{index}-open").strip(), form.get(f"hours-{index}-close").strip()
        if not days and not opens and not closes:
            continue  # an untouched blank row
        rename[f"hours-{len(hours)}"] = f"hours-{index}"
        hours.append({"days": days, "open": opens or None, "close": closes or None})
    if hours:  # none at all: open 24/7, as in the file
        entry["hours"] = hours
    target = {"answer_within_seconds": whole_number(form.get(TARGET_SECONDS_FIELD)),
              "share": _percent_as_share(form.get(TARGET_SHARE_FIELD))}
    entry["service_target"] = {key: value for key, value in target.items() if value is not None}
    origins = words(form.get(CHAT_ORIGINS_FIELD))
    if origins:
        entry["chat"] = {"origins": origins}
    for prefix in TEXT_PREFIXES:
        texts = {lang: form.get(f"{prefix}-{lang}") for lang in greeting_languages(form)
                 if form.get(f"{prefix}-{lang}").strip()}
        if texts:
            entry[prefix] = texts
    return entry, rename


def check_line_form(form: FormValues) -> tuple[RosterLine | None, FormErrors]:
    """The roster's validator on the form; the same rules as `roster import`."""
    entry, rename = _roster_entry(form)
    errors = FormErrors()
    try:
        roster = validate_roster({"version": 1, "lines": [entry]})
    except InvalidRosterError as exc:
        place_errors(errors, exc.errors, "lines[0]", form_field_names(form), rename=rename)
        if TARGET_SHARE_FIELD in errors:
            # The file's share is a fraction; the form's is a percent: say it in the form's terms.
            errors.by_field[TARGET_SHARE_FIELD] = ["a percent above 0 and below 100, e.g. 80"]
        return None, errors
    return roster.lines[0], errors


def save_line(
    runtime: Runtime, actor: Actor, line_id: int | None, form: FormValues, now: datetime
) -> SaveResult:
    """Create (``line_id`` None) or update a line from the form; nothing is written on an error."""
    checked, errors = check_line_form(form)
    if checked is None:
        return SaveResult(None, errors)
    with runtime.sessions.begin() as session:
        row = session.get(Line, line_id) if line_id is not None else None
        if line_id is not None and row is None:
            errors.add("number", N_("This line no longer exists."))
            return SaveResult(None, errors)
        clash = session.scalars(select(Line).where(Line.number == checked.number)).first()
        if clash is not None and clash is not row:
            errors.add("number", N_("%(number)s is already the number of %(line)s", number=checked.number,
                                      line=clash.name))
            return SaveResult(None, errors)
        values = line_values(checked)
        if row is None:
            row = Line(**values)
            session.add(row)
            changed = sorted(values)
            action = "line.create"
        else:
            changed = [name for name, value in values.items() if getattr(row, name) != value]
            for name in changed:
                setattr(row, name, values[name])
            action = "line.update"
        session.flush()
        if changed:
            record_change(session, actor, action, f"line {checked.number}",
                          {"changed": changed}, now)
        return SaveResult(row.id, errors)


def list_lines(session: Session) -> Sequence[Line]:
    return session.scalars(select(Line).order_by(Line.active.desc(), Line.name)).all()


WEEKDAY_LABELS = dict(zip(DAYS, (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun")),
                          strict=True))
