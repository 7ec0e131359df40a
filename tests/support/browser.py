"""Browser helpers: Debian's Chromium, the phone-sized viewport, the vendored axe-core, the
example admin, signing in through the real sign-in page."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page

from tests.support.dashboard import PASSWORD

CHROMIUM = "/usr/bin/chromium"
VENDOR = Path(__file__).resolve().parents[1] / "browser" / "vendor"
PHONE_WIDTH = 390
PHONE_HEIGHT = 844
ADMIN = "coordinator@example.org"


def sign_in_page(
    page: Page, url: str, email: str = ADMIN, password: str = PASSWORD, then: str = "/admin/"
) -> None:
    page.goto(f"{url}/sign-in?next={then}")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
