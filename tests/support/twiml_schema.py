"""Validates voice TwiML against Twilio's schema in ../shared (skipped in a clone without it)."""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def schema_path() -> Path:
    shared = Path(os.environ.get("WARMLINE_SHARED_DIR", REPO_ROOT.parent / "shared"))
    return shared / "twilio" / "twiml-xsd" / "twiml_v20100401_twilioRealtimeCallSchema.xsd"


@functools.cache
def _schema() -> Any:
    import xmlschema

    return xmlschema.XMLSchema(str(schema_path()))


def assert_valid_voice_twiml(document: str) -> None:
    if not schema_path().exists():
        pytest.skip("Twilio's TwiML schema (../shared/twilio) is not beside this clone")
    _schema().validate(document)
