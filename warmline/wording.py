"""Words for people that are made where nobody knows yet who will read them.

A form error from the roster validator, a refusal from a service or a label in a table of choices
is made outside any request (the same code serves `roster import` on the command line), yet the
admin pages must show it in the reader's language. `N_("... %(name)s ...", name=value)` marks the
English for `pybabel extract` (N_ is one of its default keywords) and returns a `Wording`: a plain
`str` in English everywhere (logs, the command line, tests), that can also say itself in another
language from the same catalogs as every page (`in_language`).
"""

from __future__ import annotations

from collections.abc import Mapping

from warmline.catalogs import translations


class Wording(str):
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
    """`text` in `language` when it is a Wording; any other value as it is."""
    return text.in_language(language) if isinstance(text, Wording) else text
