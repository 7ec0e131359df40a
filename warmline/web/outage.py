"""What a peer or an admin sees when Redis or the database cannot be reached, or a page fails.

Twilio's URLs never get here: `twilio_guard` answers every failure there with TwiML. Everyone
else gets one of our own pages (or JSON under /api/), never a stack trace or Werkzeug's bare
page: a 503 that says plainly the data is out of reach for now, or a 500 for anything else.
"""

from __future__ import annotations

import logging

import redis.exceptions
import sqlalchemy.exc
from flask import Flask, Response, g, jsonify, render_template
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import InternalServerError

from warmline.web.security import wants_json

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30
OUTAGE_HEADLINE = "We can't reach our data right now"
OUTAGE_MESSAGE = (
    "The live shift data is out of reach for a moment, so this page cannot be shown. Calls that "
    "are already connected carry on, and new callers are sent to the line's backup number until "
    "we are back. Try again in a minute."
)
FAILURE_MESSAGE = "This page failed on our side. Try again; if it keeps failing, tell an admin."

# Each of these means "the store did not answer" (down, restarting, failing over, out of
# connections), not "the request was wrong": worth a 503 and a retry.
REDIS_UNREACHABLE: tuple[type[Exception], ...] = (
    redis.exceptions.ConnectionError,  # includes a Sentinel that finds no primary
    redis.exceptions.TimeoutError,
    redis.exceptions.ReadOnlyError,  # a replica promoted mid-failover
)
DATABASE_UNREACHABLE: tuple[type[Exception], ...] = (
    sqlalchemy.exc.OperationalError,  # refused, closed, shutting down, SQLite busy
    sqlalchemy.exc.InterfaceError,
    sqlalchemy.exc.TimeoutError,  # no connection free in the pool
)


def _render(status: int, headline: str, message: str) -> tuple[Response | str, int]:
    # The base template shows who is signed in, which reads the database: rendered as nobody,
    # the page needs neither store.
    g.current_user = None
    if wants_json():
        # A client of the API retries on its own: the headline and when, not the page's prose.
        text = f"{headline}; try again in {RETRY_AFTER_SECONDS} s." if status == 503 else message
        return jsonify(error=text), status
    return render_template("error.html", status=status, headline=headline, message=message), status


def _unreachable() -> ResponseReturnValue:
    body, status = _render(503, OUTAGE_HEADLINE, OUTAGE_MESSAGE)
    return body, status, {"Retry-After": str(RETRY_AFTER_SECONDS)}


def outage_answer(error: BaseException) -> ResponseReturnValue | None:
    """The 503 for an error that means a store did not answer; None for any other error."""
    if isinstance(error, REDIS_UNREACHABLE):
        log.error("a page could not reach Redis (%s)", type(error).__name__)
        return _unreachable()
    if isinstance(error, DATABASE_UNREACHABLE):
        log.error("a page could not reach the database (%s)", type(error).__name__)
        return _unreachable()
    return None


def _outage(error: Exception) -> ResponseReturnValue:
    answer = outage_answer(error)
    return answer if answer is not None else _render(500, "Something went wrong", FAILURE_MESSAGE)


def _failed(error: InternalServerError) -> ResponseReturnValue:
    answer = outage_answer(error.original_exception) if error.original_exception else None
    return answer if answer is not None else _render(500, "Something went wrong", FAILURE_MESSAGE)


def init_app(app: Flask) -> None:
    for exception in REDIS_UNREACHABLE + DATABASE_UNREACHABLE:
        app.register_error_handler(exception, _outage)
    app.register_error_handler(InternalServerError, _failed)
