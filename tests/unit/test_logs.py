"""The log filter masks numbers in messages and in tracebacks, whatever logged them."""

from __future__ import annotations

import io
import logging

from warmline.logs import MASK, NumberMaskingFilter, mask_numbers


def test_numbers_are_masked_in_text() -> None:
    assert mask_numbers("call +1 (212) 555-0142 now") == f"call {MASK} now"
    assert mask_numbers("contact 42 waited 30 s") == "contact 42 waited 30 s"


def test_a_logged_traceback_is_masked_too() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(NumberMaskingFilter())
    logger = logging.getLogger("tests.unit.test_logs")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        try:
            raise ValueError("Twilio error 21211: The 'To' number +12125550142 is not valid")
        except ValueError:
            logger.exception("sending to %s failed", "+12125550142")
    finally:
        logger.removeHandler(handler)
    written = stream.getvalue()
    assert "Traceback" in written and "ValueError" in written
    assert "2125550142" not in written
    assert f"sending to {MASK} failed" in written and f"The 'To' number {MASK} is" in written
