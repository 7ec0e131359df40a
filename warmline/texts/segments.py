"""How Twilio counts an SMS's segments (GSM-7 or UCS-2) and the 1,600-character ceiling."""

from __future__ import annotations

import math
from dataclasses import dataclass

MAX_CHARACTERS = 1600
GSM_SINGLE, GSM_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67

# The GSM 03.38 basic character set, and the extension table whose characters take two septets.
_GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = frozenset("^{}\\[~]|€\f")


@dataclass(frozen=True)
class SegmentCount:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int
    characters: int

    @property
    def too_long(self) -> bool:
        return self.characters > MAX_CHARACTERS


def is_gsm7(text: str) -> bool:
    return all(c in _GSM_BASIC or c in _GSM_EXTENDED for c in text)


def count_segments(text: str) -> SegmentCount:
    """Segments as Twilio bills and splits them; an empty text is one segment."""
    characters = len(text)
    if is_gsm7(text):
        units = sum(2 if c in _GSM_EXTENDED else 1 for c in text)
        single, part, encoding = GSM_SINGLE, GSM_PART, "GSM-7"
    else:
        units = len(text.encode("utf-16-le")) // 2  # an emoji is two code units
        single, part, encoding = UCS2_SINGLE, UCS2_PART, "UCS-2"
    segments = 1 if units <= single else math.ceil(units / part)
    return SegmentCount(encoding, units, segments, characters)
