"""Browser helpers: the example admin, signing in through the real sign-in page."""

from __future__ import annotations

from playwright.sync_api import Page

from tests.support.dashboard import PASSWORD

ADMIN = "coordinator@example.org"


def sign_in_page(
    page: Page, url: str, email: str = ADMIN, password: str = PASSWORD, then: str = "/admin/"
) -> None:
    page.goto(f"{url}/sign-in?next={then}")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
