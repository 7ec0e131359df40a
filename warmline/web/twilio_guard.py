"""Every Twilio URL: signature first (403 otherwise), then always valid TwiML, never a 5xx."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable

from flask import Response, request

from warmline.redis_batch import writes_together
from warmline.telephony.signature import SIGNATURE_HEADER, is_valid_signature, public_request_url
from warmline.web.context import current_runtime

log = logging.getLogger(__name__)

TwimlHandler = Callable[[], str]
TWIML_MIMETYPE = "text/xml"


def _signature_ok() -> bool:
    settings = current_runtime().settings
    url = public_request_url(settings.public_url, request.full_path)
    return is_valid_signature(url, request.form,
                              request.headers.get(SIGNATURE_HEADER),
                              settings.twilio_auth_tokens)


def webhook_from_twilio(on_failure: Callable[[], str]) -> Callable[[TwimlHandler], Callable[[], Response]]:
    """Wrap a handler that returns TwiML text.

    A missing or wrong signature gets 403 (no TwiML: Twilio itself never sends one). Any
    exception inside the handler (Redis or the database down, a bug) is logged by type only and
    answered with `on_failure()`'s TwiML, which must not touch Redis or SQL.
    """

    def decorate(handler: TwimlHandler) -> Callable[[], Response]:
        @functools.wraps(handler)
        def wrapped() -> Response:
            if not _signature_ok():
                log.warning("rejected a Twilio request with a bad signature: %s", request.path)
                return Response("invalid signature", status=403, mimetype="text/plain")
            started = time.perf_counter()
            try:
                # The writes nobody reads back (events, wait facts...) go in one round trip.
                with writes_together():
                    body = handler()
            except Exception as exc:  # noqa: BLE001 - the caller must never hear silence
                log.error("webhook %s failed (%s); answering the backup route",
                          request.path, type(exc).__name__)
                body = on_failure()
            elapsed_ms = (time.perf_counter() - started) * 1000
            log.debug("webhook %s answered in %.1f ms", request.path, elapsed_ms)
            return Response(body, status=200, mimetype=TWIML_MIMETYPE)

        return wrapped

    return decorate
