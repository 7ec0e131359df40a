"""Which language a page speaks: the signed-in person's own setting, else the browser's `Accept-Language`.

Pages take their words from the same catalogs as calls and texts (`warmline.catalogs`): templates
through Jinja's i18n extension (`{{ _("...") }}`), Python through `gettext` here. Flask-Babel picks
the locale per request and formats dates and numbers in it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from babel.dates import format_datetime
from flask import Flask, request
from flask_babel import Babel

from warmline.catalogs import SOURCE_LANGUAGE, language_name, shipped_languages, translations
from warmline.web.auth import current_user
from warmline.wording import N_, Wording, said_in

__all__ = ["N_", "gettext", "in_page_language", "ngettext", "page_language"]


def page_language() -> str:
    """The language this request's page is written in."""
    offered = shipped_languages()
    user = current_user()
    if user is not None and user.language in offered:
        return user.language
    chosen: str | None = request.accept_languages.best_match(offered) if request else None
    return chosen or SOURCE_LANGUAGE


def gettext(message: str, **values: object) -> str:
    """`message` in the page's language; `%(name)s` values filled in (the pages' convention)."""
    if isinstance(message, Wording):
        return message.in_language(page_language())
    if not message:
        return message
    found = translations(page_language()).gettext(message)
    return found % {k: said_in(page_language(), v) for k, v in values.items()} if values else found


def in_page_language(text: object) -> object:
    """Words made outside the request (a form error, a refusal, a label, a flashed message) in the
    page's language: a Wording with its values, a plain message by its English text."""
    if isinstance(text, str) and not isinstance(text, Wording):
        # gettext("") is the catalog's header, never a message.
        return translations(page_language()).gettext(text) if text else text
    return said_in(page_language(), text)


def ngettext(singular: str, plural: str, count: int, **values: object) -> str:
    found = translations(page_language()).ngettext(singular, plural, count)
    return found % {"num": count, **values}


def when(at: datetime, pattern: str = "EEE HH:mm") -> str:
    """A moment in the page's language (a CLDR pattern: "EEE" is "Thu", "jue." or "Th 5"), in UTC
    as the pages say. strftime would name the weekday in English whatever the reader reads."""
    moment = at if at.tzinfo else at.replace(tzinfo=UTC)
    return format_datetime(moment, pattern, tzinfo=UTC, locale=page_language())


def language_names() -> list[tuple[str, str]]:
    """Each language pages can be read in, named in itself ("español")."""
    return [(code, language_name(code)) for code in shipped_languages()]


def _template_gettext(message: str) -> str:
    if isinstance(message, Wording):
        # Jinja formats every `_()` result with `%`: a value that holds one must not be read as a format.
        return message.in_language(page_language()).replace("%", "%%")
    return translations(page_language()).gettext(message) if message else message


def init_app(app: Flask) -> None:
    Babel(app, locale_selector=page_language)
    # The catalogs are Warmline's own (compiled in memory), not Flask-Babel's .mo directories.
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=_template_gettext,
        ngettext=lambda singular, plural, n: translations(page_language()).ngettext(
            singular, plural, n),
        newstyle=True,
    )
    app.jinja_env.filters["tr"] = in_page_language
    app.jinja_env.filters["when"] = when
    app.context_processor(lambda: {"page_language": page_language(),
                                   "language_names": language_names()})
