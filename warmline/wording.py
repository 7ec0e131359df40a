"""Words for people that are made where nobody knows yet who will read them.

A form error from the roster validator, a refusal from a service or a label in a table of choices
is made outside any request (the same code serves `roster import` on the command line), yet the
admin pages must show it in the reader's language. `N_("... %(name)s ...", name=value)` marks the
English for `pybabel extract` (N_ is one of its default keywords) and returns a `Wording`: a plain
`str` in English everywhere (logs, the command line, tests), that can also say itself in another
language from the same catalogs as every page (`in_language`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, time

from babel.dates import format_datetime

from warmline.catalogs import locale_of, translations


class SaidInLanguage(str):
    """A plain `str` in English that can say itself again in another language."""

    def in_language(self, language: str) -> str:
        raise NotImplementedError


class Wording(SaidInLanguage):
    """English text that remembers its message and values, to be said again in another language."""

    template: str
    values: Mapping[str, object]

    def __new__(cls, template: str, values: Mapping[str, object]) -> Wording:
        made = super().__new__(cls, template % dict(values) if values else template)
        made.template = template
        made.values = dict(values)
        return made

    def in_language(self, language: str) -> str:
        found = translations(language).gettext(self.template)
        if not self.values:
            return found
        return found % {name: said_in(language, value) for name, value in self.values.items()}


def N_(template: str, **values: object) -> Wording:  # noqa: N802 (gettext's own name for "mark only")
    """Marks `template` for extraction; the result reads as English until asked for a language."""
    return Wording(template, values)


def said_in(language: str, text: object) -> object:
    """`text` in `language` when it can say itself again (a Wording, a time); any other value as it is."""
    return text.in_language(language) if isinstance(text, SaidInLanguage) else text


# Days and times are written by Babel in the reader's language ("Thu 5 Dec" is "jue 5 dic"):
# strftime would name the weekday and month in English whatever the reader reads.
DAY_AND_TIME = "EEE d MMM, HH:mm"
END_TIME = "HH:mm"
MIDNIGHT = N_("midnight")


class LocalMoment(SaidInLanguage):
    """A moment in its own zone (aware), written with a CLDR pattern ("EEE HH:mm": "Thu 09:00")."""

    at: datetime
    pattern: str

    def __new__(cls, at: datetime, pattern: str = DAY_AND_TIME) -> LocalMoment:
        made = super().__new__(cls, _written(at, pattern, "en"))
        made.at, made.pattern = at, pattern
        return made

    def in_language(self, language: str) -> str:
        return _written(self.at, self.pattern, language)


class LocalSpan(SaidInLanguage):
    """A span of local time on one day, "Thu 5 Dec, 09:00–13:00"; an end at 00:00 is "midnight"."""

    start: datetime
    end: datetime

    def __new__(cls, start: datetime, end: datetime) -> LocalSpan:
        made = super().__new__(cls, _span(start, end, "en"))
        made.start, made.end = start, end
        return made

    def in_language(self, language: str) -> str:
        return _span(self.start, self.end, language)


def _written(at: datetime, pattern: str, language: str) -> str:
    return format_datetime(at, pattern, tzinfo=at.tzinfo, locale=locale_of(language))


def _span(start: datetime, end: datetime, language: str) -> str:
    ending = (MIDNIGHT.in_language(language) if end.timetz().replace(tzinfo=None) == time(0, 0)
              else _written(end, END_TIME, language))
    return f"{_written(start, DAY_AND_TIME, language)}–{ending}"


class Joined(SaidInLanguage):
    """Words said in turn with a separator ("Thu 3 Dec 09:00-13:00; Fri 4 Dec ..."), each part in
    the reader's language: a list made before anyone knows who reads it."""

    separator: str
    parts: tuple[object, ...]

    def __new__(cls, separator: str, parts: Sequence[object]) -> Joined:
        made = super().__new__(cls, separator.join(str(part) for part in parts))
        made.separator, made.parts = separator, tuple(parts)
        return made

    def in_language(self, language: str) -> str:
        return self.separator.join(str(said_in(language, part)) for part in self.parts)


def values_to_json(values: Mapping[str, object]) -> dict[str, object]:
    """A Wording's values as JSON, each kept as what it is (a time, a message, a list of them) so it
    is said again in each reader's language (a board notice is written once and read by admins of
    several languages)."""
    return {name: _value_to_json(value) for name, value in values.items()}


def values_from_json(saved: Mapping[str, object]) -> dict[str, object]:
    return {name: _value_from_json(value) for name, value in saved.items()}


def _value_to_json(value: object) -> object:
    if isinstance(value, LocalSpan):
        return {"local_span": [value.start.isoformat(), value.end.isoformat()]}
    if isinstance(value, LocalMoment):
        return {"local_moment": [value.at.isoformat(), value.pattern]}
    if isinstance(value, Wording):
        return {"wording": [value.template, values_to_json(value.values)]}
    if isinstance(value, Joined):
        return {"joined": [value.separator, [_value_to_json(part) for part in value.parts]]}
    return str(value) if isinstance(value, str) else value


def _value_from_json(value: object) -> object:
    if not isinstance(value, dict) or len(value) != 1:
        return value
    (kind, saved), = value.items()
    if kind == "local_span":
        return LocalSpan(datetime.fromisoformat(saved[0]), datetime.fromisoformat(saved[1]))
    if kind == "local_moment":
        return LocalMoment(datetime.fromisoformat(saved[0]), saved[1])
    if kind == "wording":
        return Wording(saved[0], values_from_json(saved[1]))
    if kind == "joined":
        return Joined(saved[0], [_value_from_json(part) for part in saved[1]])
    return value
