"""Whether a shift's RRULE is usable: one rule, repeating at most daily, its start from the shift."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from dateutil.rrule import rrule, rrulestr

_FREQUENCIES = frozenset({"DAILY", "WEEKLY", "MONTHLY", "YEARLY"})
_TIME_PARTS = frozenset({"BYHOUR", "BYMINUTE", "BYSECOND"})
_FORBIDDEN = ("DTSTART", "EXDATE", "RDATE", "EXRULE")
_UNTIL = re.compile(r"\d{8}(T\d{6}Z?)?")
_PROBE_START = datetime(2026, 1, 1)  # any date: only the rule's syntax is checked here


def validate_rrule(text: str) -> str | None:
    """Return why ``text`` is not a usable shift RRULE, or None when it is."""
    upper = text.strip().upper()
    if not upper:
        return "the rule is empty"
    if "\n" in upper or "\r" in upper:
        return "one RRULE only; the first date is the shift's start, exceptions go in skip"
    if any(name in upper for name in _FORBIDDEN):
        return (
            "DTSTART, RDATE, EXDATE and EXRULE do not belong in the rule: the shift's start"
            " gives the first date and time, skip lists the dates that do not happen"
        )
    parts: dict[str, str] = {}
    for item in upper.removeprefix("RRULE:").split(";"):
        name, sep, value = item.partition("=")
        if not sep or not name or not value:
            return f"not a valid RRULE: {item!r} is not NAME=VALUE"
        if name in parts:
            return f"not a valid RRULE: {name} is given twice"
        parts[name] = value
    freq = parts.get("FREQ")
    if freq is None:
        return "not a valid RRULE: FREQ is missing"
    if freq not in _FREQUENCIES:
        return f"FREQ={freq} is not supported: a shift repeats daily, weekly, monthly or yearly"
    if "COUNT" in parts and "UNTIL" in parts:
        return "COUNT and UNTIL cannot both be set"
    if "UNTIL" in parts and not _UNTIL.fullmatch(parts["UNTIL"]):
        return f"UNTIL={parts['UNTIL']} is not a date (20261231) or date-time (20261231T235900[Z])"
    if used := sorted(_TIME_PARTS & parts.keys()):
        return f"{', '.join(used)} not supported: the time of day comes from the shift's start"
    # dateutil wants an aware start for a UTC UNTIL and a naive one otherwise.
    start = _PROBE_START.replace(tzinfo=UTC) if parts.get("UNTIL", "").endswith("Z") else _PROBE_START
    try:
        built = rrulestr(upper.removeprefix("RRULE:"), dtstart=start)
    except (ValueError, TypeError) as exc:
        return f"not a valid RRULE: {exc}"
    if not isinstance(built, rrule):
        return "one RRULE only"
    return None
