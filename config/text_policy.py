"""The texts policy (risk words, inactivity, content expiry); read with the other settings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

# DOMAIN.md #13: words about means and plans. Matched as whole words or phrases, any
# case; an amount of pills ("30 pills", "20 tablets") is matched by a pattern in warmline.texts.
DEFAULT_RISK_WORDS: tuple[str, ...] = (
    "pills", "overdose", "od", "weapon", "gun", "rope", "kill myself", "end it", "end my life",
    "suicide",
)
DEFAULT_INACTIVITY_MINUTES = 30
# A closed conversation's content stays this long (the peer may glance back), then expires.
DEFAULT_CONTENT_HOURS_AFTER_CLOSE = 1.0
MAX_CONTENT_HOURS = 24.0


@dataclass(frozen=True)
class TextPolicy:
    risk_words: tuple[str, ...] = DEFAULT_RISK_WORDS
    inactivity_seconds: float = DEFAULT_INACTIVITY_MINUTES * 60.0
    content_seconds_after_close: float = DEFAULT_CONTENT_HOURS_AFTER_CLOSE * 3600.0

    @property
    def content_seconds(self) -> int:
        """How long content lives after its last message while the conversation is open."""
        return int(MAX_CONTENT_HOURS * 3600)


def read_text_policy(env: Mapping[str, str], errors: list[str]) -> TextPolicy:
    """`WARMLINE_TEXT_RISK_WORDS` (comma-separated), `WARMLINE_TEXT_INACTIVITY_MINUTES`,
    `WARMLINE_TEXT_CONTENT_HOURS` (after close, at most 24). A bad value is added to `errors`
    (load_settings reports them all at once) and its default is used meanwhile."""
    words = DEFAULT_RISK_WORDS
    raw_words = env.get("WARMLINE_TEXT_RISK_WORDS", "").strip()
    if raw_words:
        words = tuple(w.strip().lower() for w in raw_words.split(",") if w.strip())

    def number(name: str, default: float, low: float, high: float) -> float:
        raw = env.get(name, "").strip()
        if not raw:
            return default
        try:
            value = float(raw)
        except ValueError:
            errors.append(f"{name}: expected a number, got {raw!r}")
            return default
        if not low <= value <= high:
            errors.append(f"{name}: expected between {low:g} and {high:g}, got {value:g}")
        return value

    minutes = number("WARMLINE_TEXT_INACTIVITY_MINUTES", DEFAULT_INACTIVITY_MINUTES, 0.01, 24 * 60)
    hours = number("WARMLINE_TEXT_CONTENT_HOURS", DEFAULT_CONTENT_HOURS_AFTER_CLOSE, 0.0,
                   MAX_CONTENT_HOURS)
    return TextPolicy(words, minutes * 60.0, hours * 3600.0)
