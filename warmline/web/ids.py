"""Ids in URLs and query strings: a row id or 404, never an int that overflows a SQL column."""

from __future__ import annotations

from typing import Any

from flask import Flask, abort, request
from werkzeug.routing import BaseConverter, ValidationError

from warmline.domain.numbers import parse_id


class IdConverter(BaseConverter):
    """`<int:...>` in every route: 1 to MAX_ID in ASCII digits, else the route does not match (404).

    Werkzeug's own converter accepts any length of digits, and 25 nines overflowed PostgreSQL.
    """

    regex = r"[0-9]+"
    part_isolating = True

    def to_python(self, value: str) -> int:
        found = parse_id(value)
        if found is None:
            raise ValidationError
        return found

    def to_url(self, value: Any) -> str:
        return str(int(value))


def id_arg(name: str) -> int | None:
    """The query-string id `name`: None when absent or empty, 404 when it is not an id."""
    raw = request.args.get(name)
    if not raw:
        return None
    found = parse_id(raw)
    if found is None:
        abort(404)
    return found


def init_app(app: Flask) -> None:
    """Replace the `int` converter before any blueprint adds a route."""
    app.url_map.converters["int"] = IdConverter
