"""A call from the Twilio stand-in, seen from the peer's dashboard: it waits, then is connected."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import live  # noqa: F401 - the fixture
from tests.support.dashboard import PASSWORD
from tests.support.live import LINE, ROSTER, SAM, LiveWarmline
from warmline.services.accounts.users import set_password

pytestmark = pytest.mark.browser
CALLER = "+15005550006"


def test_a_waiting_call_appears_by_itself_and_is_connected_to_the_peer(
    page: Page, live: LiveWarmline  # noqa: F811 - the imported fixture
) -> None:
    live.import_roster(ROSTER)
    with live.runtime.sessions.begin() as session:
        set_password(session, "sam@example.org", PASSWORD, actor="test", now=datetime.now(UTC))
    sam_phone = live.peer(SAM)
    sam_id = live.peer_id("sam@example.org")

    page.goto(f"{live.url}/sign-in")
    page.get_by_label("Email").fill("sam@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live.url}/dashboard")
    # On break first, so the call waits where the peer can see it.
    page.locator("#presence-break").click()
    expect(page.locator("#presence-status")).to_have_text("You're on a break")

    call = live.standin.caller(CALLER, press={"For Substance use recovery": "1"}).dial(LINE)
    queue = page.locator("table.queue")
    expect(queue).to_contain_text("Substance use recovery", timeout=60_000)
    expect(queue).to_contain_text("Call")
    assert sam_phone.rang() == []  # on break: not rung
    assert CALLER not in page.content() and CALLER[-4:] not in page.content()

    page.locator("#presence-available").click()
    assert call.wait_until_bridged(timeout=60) == [SAM]
    expect(page.locator("#presence-status")).to_have_text("You're with a caller", timeout=60_000)
    expect(page.locator("#queue-empty")).to_be_visible()
    assert live.presence(sam_id) == "busy"
    call.hang_up()
