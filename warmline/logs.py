"""Logging set-up, with a last line of defence that masks anything shaped like a phone number."""

from __future__ import annotations

import logging
import re

# Seven or more digits, optionally after "+": phone numbers in any format we receive them.
_NUMBER_PATTERN = re.compile(r"\+?\(?\d[\d\s().-]{6,}\d")
MASK = "[number]"


def mask_numbers(text: str) -> str:
    """`text` with everything shaped like a phone number replaced by MASK."""
    return _NUMBER_PATTERN.sub(MASK, text)


class NumberMaskingFilter(logging.Filter):
    """Masks phone-number-shaped text in every record, whatever code logged it.

    Code must never log a number in the first place (tests scan for it); this filter makes a
    slip in a third-party library's debug line harmless too. A traceback is masked as well: an
    exception's message may quote what a provider said (Twilio's errors name the number).
    """

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_numbers(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            # Formatters use exc_text when it is set, so the traceback is only ever shown masked.
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_numbers(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_numbers(record.stack_info)
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
    # Flask-Limiter logs each held-back request's key at INFO: a digest of a client's address or
    # chat token, which the access logs are kept free of; its warnings and errors still show.
    logging.getLogger("flask-limiter").setLevel(logging.WARNING)
