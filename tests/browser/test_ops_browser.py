"""The pages of a line's week in headless Chromium, with axe-core: the live board with alerts
(coverage gap, flood, drop-in ask, recent contacts to block), blocks, hours; the peer's
dashboard at the back-to-back limit with open shifts, and their own hours. Screenshots for the
README come from here."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import update

from tests.support.browser import VENDOR
from tests.support.dashboard import PASSWORD, make_line, make_peer
from tests.support.screenshots import SCREENSHOTS
from warmline.clock import utc_now
from warmline.domain.matching import ContactView
from warmline.models import Block, Contact, Line, Shift
from warmline.runtime import Runtime
from warmline.services import routing
from warmline.services.admin.coverage import send_coverage_gap_notices
from warmline.services.admin.notices import NoticeKind, post_notice
from warmline.services.notifications import LoggingNotifier
from warmline.services.peers import drop_ins, open_shifts

pytestmark = pytest.mark.browser
ADMIN = "casey@example.org"


@pytest.fixture
def desk(browser: Browser) -> Iterator[Page]:
    """Desktop-sized, with the CSP bypassed only so that axe-core can be injected."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = context.new_page()
    yield page
    context.close()


def _axe_violations(page: Page) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(VENDOR / "axe.min.js"))
    result: dict[str, Any] = page.evaluate("async () => await axe.run(document)")
    return [{"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:3]}
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


def _sign_in(page: Page, url: str, email: str) -> None:
    page.goto(f"{url}/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def _seed(runtime: Runtime) -> tuple[int, int, int]:
    """A line with a back-to-back limit of 2; Robin at the limit; Sky off shift, with a Friday
    series she offered up; an admin; a block, a recent contact and the board's alerts."""
    line = make_line(runtime)
    now = datetime.now(UTC)
    with runtime.sessions.begin() as session:
        session.execute(update(Line).where(Line.id == line).values(
            back_to_back_limit=2, wrap_up_seconds=0, flood_caller_limit=5))
    robin, _ = make_peer(runtime, "robin@example.org", name="Robin", line_id=line)
    sky, _ = make_peer(runtime, "sky@example.org", name="Sky", phone="+15005550109",
                       line_id=line, on_shift=False)
    make_peer(runtime, ADMIN, name="Casey", role="admin", phone="+15005550999", line_id=line,
              on_shift=False)
    with runtime.sessions.begin() as session:
        start = (now + timedelta(days=3)).replace(tzinfo=None, hour=9, minute=0, second=0,
                                                  microsecond=0)
        shift = Shift(peer_id=sky, line_id=line, start_local=start, end_local=start.time()
                      .replace(hour=13), rrule="FREQ=WEEKLY", skip_dates=[])
        session.add(shift)
        session.flush()
        shift_id = shift.id
        session.add(Block(caller_hash="a" * 64, line_id=line, reason="threats to a peer",
                          created_at=now - timedelta(days=2), expires_at=now + timedelta(days=28)))
        session.add(Contact(id=uuid.uuid4().hex, line_id=line, channel="voice",
                            caller_hash="b" * 64, arrived_at=now - timedelta(minutes=20),
                            ended_at=now - timedelta(minutes=5), outcome="connected"))
    from warmline.services.peers.dashboard import find_shift_standing, sync_peer_into_routing

    sync_peer_into_routing(runtime, robin, find_shift_standing(runtime, robin, now), now)
    routing.set_presence(runtime, robin, routing.Presence.AVAILABLE, utc_now())
    for _ in range(2):
        stamp = utc_now()
        [offer] = routing.contact_arrived(runtime, ContactView(
            uuid.uuid4().hex, line, "voice", None, "en", 0, stamp.timestamp()), stamp).offers
        routing.accept_offer(runtime, offer.offer_id, stamp)
        routing.complete_contact(runtime, offer.contact_id, stamp)
    send_coverage_gap_notices(runtime, now, LoggingNotifier())
    post_notice(runtime.redis, NoticeKind.FLOOD, "Main line: many calls from one caller in 10 "
                "minutes. Callers over the limit are answered kindly.", now, line_id=line)
    asked = drop_ins.ask_to_drop_in(runtime, sky, line, 60, now)
    assert isinstance(asked, int)
    day = (now + timedelta(days=3)).date().isoformat()
    assert isinstance(open_shifts.offer_shift(runtime, sky, shift_id, day, now), int)
    return line, robin, sky


def test_the_new_pages_have_no_serious_accessibility_violations(
    desk: Page, axe_page: Page, live_url: str, runtime: Runtime,
) -> None:
    _seed(runtime)
    found: dict[str, list[dict[str, Any]]] = {}
    _sign_in(desk, live_url, ADMIN)
    expect(desk).to_have_url(f"{live_url}/admin/board")  # the admin home is the live board
    expect(desk.locator("#admin-notices")).to_contain_text("Coverage gap")
    expect(desk.locator("#admin-notices")).to_contain_text("Sky asks to drop in")
    expect(desk.locator("#recent-contacts")).to_contain_text("connected")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    desk.screenshot(path=str(SCREENSHOTS / "admin-board-alerts.png"), full_page=True)
    for path in ("/admin/board", "/admin/blocks", "/admin/reports/hours"):
        desk.goto(live_url + path)
        if violations := _axe_violations(desk):
            found[path] = violations
        if path == "/admin/blocks":
            expect(desk.locator("#blocks")).to_contain_text("threats to a peer")
            desk.screenshot(path=str(SCREENSHOTS / "admin-blocks.png"), full_page=True)
        if path == "/admin/reports/hours":
            desk.screenshot(path=str(SCREENSHOTS / "admin-hours.png"), full_page=True)
    desk.goto(f"{live_url}/admin/board")
    desk.locator("details.block-contact summary").first.click()
    if violations := _axe_violations(desk):
        found["board with a block form open"] = violations

    _sign_in(axe_page, live_url, "robin@example.org")
    expect(axe_page.locator("#rest-due")).to_contain_text("2 people in a row")
    expect(axe_page.locator("#open-shifts")).to_contain_text("offered by Sky")
    axe_page.screenshot(path=str(SCREENSHOTS / "peer-rest-and-open-shifts.png"), full_page=True)
    if violations := _axe_violations(axe_page):
        found["/dashboard (rest due, open shifts)"] = violations
    axe_page.goto(f"{live_url}/dashboard/hours")
    if violations := _axe_violations(axe_page):
        found["/dashboard/hours"] = violations
    axe_page.goto(f"{live_url}/dashboard")
    axe_page.locator("#rest-break").click()
    expect(axe_page.locator("#presence-status")).to_have_text("You're on a break")
    if violations := _axe_violations(axe_page):
        found["/dashboard after the 10-minute break"] = violations
    assert found == {}, json.dumps(found, indent=1)


def test_sky_off_shift_asks_to_drop_in_by_keyboard(
    axe_page: Page, live_url: str, runtime: Runtime,
) -> None:
    _seed(runtime)
    _sign_in(axe_page, live_url, "sky@example.org")
    axe_page.locator("#drop-in-line").focus()
    axe_page.keyboard.press("Tab")
    axe_page.keyboard.press("Tab")
    expect(axe_page.locator("#drop-in-ask")).to_be_focused()
    axe_page.keyboard.press("Enter")
    expect(axe_page.locator(".notice")).to_contain_text("Asked.")
    if violations := _axe_violations(axe_page):
        raise AssertionError(json.dumps(violations, indent=1))
