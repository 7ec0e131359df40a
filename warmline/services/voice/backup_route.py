"""Each process remembers every line's backup route, so a caller is helped when Redis or SQL is down."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from warmline.models import Line

log = logging.getLogger(__name__)


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


def warm_backup_routes(sessions: sessionmaker[Session]) -> int:
    """Read every line's route at process start; a database that is down now is not fatal here."""
    try:
        with sessions() as session:
            lines = list(session.scalars(select(Line)))
    except SQLAlchemyError:
        log.warning("could not read backup routes at start; they fill in as calls arrive")
        return 0
    backup_routes.remember_all(lines)
    return len(lines)
