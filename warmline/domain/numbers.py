"""Whole numbers typed by people or sent by clients: ids, counts, keypad digits.

`str.isdigit()` then `int()` is not a safe pair: "²" is a digit to `isdigit` but not to `int`,
4,300 digits or more make `int` refuse, and 25 nines are a Python int that no SQL column
holds. Everything read from a form, a query string, a URL or a webhook goes through here.
"""

from __future__ import annotations

import re

MAX_ID = 2**31 - 1
"""The largest value of a SQL INTEGER column (every id in the schema is one)."""

# ASCII digits only, and few of them: nothing longer than any id or count we use.
_WHOLE_NUMBER = re.compile(r"[0-9]{1,18}")
_SIGNED_WHOLE_NUMBER = re.compile(r"-?[0-9]{1,18}")


def parse_whole_number(text: str | None, *, maximum: int = MAX_ID) -> int | None:
    """`text` (spaces around allowed) as an int from 0 to `maximum`, or None for anything else."""
    if text is None:
        return None
    cleaned = text.strip()
    if not _WHOLE_NUMBER.fullmatch(cleaned):
        return None
    value = int(cleaned)
    return value if value <= maximum else None


def parse_id(text: str | None) -> int | None:
    """A row id: 1 to MAX_ID, or None."""
    value = parse_whole_number(text)
    return value if value else None


def id_or_error(text: str) -> int:
    """`parse_id` for Werkzeug's `args.get(..., type=...)`, which turns ValueError into its default."""
    value = parse_id(text)
    if value is None:
        raise ValueError("not an id")
    return value


def parse_signed_whole_number(text: str) -> int | None:
    """A whole number that may be negative (a form field the validator then checks), or None."""
    cleaned = text.strip()
    return int(cleaned) if _SIGNED_WHOLE_NUMBER.fullmatch(cleaned) else None
