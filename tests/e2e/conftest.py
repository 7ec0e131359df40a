"""End to end: the fixtures over the one harness (tests/support/live.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.live import LiveWarmline, running_warmline
from tests.support.privacy import LogCapture, capture_logs
from tests.support.text_world import TextWorld, text_world


@pytest.fixture
def live(database_url: str, tmp_path: Path) -> Iterator[LiveWarmline]:
    with running_warmline(database_url, tmp_path) as warmline:
        yield warmline
    assert warmline.pump is not None and not warmline.pump.errors, warmline.pump.errors


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[TextWorld]:
    """Texts end to end on the same harness: jobs run only when the test runs them."""
    with running_warmline(database_url, tmp_path, standin_options={"message_delivery_seconds": 0.1},
                          pump=False) as warmline:
        yield text_world(warmline)


@pytest.fixture
def logs() -> Iterator[LogCapture]:
    """Every line the app logs during the test, for the privacy scans."""
    with capture_logs() as capture:
        yield capture
