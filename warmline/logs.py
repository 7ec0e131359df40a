"""Logging set-up, with a last line of defence that masks anything shaped like a phone number."""

from __future__ import annotations

import logging
import re

# Seven or more digits, optionally after "+": phone numbers in any format we receive them.
_NUMBER_PATTERN = re.compile(r"\+?\(?\d[\d\s().-]{6,}\d")
MASK = "[number]"


class NumberMaskingFilter(logging.Filter):
    """Masks phone-number-shaped text in every record, whatever code logged it.

    Code must never log a number in the first place (tests scan for it); this filter makes a
    slip in a third-party library's debug line harmless too.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = _NUMBER_PATTERN.sub(MASK, message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def configure_logging(level: str) -> None:
    root = logging.getLogger()
    if any(isinstance(f, NumberMaskingFilter) for h in root.handlers for f in h.filters):
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(NumberMaskingFilter())
    root.addHandler(handler)
    root.setLevel(level)
    # twilio-python logs whole request bodies at DEBUG/INFO; they carry numbers.
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
