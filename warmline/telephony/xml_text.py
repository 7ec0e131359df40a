"""Text made safe to put in TwiML: XML 1.0 refuses control characters, so one stray character in
an admin's label would make every caller's menu not well-formed."""

from __future__ import annotations

import re

# Every character XML 1.0 does not allow (C0 controls but tab, newline and carriage return;
# surrogates; U+FFFE and U+FFFF), and C1 controls, which no voice or phone should get either.
_NOT_IN_TWIML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def twiml_text(text: str) -> str:
    """`text` with every character TwiML cannot carry replaced by a space."""
    return _NOT_IN_TWIML.sub(" ", text)
