"""Shared experiences from the admin page: all rows edited at once, so digits can swap in one save."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from warmline.domain.numbers import parse_id, parse_whole_number
from warmline.models import Experience
from warmline.roster.schema import InvalidRosterError, RosterExperience
from warmline.roster.validate import validate_roster
from warmline.runtime import Runtime
from warmline.services.admin.audit import Actor, record_change
from warmline.services.admin.forms import FORM_ERROR, FormErrors, FormValues, place_errors, whole_number
from warmline.wording import N_

NEW_ROWS = 1
ROW_FIELDS = ("key", "label", "digit", "keyword", "labels", "active")


@dataclass(frozen=True)
class ExperienceRow:
    index: int
    row_id: int | None  # None: a new experience


def list_experiences(session: Session) -> Sequence[Experience]:
    return session.scalars(select(Experience).order_by(Experience.active.desc(), Experience.digit,
                                                       Experience.key)).all()


def experiences_form(rows: Sequence[Experience]) -> FormValues:
    form = FormValues()
    for index, row in enumerate(rows):
        prefix = f"experiences-{index}"
        form.set(f"{prefix}-id", str(row.id))
        form.set(f"{prefix}-key", row.key)
        form.set(f"{prefix}-label", row.label)
        form.set(f"{prefix}-digit", str(row.digit))
        form.set(f"{prefix}-keyword", row.keyword)
        form.set(f"{prefix}-labels", "\n".join(f"{k}: {v}" for k, v in row.labels.items()))
        if row.active:
            form.set(f"{prefix}-active", "1")
    form.set("rows", str(len(rows) + NEW_ROWS))
    return form


def form_rows(form: FormValues) -> list[ExperienceRow]:
    count = form.get("rows")
    total = parse_whole_number(count, maximum=199)
    if total is None:
        total = NEW_ROWS
    rows = []
    for index in range(total):
        raw_id = form.get(f"experiences-{index}-id")
        rows.append(ExperienceRow(index, parse_id(raw_id)))
    return rows


def _labels(raw: str, index: int, errors: FormErrors) -> dict[str, str]:
    found: dict[str, str] = {}
    for number, text in enumerate(raw.splitlines(), start=1):
        if not text.strip():
            continue
        language, sep, label = text.partition(":")
        if not sep:
            errors.add(f"experiences-{index}-labels",
                       f"line {number}: write a language code, a colon, then the label (es: ...)")
            continue
        found[language.strip()] = label.strip()
    return found


def _is_blank(form: FormValues, row: ExperienceRow) -> bool:
    return row.row_id is None and not any(
        form.get(f"experiences-{row.index}-{name}").strip() for name in ("key", "label", "keyword", "digit")
    )


def save_experiences(runtime: Runtime, actor: Actor, form: FormValues, now: datetime) -> FormErrors:
    """Validate every row with the roster's rules (unique active digits and keywords), then save."""
    errors = FormErrors()
    entries: list[dict[str, Any]] = []
    used: list[ExperienceRow] = []
    rename: dict[str, str] = {}
    for row in form_rows(form):
        if _is_blank(form, row):
            continue
        prefix = f"experiences-{row.index}"
        rename[f"experiences-{len(entries)}"] = prefix
        entry: dict[str, Any] = {
            "key": form.get(f"{prefix}-key").strip(),
            "label": form.get(f"{prefix}-label"),
            "digit": whole_number(form.get(f"{prefix}-digit")),
            "keyword": form.get(f"{prefix}-keyword").strip().upper(),
            "active": form.has(f"{prefix}-active"),
        }
        labels = _labels(form.get(f"{prefix}-labels"), row.index, errors)
        if labels:
            entry["labels"] = labels
        entries.append(entry)
        used.append(row)
    known = [f"experiences-{row.index}-{name}" for row in form_rows(form) for name in ROW_FIELDS]
    try:
        roster = validate_roster({"version": 1, "experiences": entries})
    except InvalidRosterError as exc:
        place_errors(errors, exc.errors, "", known, rename=rename)
        return errors
    if errors:
        return errors
    # On _RejectedError the transaction has rolled back; the errors say why.
    with contextlib.suppress(_RejectedError):
        _write(runtime, actor, list(zip(used, roster.experiences, strict=True)), errors, now)
    return errors


class _RejectedError(Exception):
    """Abandons the save's transaction after an error was put on the form."""


def _write(
    runtime: Runtime,
    actor: Actor,
    pairs: list[tuple[ExperienceRow, RosterExperience]],
    errors: FormErrors,
    now: datetime,
) -> None:
    with runtime.sessions.begin() as session:
        existing = {row.id: row for row in session.scalars(select(Experience))}
        by_key = {row.key: row for row in existing.values()}
        for row, item in pairs:
            target = existing.get(row.row_id) if row.row_id is not None else None
            if row.row_id is not None and target is None:
                errors.add(FORM_ERROR, N_("Another admin changed these experiences: reload the page."))
                raise _RejectedError
            if target is not None and target.key != item.key:
                # The key is what contacts, reports and peers refer to: it never changes.
                errors.add(f"experiences-{row.index}-key", N_("the key of a saved experience cannot change"))
                raise _RejectedError
            values = {"key": item.key, "label": item.label, "digit": item.digit,
                      "keyword": item.keyword, "labels": dict(item.labels), "active": item.active}
            if target is None:
                if item.key in by_key:
                    errors.add(f"experiences-{row.index}-key", N_("%(key)s already exists", key=item.key))
                    raise _RejectedError
                session.add(Experience(**values))
                record_change(session, actor, "experience.create", f"experience {item.key}",
                              {"digit": item.digit, "keyword": item.keyword, "active": item.active}, now)
                continue
            changed = {name: value for name, value in values.items() if getattr(target, name) != value}
            for name, value in changed.items():
                setattr(target, name, value)
            if changed:
                record_change(session, actor, "experience.update", f"experience {item.key}",
                              {"changed": sorted(changed)}, now)
        session.flush()
        _check_database_unique(session, errors)
        if errors:
            raise _RejectedError


def _check_database_unique(session: Session, errors: FormErrors) -> None:
    """Rows another admin added meanwhile are not on this form: check the result as a whole."""
    seen: dict[str, str] = {}
    for row in session.scalars(select(Experience).where(Experience.active.is_(True))):
        for value in (f"digit {row.digit}", f"keyword {row.keyword}"):
            if value in seen:
                errors.add(FORM_ERROR,
                           f"{value} is used by both {seen[value]} and {row.key}: reload the page")
            seen[value] = row.key
