"""Finds the voice TwiML schema beside the repository and validates answers against it."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

import xmlschema

SCHEMA_RELATIVE = Path("twilio/twiml-xsd/twiml_v20100401_twilioRealtimeCallSchema.xsd")


@dataclass(frozen=True)
class SchemaVerdict:
    """`checked` is False when no schema is available (a user's clone): "unchecked", not valid."""

    checked: bool
    valid: bool
    reason: str = ""


def find_schema(explicit: str | None = None) -> Path | None:
    """The XSD from `explicit`, `$WARMLINE_SHARED_DIR`, or `<repo>/../shared/`; None if absent."""
    candidates: list[Path] = []
    if explicit:
        candidates.append(Path(explicit))
    shared = os.environ.get("WARMLINE_SHARED_DIR")
    if shared:
        candidates.append(Path(shared) / SCHEMA_RELATIVE)
    repo = Path(__file__).resolve().parents[2]
    candidates.append(repo.parent / "shared" / SCHEMA_RELATIVE)
    return next((c for c in candidates if c.is_file()), None)


@functools.lru_cache(maxsize=4)
def _load(path: Path) -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(path))


class VoiceSchema:
    """Validates voice TwiML documents; loaded once per path (loading takes ~0.4 s)."""

    def __init__(self, explicit: str | None = None) -> None:
        self.path = find_schema(explicit)

    def check(self, twiml: str) -> SchemaVerdict:
        if self.path is None:
            return SchemaVerdict(checked=False, valid=False, reason="unchecked: schema not found")
        schema = _load(self.path)
        errors = list(schema.iter_errors(twiml))
        if not errors:
            return SchemaVerdict(checked=True, valid=True)
        return SchemaVerdict(checked=True, valid=False, reason=str(errors[0].reason or errors[0]))
