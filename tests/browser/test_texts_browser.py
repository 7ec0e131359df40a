"""The texts pane in headless Chromium: a waiting text appears by itself, is accepted, answered,
and the answer reaches the stand-in's texter."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import world  # noqa: F401 - the fixture
from tests.support.browser import PHONE_HEIGHT, PHONE_WIDTH
from tests.support.dashboard import PASSWORD
from tests.support.screenshots import SCREENSHOTS
from tests.support.text_world import LINE_NUMBER, TextWorld, new_number

pytestmark = pytest.mark.browser


@pytest.fixture
def texts_page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": PHONE_WIDTH, "height": PHONE_HEIGHT})
    opened = context.new_page()
    yield opened
    context.close()


def test_a_peer_takes_a_text_from_the_dashboard_and_the_reply_reaches_the_texter(
        texts_page: Page, world: TextWorld) -> None:  # noqa: F811 - the fixture
    page = texts_page
    world.add_peer("ria", phone=new_number())
    page.goto(f"{world.url}/sign-in")
    page.get_by_label("Email").fill("ria@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{world.url}/dashboard")
    page.locator("#presence-available").click()
    expect(page.locator("#presence-status")).to_have_text("You're available")
    expect(page.locator("#conversations-empty")).to_be_visible()

    texter = world.texter(new_number())
    texter.text(LINE_NUMBER, "is anyone there tonight?")
    offer = page.locator(".text-offer")
    expect(offer).to_be_visible(timeout=60_000)  # by itself: the pane polls
    offer.get_by_role("button", name="Accept text").click()
    thread = page.locator(".thread")
    expect(thread.locator(".msg.in .body")).to_have_text("is anyone there tonight?",
                                                         timeout=60_000)
    world.wait_text(texter, "has joined")
    thread.get_by_label("Your reply").fill("I'm here. Tell me what's going on.")
    thread.get_by_role("button", name="Send").click()
    world.wait_text(texter, "Tell me what's going on.")
    world.run_jobs()
    mine = thread.locator(".msg.out", has_text="Tell me what's going on.")
    expect(mine.locator('.delivery[data-status="delivered"]')).to_be_visible(timeout=60_000)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "texts-pane.png"), full_page=True)
    assert texter.number not in page.content()
