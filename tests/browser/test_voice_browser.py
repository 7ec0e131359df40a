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


def test_the_peer_brings_in_the_crisis_line_and_a_mentor_from_the_dashboard(
    page: Page, live: LiveWarmline  # noqa: F811 - the imported fixture
) -> None:
    from tests.support.live import CRISIS, LEE
    from tests.support.screenshots import SCREENSHOTS

    live.import_roster(ROSTER.replace('name: "Lee", phone: "+12125550103"',
                                      'name: "Lee", phone: "+12125550103", mentor: true'))
    with live.runtime.sessions.begin() as session:
        set_password(session, "sam@example.org", PASSWORD, actor="test", now=datetime.now(UTC))
    live.peer(SAM)
    live.go_available(live.peer_id("sam@example.org"))
    call = live.standin.caller(CALLER, press={"For Substance use recovery": "1"}).dial(LINE)
    assert call.wait_until_bridged(timeout=60) == [SAM]
    counselor_phone = live.standin.phone(CRISIS, answer_after=0.5)
    mentor_phone = live.standin.phone(LEE, answer_after=0.5)

    page.set_viewport_size({"width": 1000, "height": 1100})
    page.goto(f"{live.url}/sign-in")
    page.get_by_label("Email").fill("sam@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live.url}/dashboard")
    expect(page.locator("#transfer")).to_contain_text("Ask the caller first")

    # A mentor first: rung in coaching, heard by the peer only, the caller told.
    page.locator("#mentor-ask").click()
    mentor_phone.wait_for_ring(timeout=60)
    call.wait_until_heard("Another peer has joined this call", timeout=60)
    page.reload()
    expect(page.locator("#mentor-stage")).to_contain_text("Only you hear them", timeout=60_000)
    # Then the crisis line, with the caller held while the peer briefs them.
    page.locator("#transfer-crisis").click()
    counselor_phone.wait_for_ring(timeout=60)
    live.wait_for(lambda: CRISIS in call.bridged_with(), timeout=60)
    page.reload()
    expect(page.locator("#transfer-hand-over")).to_be_visible(timeout=60_000)
    page.locator("#transfer-hold").click()
    call.wait_until_heard("hold.wav", timeout=60)
    expect(page.locator("#transfer-stage")).to_contain_text("The caller is on hold")
    page.locator("section.presence").screenshot(
        path=str(SCREENSHOTS / "dashboard-transfer-and-mentor.png"))
    assert CALLER not in page.content() and CALLER[-4:] not in page.content()
    page.locator("#transfer-unhold").click()
    page.locator("#transfer-hand-over").click()
    expect(page.locator(".flash, [role=status]").first).to_be_visible()
    assert live.outcome_of(call.sid) == "transferred_crisis"
    call.hang_up()
