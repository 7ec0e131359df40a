"""Counts the SQL statements of every process started with this directory on PYTHONPATH and
WARMLINE_BENCH_SQL_COUNTS naming a file (bench/capacity.py sets both for the web and worker
processes it starts): one byte appended to that file per statement, so the count is the file's
size. O_APPEND writes are atomic, so gunicorn's threads, RQ's forked work horses (the listener
and the descriptor are inherited) and every process add up without a lock, and a horse that ends
with os._exit loses nothing. pg_stat_statements is not loaded on every server; this needs nothing.
"""

from __future__ import annotations

import os
from typing import Any

_PATH = os.environ.get("WARMLINE_BENCH_SQL_COUNTS")

if _PATH:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    _FD = os.open(_PATH, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def _count(*_args: Any) -> None:
        os.write(_FD, b".")

    event.listen(Engine, "before_cursor_execute", _count)
