"""Each process remembers every line's backup route, so a caller is helped when Redis or SQL is down."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass

from warmline.models import Line


@dataclass(frozen=True)
class BackupRoute:
    line_number: str
    line_name: str
    backup_number: str | None
    crisis_number: str | None
    language: str


class BackupRouteCache:
    """Last-known backup routes by line number, refreshed whenever a line is read from SQL."""

    def __init__(self) -> None:
        self._routes: dict[str, BackupRoute] = {}
        self._lock = threading.Lock()

    def remember(self, line: Line) -> None:
        route = BackupRoute(
            line_number=line.number,
            line_name=line.name,
            backup_number=line.backup_number,
            crisis_number=line.crisis_number,
            language=line.default_language,
        )
        with self._lock:
            self._routes[line.number] = route

    def remember_all(self, lines: Iterable[Line]) -> None:
        for line in lines:
            self.remember(line)

    def route_for(self, line_number: str) -> BackupRoute | None:
        with self._lock:
            return self._routes.get(line_number)


# One per process (gunicorn worker): it is a cache of facts from SQL, safe to share across threads.
backup_routes = BackupRouteCache()
