"""The mentor's side of "ask a mentor", in the browser: the alert appears on their own dashboard
by itself (the live poll), "Join" rings them in after a missed ring, and the alert goes once they
have joined."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import live  # noqa: F401 - the fixture
from tests.support.dashboard import PASSWORD, post_form, sign_in
from tests.support.live import LEE, LINE, ROSTER, SAM, LiveWarmline
from tests.support.screenshots import SCREENSHOTS
from warmline.services.accounts.users import set_password

pytestmark = pytest.mark.browser
CALLER = "+15005550006"


def test_the_mentor_sees_the_alert_and_join_rings_them_into_the_call(
    page: Page, live: LiveWarmline  # noqa: F811 - the imported fixture
) -> None:
    live.import_roster(ROSTER.replace('name: "Lee", phone: "+12125550103"',
                                      'name: "Lee", phone: "+12125550103", mentor: true'))
    with live.runtime.sessions.begin() as session:
        for email in ("sam@example.org", "lee@example.org"):
            set_password(session, email, PASSWORD, actor="test", now=datetime.now(UTC))
    live.peer(SAM)
    live.go_available(live.peer_id("sam@example.org"))
    lee_phone = live.standin.phone(LEE, mode="manual")
    call = live.standin.caller(CALLER, press={"For Substance use recovery": "1"}).dial(LINE)
    assert call.wait_until_bridged(timeout=60) == [SAM]

    page.set_viewport_size({"width": 1000, "height": 900})
    page.goto(f"{live.url}/sign-in")
    page.get_by_label("Email").fill("lee@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live.url}/dashboard")
    expect(page.locator("#mentor-alert")).to_have_count(0)

    # Sam asks from his dashboard; Lee's shows it by itself, and his phone rings.
    sam = live.app.test_client()
    sign_in(sam, "sam@example.org", PASSWORD)
    post_form(sam, "/dashboard/mentor")
    alert = page.locator("#mentor-alert")
    expect(alert).to_contain_text("Sam asks for support on a call", timeout=60_000)
    expect(alert).to_contain_text("Test Warmline")
    expect(page.locator("#mentor-join")).to_be_visible()
    expect(page.locator("#mentor-decline")).to_be_visible()
    assert CALLER not in page.content() and CALLER[-4:] not in page.content()

    # Lee misses that ring; the alert stays his, and "Join" rings him again.
    lee_phone.wait_for_ring(timeout=60).decline()
    expect(page.locator("#mentor-alert-stage")).to_have_count(0, timeout=60_000)
    expect(page.locator("#mentor-join")).to_be_visible()
    page.locator("#mentor-alert").screenshot(path=str(SCREENSHOTS / "dashboard-mentor-alert.png"))
    page.locator("#mentor-join").click()
    expect(page.locator(".notice")).to_contain_text("We're ringing you now", timeout=60_000)
    live.wait_for(lambda: len(lee_phone.rang()) == 2, timeout=60)
    # Answered once the dashboard says it rings (the app knows the new leg by then).
    expect(page.locator("#mentor-alert-stage")).to_contain_text("Your phone is ringing",
                                                                timeout=60_000)
    lee_phone.rang()[1].answer()
    call.wait_until_heard("Another peer has joined this call", timeout=60)
    # Joined: the alert has done its work and goes by itself.
    expect(page.locator("#mentor-alert")).to_have_count(0, timeout=60_000)
    call.hang_up()
