"""What the admin's forms share: the values typed, and roster-validator errors placed at fields."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from warmline.domain.numbers import parse_signed_whole_number
from warmline.roster.schema import InvalidRosterError, RosterError

FORM_ERROR = "_form"
"""Where an error that belongs to no single field is shown (top of the form)."""

_INDEX = re.compile(r"\[(\d+)\]")


class FormValues:
    """The values of a form, as typed: re-rendered on an error so nothing typed is lost."""

    def __init__(self, data: Mapping[str, Iterable[str]] | None = None) -> None:
        self._data: dict[str, list[str]] = {k: list(v) for k, v in (data or {}).items()}

    def get(self, name: str, default: str = "") -> str:
        found = self._data.get(name)
        return found[0] if found else default

    def getlist(self, name: str) -> list[str]:
        return list(self._data.get(name, []))

    def has(self, name: str, value: str = "1") -> bool:
        return value in self._data.get(name, [])

    def set(self, name: str, *values: str) -> None:
        self._data[name] = list(values)

    def names(self) -> list[str]:
        return list(self._data)


@dataclass
class FormErrors:
    """Messages by field name; a form with none saved."""

    by_field: dict[str, list[str]] = field(default_factory=dict)

    def add(self, name: str, message: str) -> None:
        self.by_field.setdefault(name, []).append(message)

    def get(self, name: str) -> list[str]:
        return self.by_field.get(name, [])

    def __bool__(self) -> bool:
        return bool(self.by_field)

    def __contains__(self, name: object) -> bool:
        return name in self.by_field

    def first_field(self) -> str | None:
        return next(iter(self.by_field), None)


def field_name(path: str) -> str:
    """`hours[1].open` -> `hours-1-open`: the roster path of a value as a form field name."""
    return _INDEX.sub(r"-\1", path).replace(".", "-").strip("-")


def place_errors(
    errors: FormErrors,
    roster_errors: Iterable[RosterError],
    prefix: str,
    known_fields: Iterable[str],
    *,
    aliases: Mapping[str, str] | None = None,
    rename: Mapping[str, str] | None = None,
) -> None:
    """Put each validator error of the entry at ``prefix`` on the nearest field of the form.

    `hours-1-days-2` is tried, then `hours-1-days`, and so on; ``aliases`` maps a roster name to
    a form field (the shift's `start` is shown at its date and time). ``rename`` rewrites the
    start of a field name (rows the form skipped shift the roster's indexes).
    """
    known = set(known_fields)
    for error in roster_errors:
        if prefix and error.path != prefix and not error.path.startswith(prefix + ".") \
                and not error.path.startswith(prefix + "["):
            continue
        name = field_name(error.path[len(prefix):])
        for old, new in (rename or {}).items():
            if name == old or name.startswith(old + "-"):
                name = new + name[len(old):]
                break
        errors.add(_nearest(name, known, aliases or {}), error.message)


def _nearest(name: str, known: set[str], aliases: Mapping[str, str]) -> str:
    parts = name.split("-") if name else []
    while parts:
        candidate = "-".join(parts)
        if candidate in aliases:
            return aliases[candidate]
        if candidate in known:
            return candidate
        parts.pop()
    return FORM_ERROR


def roster_errors(exc: InvalidRosterError) -> list[RosterError]:
    return list(exc.errors)


def whole_number(raw: str) -> object:
    """A typed number as an int for the validator; anything else as typed, so its message says why."""
    cleaned = raw.strip()
    if not cleaned:
        return None
    number = parse_signed_whole_number(cleaned)
    return cleaned if number is None else number


def words(raw: str) -> list[str]:
    """`en, es` or `en es` as a list."""
    return [part for part in re.split(r"[\s,]+", raw.strip()) if part]


def blank_to_none(raw: str) -> str | None:
    cleaned = raw.strip()
    return cleaned or None
