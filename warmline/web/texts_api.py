"""The texts pane's JSON API under /api/texts: offers, conversations, replies, closing.

Same sign-in and CSRF rules as the rest of /api/ (state-changing calls send X-CSRFToken). A peer
sees only the offers made to them and the conversations they hold; never a number.
"""

from __future__ import annotations

import re

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from warmline.clock import utc_now
from warmline.services.texts import conversation as service
from warmline.web.auth import peer_required, signed_in_peer_id
from warmline.web.context import current_runtime
from warmline.web.languages import gettext

bp = Blueprint("texts_api", __name__, url_prefix="/api/texts")

_CONTACT_ID = re.compile(r"^[0-9a-f]{32}$")
# An offer id is the routing generation (hex, new each time Redis comes back empty) and a number.
_OFFER_ID = re.compile(r"^[0-9a-z]{1,16}-[0-9]{1,12}$")


def _error(status: int, message: str) -> ResponseReturnValue:
    return jsonify(error=gettext(message)), status


def _refused(refusal: service.Refusal) -> ResponseReturnValue:
    return _error(refusal.status, refusal.message)


@bp.get("")
@peer_required
def list_texts() -> ResponseReturnValue:
    return jsonify(service.list_peer_texts(current_runtime(), signed_in_peer_id(), utc_now()))


@bp.post("/offers/<offer_id>/accept")
@peer_required
def accept(offer_id: str) -> ResponseReturnValue:
    if not _OFFER_ID.match(offer_id):
        return _error(404, "No such text offer for you.")
    refusal = service.accept_offer(current_runtime(), signed_in_peer_id(), offer_id, utc_now())
    return _refused(refusal) if refusal else jsonify(accepted=True)


@bp.post("/offers/<offer_id>/decline")
@peer_required
def decline(offer_id: str) -> ResponseReturnValue:
    if not _OFFER_ID.match(offer_id):
        return _error(404, "No such text offer for you.")
    refusal = service.decline_offer(current_runtime(), signed_in_peer_id(), offer_id, utc_now())
    return _refused(refusal) if refusal else jsonify(declined=True)


@bp.post("/<contact_id>/messages")
@peer_required
def reply(contact_id: str) -> ResponseReturnValue:
    if not _CONTACT_ID.match(contact_id):
        return _error(404, "This conversation is not open for you.")
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or set(body) != {"body"} or not isinstance(body["body"], str):
        return _error(400, 'send {"body": "your reply"}')
    result = service.send_reply(current_runtime(), signed_in_peer_id(), contact_id, body["body"],
                                utc_now())
    if isinstance(result, service.Refusal):
        return _refused(result)
    seq, segments = result
    return jsonify(seq=seq, segments=segments), 202


@bp.post("/<contact_id>/close")
@peer_required
def close(contact_id: str) -> ResponseReturnValue:
    if not _CONTACT_ID.match(contact_id):
        return _error(404, "This conversation is not open for you.")
    refusal = service.close_by_peer(current_runtime(), signed_in_peer_id(), contact_id,
                                    utc_now())
    return _refused(refusal) if refusal else jsonify(closed=True)
