"""The peer dashboard in headless Chromium: sign in, presence, 403, CSRF, keyboard, axe, phone width."""

from __future__ import annotations

import http.server
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import PHONE_WIDTH, VENDOR
from tests.support.dashboard import PASSWORD, make_line, make_peer
from tests.support.screenshots import SCREENSHOTS
from warmline.domain.matching import ContactView, Presence
from warmline.routing.engine import RoutingEngine
from warmline.runtime import Runtime

pytestmark = pytest.mark.browser
EMAIL = "robin@example.org"


def _seed(runtime: Runtime, *, on_shift: bool = True) -> int:
    line = make_line(runtime)
    peer_id, _ = make_peer(runtime, EMAIL, line_id=line, on_shift=on_shift)
    return peer_id


def _sign_in(page: Page, live_url: str, email: str = EMAIL) -> None:
    page.goto(f"{live_url}/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_url}/dashboard")


def test_a_peer_signs_in_goes_available_then_on_break(
    page: Page, live_url: str, runtime: Runtime
) -> None:
    peer_id = _seed(runtime)
    page.goto(f"{live_url}/sign-in")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "sign-in.png"), full_page=True)
    _sign_in(page, live_url)
    engine = RoutingEngine(runtime.redis)
    page.locator("#presence-available").click()
    expect(page.locator("#presence-status")).to_have_text("You're available")
    expect(page.locator("#presence-available")).to_have_attribute("aria-pressed", "true")
    assert engine.presence(peer_id) is Presence.AVAILABLE
    page.screenshot(path=str(SCREENSHOTS / "peer-view.png"), full_page=True)
    page.locator("#presence-break").click()
    expect(page.locator("#presence-status")).to_have_text("You're on a break")
    assert engine.presence(peer_id) is Presence.BREAK
    # On break the peer is not offered anything: a call that arrives now waits.
    now = time.time()
    arrival = engine.arrive(
        ContactView(uuid.uuid4().hex, _line_of(runtime), "voice", None, "en", 0, now), now
    )
    assert arrival.offers == [] and engine.presence(peer_id) is Presence.BREAK


def _line_of(runtime: Runtime) -> int:
    from warmline.models import Line

    with runtime.sessions() as session:
        line = session.query(Line).first()
        assert line is not None
        return line.id


def test_the_live_queue_updates_by_itself(page: Page, live_url: str, runtime: Runtime) -> None:
    _seed(runtime)
    _sign_in(page, live_url)
    expect(page.locator("#queue-empty")).to_be_visible()
    now = time.time()
    RoutingEngine(runtime.redis).arrive(
        ContactView(uuid.uuid4().hex, _line_of(runtime), "sms", None, "en", 0, now - 20), now
    )
    # No reload: the poll brings it in within a few seconds.
    expect(page.locator("table.queue")).to_contain_text("Text", timeout=60_000)
    expect(page.locator("#queue-empty")).to_have_count(0)


def test_available_outside_a_shift_is_refused_clearly(
    page: Page, live_url: str, runtime: Runtime
) -> None:
    _seed(runtime, on_shift=False)
    _sign_in(page, live_url)
    expect(page.locator(".presence .detail")).to_contain_text("You're not on shift. Next shift")
    page.locator("#presence-available").click()
    expect(page.locator("#presence-error")).to_contain_text("you're not on shift right now")


def test_a_peer_gets_403_on_an_admin_page(page: Page, live_url: str, runtime: Runtime) -> None:
    _seed(runtime)
    _sign_in(page, live_url)
    response = page.goto(f"{live_url}/admin/support-alerts")
    assert response is not None and response.status == 403
    expect(page.locator("h1")).to_have_text("Not for this account")


