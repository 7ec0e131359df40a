"""The web chat widget in headless Chromium, embedded on a sample page of another origin under a
strict CSP: a chatter picks an experience, a peer accepts in the dashboard, messages flow both
ways in order, the chatter's connection drops and resumes without loss or repeats, axe finds
nothing serious, a phone-width screenshot, and "end and delete" leaves no trace."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import live, world  # noqa: F401 - the fixtures
from tests.support.browser import PHONE_HEIGHT, PHONE_WIDTH, VENDOR
from tests.support.dashboard import PASSWORD
from tests.support.privacy import assert_absent, redis_dump, sql_dump
from tests.support.screenshots import SCREENSHOTS
from tests.support.text_world import LINE_NAME, LINE_NUMBER, TextWorld, new_number
from warmline.models import Line

pytestmark = pytest.mark.browser

SAMPLE_PAGE = """<!doctype html>
<html lang="{lang}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Peer Warmline NYC</title></head>
<body><main>
<h1>Peer Warmline NYC</h1>
<p>Talk with someone who has been there. Call, text, or chat with us here.</p>
<script src="{app}/chat/widget.js" data-line="{line}" defer></script>
</main></body></html>
"""


class SamplePage:
    """An organisation's site on its own origin, with a strict CSP naming only the app."""

    def __init__(self, app_url: str, lang: str = "en") -> None:
        page = SAMPLE_PAGE.format(app=app_url, line=LINE_NUMBER, lang=lang).encode()
        axe = (VENDOR / "axe.min.js").read_bytes()
        policy = (f"default-src 'self'; script-src 'self' {app_url}; style-src 'self' {app_url}; "
                  f"connect-src {app_url}; img-src 'self'; object-src 'none'; base-uri 'none'")

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body, kind = (axe, "text/javascript") if self.path == "/axe.min.js" \
                    else (page, "text/html; charset=utf-8")
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Security-Policy", policy)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=60)


@pytest.fixture
def sample(world: TextWorld) -> Iterator[SamplePage]:  # noqa: F811 - the fixture
    site = SamplePage(world.url)
    with world.runtime.sessions.begin() as session:
        line = session.get(Line, world.line_id)
        assert line is not None
        line.chat_origins = [site.url]
    yield site
    site.close()


def _pages(browser: Browser) -> Iterator[tuple[Page, Page]]:
    peer_context = browser.new_context(viewport={"width": 1100, "height": 900})
    chat_context = browser.new_context(viewport={"width": PHONE_WIDTH, "height": PHONE_HEIGHT})
    yield peer_context.new_page(), chat_context.new_page()
    chat_context.close()
    peer_context.close()


@pytest.fixture
def pages(browser: Browser) -> Iterator[tuple[Page, Page]]:
    yield from _pages(browser)


def _sign_in_available(page: Page, url: str) -> None:
    page.goto(f"{url}/sign-in")
    page.get_by_label("Email").fill("ria@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{url}/dashboard")
    page.locator("#presence-available").click()
    expect(page.locator("#presence-status")).to_have_text("You're available")


def _axe_serious(page: Page, site: SamplePage) -> list[dict[str, Any]]:
    page.add_script_tag(url=f"{site.url}/axe.min.js")  # the page's own origin: its CSP allows it
    result: dict[str, Any] = page.evaluate(
        "async () => await axe.run(document.querySelector('.wl-chat'))")
    return [v for v in result["violations"] if v["impact"] in ("serious", "critical")]


def _chat_log(page: Page) -> list[str]:
    texts: list[str] = page.locator(".wl-chat .wl-messages .wl-msg").all_inner_texts()
    return [" ".join(t.split()) for t in texts]


