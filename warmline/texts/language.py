"""A texter's language: a keyword naming it ("ESPAÑOL"), or what they wrote, told by an offline model.

The model is py3langid's (a maintained fork of langid.py, its model shipped inside the package: no
download at run time). It is asked only to choose among the line's languages, and a short or mixed
message it is unsure of keeps the line's default: a wrong guess would hand the texter a peer who
cannot read them.
"""

from __future__ import annotations

import functools
import math
import threading
from collections.abc import Sequence
from typing import Any, Final

from warmline.texts.words import language_keyword_of

# How sure the model must be, among the line's languages, before it overrides the default.
CONFIDENCE: Final = 0.9
# Fewer letters than this is a greeting or a keyword ("hola", "ok"): not enough to tell.
MIN_LETTERS: Final = 8

_loading = threading.Lock()


@functools.cache
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier  # noqa: PLC0415 (1 s to load)

    with _loading:
        return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=False)


def identified(body: str, languages: Sequence[str]) -> str | None:
    """The language among `languages` the model is sure `body` is written in, or None."""
    if len(languages) < 2 or sum(c.isalpha() for c in body) < MIN_LETTERS:
        return None
    ranked: list[tuple[str, float]] = _identifier().rank(body)
    scores = {lang: score for lang, score in ranked if lang in languages}
    if not scores:
        return None
    best = max(scores, key=lambda lang: scores[lang])
    # rank() gives log-probabilities; the share of the best among the line's languages:
    top = scores[best]
    total = sum(math.exp(score - top) for score in scores.values())
    return best if 1 / total >= CONFIDENCE else None


def texter_language(body: str, languages: Sequence[str]) -> str:
    """The language a first text asks for or is written in; the line's default when unsure."""
    return language_keyword_of(body, languages) or identified(body, languages) or languages[0]
