"""Where the browser tests save their pictures.

Every run takes them (a page that cannot be drawn is a failure), but only a run that asks writes
them over the README's own (`WARMLINE_SCREENSHOTS=docs scripts/test tests/browser tests/e2e/admin`):
otherwise each test run would leave the working tree changed, pictures differing only in a clock.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def screenshot_folder() -> Path:
    folder = DOCS if os.environ.get("WARMLINE_SCREENSHOTS") == "docs" else (
        Path(tempfile.gettempdir()) / "warmline-screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


SCREENSHOTS = screenshot_folder()
