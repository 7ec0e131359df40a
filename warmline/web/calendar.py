"""The private calendar feed a peer subscribes to from their phone: `/calendar/<token>.ics`."""

from __future__ import annotations

from flask import Blueprint, Response, abort
from flask.typing import ResponseReturnValue

from warmline.clock import utc_now
from warmline.services.peers import calendar as service
from warmline.web.context import current_runtime

bp = Blueprint("calendar", __name__)


@bp.get("/calendar/<token>.ics")
def feed(token: str) -> ResponseReturnValue:
    # The token is the only credential: calendar apps cannot sign in or send cookies.
    text = service.build_feed_for_token(current_runtime(), token, utc_now())
    if text is None:
        abort(404)
    return Response(
        text,
        mimetype="text/calendar",
        headers={"Content-Disposition": 'inline; filename="warmline-shifts.ics"'},
    )