class _EvilPage(http.server.BaseHTTPRequestHandler):
    target = ""

    def do_GET(self) -> None:
        body = (
            "<!doctype html><title>Win a prize</title>"
            f'<form id="f" method="post" action="{self.target}/dashboard/presence">'
            '<input type="hidden" name="presence" value="off"></form>'
            "<script>document.getElementById('f').submit()</script>"
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def evil_url(live_url: str) -> Iterator[str]:
    handler = type("Evil", (_EvilPage,), {"target": live_url})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    # "localhost" vs the app's 127.0.0.1: another site, not just another port.
    yield f"http://localhost:{server.server_port}/"
    server.shutdown()


def test_a_cross_site_form_post_is_refused(
    page: Page, live_url: str, evil_url: str, runtime: Runtime
) -> None:
    peer_id = _seed(runtime)
    _sign_in(page, live_url)
    page.locator("#presence-available").click()
    expect(page.locator("#presence-status")).to_have_text("You're available")
    with page.expect_response(f"{live_url}/dashboard/presence") as posted:
        page.goto(evil_url)
    assert posted.value.status == 400
    assert RoutingEngine(runtime.redis).presence(peer_id) is Presence.AVAILABLE


def test_every_control_works_by_keyboard(page: Page, live_url: str, runtime: Runtime) -> None:
    peer_id = _seed(runtime)
    page.goto(f"{live_url}/sign-in")
    expect(page.locator("#email")).to_be_focused()  # autofocus: type at once
    page.keyboard.type(EMAIL)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_url}/dashboard")
    engine = RoutingEngine(runtime.redis)

    def tab_to(selector: str) -> None:
        for _ in range(40):
            page.keyboard.press("Tab")
            if page.evaluate("(s) => document.activeElement === document.querySelector(s)", selector):
                return
        raise AssertionError(f"{selector} cannot be reached with Tab")

    tab_to("#presence-available")
    page.keyboard.press("Enter")
    expect(page.locator("#presence-status")).to_have_text("You're available")
    assert engine.presence(peer_id) is Presence.AVAILABLE
    tab_to("#presence-break")
    page.keyboard.press("Space")
    expect(page.locator("#presence-status")).to_have_text("You're on a break")
    tab_to("#presence-off")
    page.keyboard.press("Enter")
    expect(page.locator("#presence-status")).to_have_text("You're off")
    tab_to("#need-support")
    page.keyboard.press("Enter")
    expect(page.locator(".notice")).to_contain_text("admins")
    tab_to("#calendar-create")
    page.keyboard.press("Space")
    expect(page.locator("#calendar-link")).to_be_visible()
    tab_to("#calendar-link")
    tab_to("#sign-out-everywhere")
    # Every interactive element shows where focus is.
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    tab_to("#sign-out")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_url}/sign-in")


def test_wrap_up_and_report_abuse_work_by_keyboard(
    page: Page, live_url: str, runtime: Runtime
) -> None:
    from datetime import UTC, datetime

    from warmline.models import Block, Contact

    peer_id = _seed(runtime)
    _sign_in(page, live_url)
    page.locator("#presence-available").click()
    expect(page.locator("#presence-status")).to_have_text("You're available")
    engine = RoutingEngine(runtime.redis)
    contact_id = uuid.uuid4().hex
    with runtime.sessions.begin() as session:
        session.add(Contact(id=contact_id, line_id=_line_of(runtime), channel="voice",
                            caller_hash="ab" * 32, arrived_at=datetime.now(UTC)))
    now = time.time()
    arrival = engine.arrive(ContactView(contact_id, _line_of(runtime), "voice", None, "en", 0, now), now)
    engine.accept(arrival.offers[0].offer_id, now)
    expect(page.locator("#presence-status")).to_have_text("You're with a caller", timeout=60_000)
    page.locator("#report-abuse-open").focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(page.locator("#report-abuse")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator(".notice")).to_contain_text("cannot reach the line for 30 days")
    with runtime.sessions() as session:
        assert session.query(Block).count() == 1
    engine.complete(contact_id, time.time())
    expect(page.locator("#wrap-up-more")).to_be_visible(timeout=60_000)
    page.locator("#wrap-up-more").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#wrap-up-more")).to_be_visible()
    assert engine.presence(peer_id) is Presence.WRAP_UP


def _axe_violations(page: Page) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(VENDOR / "axe.min.js"))
    result: dict[str, Any] = page.evaluate("async () => await axe.run(document)")
    return [v for v in result["violations"] if v["impact"] in ("serious", "critical")]


def test_the_peer_pages_have_no_serious_accessibility_violations(
    axe_page: Page, live_url: str, runtime: Runtime
) -> None:
    _seed(runtime)
    axe_page.goto(f"{live_url}/sign-in")
    assert _axe_violations(axe_page) == []
    _sign_in(axe_page, live_url)
    assert _axe_violations(axe_page) == []
    axe_page.locator("#presence-available").click()
    expect(axe_page.locator("#presence-status")).to_have_text("You're available")
    assert _axe_violations(axe_page) == []
    response = axe_page.goto(f"{live_url}/nowhere")
    assert response is not None


def test_the_page_fits_a_phone_and_loads_no_outside_resource(
    page: Page, live_url: str, runtime: Runtime
) -> None:
    _seed(runtime)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    _sign_in(page, live_url)
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE_WIDTH
    assert all(url.startswith(live_url) for url in requested), requested
    assert not [e for e in errors if "Content Security Policy" in e], errors
    page.screenshot(path=str(SCREENSHOTS / "peer-view-390.png"), full_page=True)
