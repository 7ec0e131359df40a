"""Every word a caller hears, a texter reads or a peer sees, per language: gettext catalogs kept by Babel.

The English text lives in the code, marked with `message(key, english)` (or `plural(...)`): the key is
the gettext context (`msgctxt`), so a catalog names each message by a stable key, and `pybabel
extract` (README "Adding a language") gathers them, with the pages' `_()` strings, into
`warmline/translations/messages.pot`. Each language is one `LANG/LC_MESSAGES/messages.po` beside it,
compiled in memory with Babel's own compiler the first time it is used: a fresh clone needs no
build step and a stale `.mo` can never be read.

English is the source language: its catalog is the code itself.
"""

from __future__ import annotations

import functools
import gettext
import io
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Final

from babel import Locale
from babel.dates import format_date, format_time
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

SOURCE_LANGUAGE: Final = "en"
TRANSLATIONS: Final = Path(__file__).parent / "translations"
TEMPLATE: Final = TRANSLATIONS / "messages.pot"
DOMAIN: Final = "messages"

# Babel's locale for a line's language code: the one a caller's region reads dates and times in.
_LOCALES: Final[dict[str, str]] = {"en": "en_US", "es": "es_US"}
_PLACEHOLDER = re.compile(r"\{(\w+)\}|%\((\w+)\)[sd]")


@dataclass(frozen=True)
class Message:
    key: str
    english: str


@dataclass(frozen=True)
class PluralMessage:
    key: str
    singular: str
    plural: str


def message(key: str, english: str) -> Message:
    """Mark a message for extraction (`pybabel extract -k message:1c,2`)."""
    return Message(key, english)


def plural(key: str, singular: str, english_plural: str) -> PluralMessage:
    """Mark a plural message (`-k plural:1c,2,3`); `{count}`-style values choose the form."""
    return PluralMessage(key, singular, english_plural)


def catalog_path(language: str) -> Path:
    return TRANSLATIONS / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def shipped_languages() -> tuple[str, ...]:
    """English and every language with a catalog, in a stable order."""
    found = sorted(p.parent.parent.name for p in TRANSLATIONS.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
    return (SOURCE_LANGUAGE, *[lang for lang in found if lang != SOURCE_LANGUAGE])


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


@functools.cache
def translations(language: str) -> gettext.NullTranslations:
    """The language's compiled catalog; English (or a language without one) reads the code's text."""
    path = catalog_path(language)
    if language == SOURCE_LANGUAGE or not path.exists():
        return gettext.NullTranslations()
    buffer = io.BytesIO()
    write_mo(buffer, _read(path, language), use_fuzzy=False)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def say(language: str, words: Message | PluralMessage, count: int | None = None,
        **values: object) -> str:
    """`words` in `language`, with values filled in; a plural picks its form by `count`."""
    found = translations(language)
    if isinstance(words, PluralMessage):
        number = 0 if count is None else count
        template = found.npgettext(words.key, words.singular, words.plural, number)
        return template.format(count=number, **values)
    return found.pgettext(words.key, words.english).format(**values)


def locale_of(language: str) -> Locale:
    return Locale.parse(_LOCALES.get(language, language))


def language_name(language: str) -> str:
    """A language named in itself ("español", "Tiếng Việt")."""
    return Locale.parse(language).get_display_name(language) or language


def spoken_clock(language: str, at: datetime) -> str:
    """A time of day as a person of that language says it ("6:00 PM", "18:00")."""
    # CLDR puts a narrow no-break space before "PM": speech and texts read it as a plain one.
    # A clock that ends in an abbreviation ("6:00 p.m.") loses its last dot to the sentence.
    return format_time(at, format="short", locale=locale_of(language)).replace("\u202f", " ").rstrip(".")


def weekday(language: str, day: date) -> str:
    return format_date(day, format="EEEE", locale=locale_of(language))


def short_weekday(language: str, day: date) -> str:
    return format_date(day, format="EEE", locale=locale_of(language))


def short_day(language: str, at: datetime) -> str:
    """A day as a text writes it ("Mon 7 Dec", "lun 7 dic")."""
    return format_date(at, format="EEE d MMM", locale=locale_of(language))


def clock_24h(language: str, at: datetime) -> str:
    """A time as a text writes it, short and unambiguous ("18:00")."""
    return format_time(at, format="HH:mm", locale=locale_of(language))


# --------------------------------------------------------------------------- completeness


@dataclass(frozen=True)
class CatalogEntry:
    key: str
    english: str


def _entry_key(context: str | None, msgid: str | tuple[str, ...] | list[str]) -> str:
    return context or _first(msgid)


def _first(msgid: str | tuple[str, ...] | list[str]) -> str:
    return msgid if isinstance(msgid, str) else msgid[0]


@functools.cache
def required_messages() -> tuple[CatalogEntry, ...]:
    """Every message the code and pages use (the extracted template), by key."""
    entries = [CatalogEntry(_entry_key(m.context, m.id), _first(m.id))
               for m in _read(TEMPLATE) if m.id]
    return tuple(entries)


def placeholders(text: str) -> set[str]:
    return {a or b for a, b in _PLACEHOLDER.findall(text)}


def missing_messages(language: str) -> list[str]:
    """Keys of the messages `language`'s catalog lacks (none for English; all without a catalog)."""
    if language == SOURCE_LANGUAGE:
        return []
    path = catalog_path(language)
    if not path.exists():
        return [entry.key for entry in required_messages()]
    translated: set[str] = set()
    for found in _read(path, language):
        strings = found.string if isinstance(found.string, tuple) else (found.string,)
        if found.id and not found.fuzzy and all(strings):
            translated.add(_entry_key(found.context, found.id))
    return [entry.key for entry in required_messages() if entry.key not in translated]