def test_a_chatter_on_another_site_reaches_a_peer_and_nothing_is_lost_or_kept(
        pages: tuple[Page, Page], world: TextWorld, sample: SamplePage,  # noqa: F811
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    peer, chatter = pages
    blocked: list[str] = []
    chatter.on("console", lambda m: blocked.append(m.text)
               if "Content Security Policy" in m.text else None)
    world.add_peer("ria", phone=new_number(), experiences=("recovery",))
    _sign_in_available(peer, world.url)

    chatter.goto(sample.url)
    widget = chatter.locator(".wl-chat")
    expect(widget.locator(".wl-first-words")).to_contain_text("not a crisis line")
    expect(widget.locator(".wl-first-words")).to_contain_text("988")
    expect(widget.get_by_role("button", name="Anyone who's free")).to_be_visible()
    assert _axe_serious(chatter, sample) == []
    choice = widget.get_by_role("button", name="recovery")
    choice.focus()
    chatter.keyboard.press("Enter")  # the keyboard alone is enough
    expect(widget.locator(".wl-status")).to_contain_text("Waiting for a peer", timeout=60_000)
    assert widget.locator(".wl-messages").get_attribute("aria-live") == "polite"

    offer = peer.locator(".text-offer")
    expect(offer.locator(".channel-chat")).to_have_text("chat", timeout=60_000)
    offer.get_by_role("button", name="Accept chat").click()
    thread = peer.locator(".thread")
    expect(thread.locator(".channel-chat")).to_be_visible(timeout=60_000)
    expect(widget.locator(".wl-messages")).to_contain_text("has joined", timeout=60_000)
    expect(widget.locator(".wl-status")).to_have_text("A peer is with you.", timeout=60_000)

    box = widget.get_by_label("Your message")
    box.fill("hi, it's hard to talk out loud here")
    box.press("Enter")
    expect(thread.locator(".msg.in .body")).to_have_text(
        ["hi, it's hard to talk out loud here"], timeout=60_000)
    thread.get_by_label("Your reply").fill("That's OK, we can write. I'm here.")
    thread.get_by_role("button", name="Send").click()
    expect(widget.locator(".wl-from-peer").last).to_contain_text("I'm here.", timeout=60_000)

    # The connection drops: the widget says so, keeps what the chatter writes, and on return
    # fetches exactly what it missed.
    chatter.context.set_offline(True)
    expect(widget.locator(".wl-status")).to_contain_text("Reconnecting", timeout=60_000)
    box.fill("are you still there?")
    box.press("Enter")
    for reply in ("Still here.", "Take your time."):
        thread.get_by_label("Your reply").fill(reply)
        thread.get_by_role("button", name="Send").click()
        expect(thread.locator(".msg.out .body").last).to_have_text(reply, timeout=60_000)
    chatter.context.set_offline(False)
    expect(widget.locator(".wl-from-you").last).to_contain_text("are you still there?",
                                                               timeout=60_000)
    expect(thread.locator(".msg.in .body")).to_have_text(
        ["hi, it's hard to talk out loud here", "are you still there?"], timeout=60_000)
    expect(widget.locator(".wl-from-you")).to_have_count(2, timeout=60_000)
    # In the conversation's order: the peer's two replies were kept while the chatter was
    # away, and the chatter's message was kept when it could be sent, once.
    said = [m for m in _chat_log(chatter) if m.startswith(("You:", "Peer:"))]
    assert said == [
        "You: hi, it's hard to talk out loud here", "Peer: That's OK, we can write. I'm here.",
        "Peer: Still here.", "Peer: Take your time.", "You: are you still there?"]
    expect(widget.locator(".wl-status")).to_have_text("A peer is with you.", timeout=60_000)

    assert _axe_serious(chatter, sample) == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    chatter.screenshot(path=str(SCREENSHOTS / "chat-widget.png"), full_page=True)
    width = chatter.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE_WIDTH  # nothing wider than the phone
    assert chatter.context.cookies() == []
    assert blocked == []  # the strict CSP blocked nothing

    widget.get_by_role("button", name="End and delete").click()
    expect(widget.locator(".wl-status")).to_contain_text("has been deleted", timeout=60_000)
    expect(thread).to_have_count(0, timeout=60_000)
    assert chatter.evaluate("() => window.sessionStorage.length") == 0
    world.run_jobs()
    needles = ["hard to talk out loud", "are you still there", "we can write", "Still here.",
               "Take your time."]
    assert_absent(redis_dump(world.runtime, decrypt=True), needles, "Redis")
    assert_absent(sql_dump(world.runtime), needles, "SQL")
    assert_absent(caplog.text, [*needles, "HeadlessChrome"], "the logs")


def test_the_widget_speaks_the_pages_language_with_a_switch(
        pages: tuple[Page, Page], world: TextWorld) -> None:  # noqa: F811 - the fixture
    site = SamplePage(world.url, lang="es")
    try:
        with world.runtime.sessions.begin() as session:
            line = session.get(Line, world.line_id)
            assert line is not None
            line.chat_origins = [site.url]
            line.languages = ["en", "es"]
        _, chatter = pages
        chatter.goto(site.url)
        widget = chatter.locator(".wl-chat")
        expect(widget.get_by_role("button", name="Cualquiera que esté libre")).to_be_visible(
            timeout=60_000)
        expect(widget.locator(".wl-title")).to_have_text(f"Chat con {LINE_NAME}")
        expect(widget.locator(".wl-first-words")).to_contain_text("no una línea de crisis")
        assert widget.get_attribute("lang") == "es"
        assert _axe_serious(chatter, site) == []
        # The line offers two languages: the chatter may switch before starting.
        widget.get_by_label("Idioma").select_option("en")
        expect(widget.get_by_role("button", name="Anyone who's free")).to_be_visible(timeout=60_000)
        expect(widget.get_by_label("Language")).to_be_visible()
        widget.get_by_label("Language").select_option("es")
        widget.get_by_role("button", name="Cualquiera que esté libre").click()
        expect(widget.locator(".wl-status")).to_have_text(
            "Esperando a un compañero. Puede escribir mientras espera.", timeout=60_000)
        expect(widget.get_by_label("Idioma")).to_be_hidden()  # a started chat keeps its language
        expect(widget.get_by_role("button", name="Terminar y borrar")).to_be_visible()
    finally:
        site.close()


def test_text_me_instead_with_consent(
        pages: tuple[Page, Page], world: TextWorld, sample: SamplePage) -> None:  # noqa: F811
    _, chatter = pages
    number = new_number()
    phone = world.texter(number)
    chatter.goto(sample.url)
    widget = chatter.locator(".wl-chat")
    widget.locator(".wl-text-me summary").click()
    widget.get_by_label("Your phone number").fill(number)
    widget.get_by_role("button", name="Text me", exact=True).click()
    expect(widget.locator(".wl-status")).to_contain_text("Tick the box", timeout=60_000)
    widget.get_by_label(f"{LINE_NAME} may text me at this number").check()
    widget.get_by_role("button", name="Text me", exact=True).click()
    expect(widget.locator(".wl-status")).to_have_text("We'll text you at that number.",
                                                      timeout=60_000)
    world.wait_text(phone, "peer support by text, not a crisis line")
    assert _axe_serious(chatter, sample) == []
