"""The stand-in's phone page in Chromium: a peer texts ON, a caller dials the demo line, the peer
answers and presses 1, and both sides show the bridge; then three phones in one call (the crisis
line brought in with the caller held, a mentor coaching then joining), each panel saying whom its
phone hears and who hears it. Also the screenshots for the README."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support.bridged import CALLER as CONFERENCE_CALLER
from tests.support.bridged import bridged_call, dashboard_page, sams_dashboard
from tests.support.dashboard import post_form
from tests.support.live import CRISIS, LEE, ROSTER, LiveWarmline, running_warmline
from tests.support.screenshots import SCREENSHOTS
from warmline.simulate.wiring import add_peer_phones

pytestmark = pytest.mark.browser

DEMO_ROSTER = Path(__file__).resolve().parents[2] / "demo" / "roster.yaml"
CALLER = "+12125559001"
SAM = "+12125550101"  # the same peer in the demo roster and in tests/support/live.py
# Slow enough for a person (and a 0.7 s poll) to press keys inside each gather, fast for a test.
SPEED = 3.0
WAIT_MS = 20_000


@pytest.fixture
def demo(database_url: str, tmp_path: Path) -> Iterator[LiveWarmline]:
    with running_warmline(database_url, tmp_path, standin_options={"speed": SPEED}) as live:
        live.import_roster(DEMO_ROSTER.read_text())
        add_peer_phones(live.runtime, live.standin)  # what `standin --configure-lines` does
        yield live
    assert not live.pump.errors, live.pump.errors


@pytest.fixture
def wide_page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert not errors, errors


def test_dial_the_demo_line_answer_as_a_peer_and_see_them_bridged(demo: LiveWarmline,
                                                                   wide_page: Page) -> None:
    page = wide_page
    page.goto(demo.standin.url + "/")
    expect(page.get_by_role("heading", name="Phones on the screen")).to_be_visible()
    expect(page.locator("#line-select")).to_have_value("+12125550100")

    # Sam goes available by texting ON from their registered phone.
    page.locator("#texter-select").select_option(SAM)
    page.locator("#text-body").fill("ON")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#text-log")).to_contain_text("You're available on Demo Peer Warmline",
                                                      timeout=WAIT_MS)

    # A caller dials the line, picks English, then recovery.
    page.locator("#caller-number").fill(CALLER)
    page.get_by_role("button", name="Call the line").click()
    transcript = page.locator("#caller-transcript")
    expect(transcript).to_contain_text("For English, press 1.", timeout=WAIT_MS)
    page.get_by_role("button", name="caller presses 1").click()
    expect(transcript).to_contain_text("For Substance use recovery, press 1.", timeout=WAIT_MS)
    page.get_by_role("button", name="caller presses 1").click()

    # Sam's phone rings on the page; they answer, hear the neutral whisper and press 1.
    page.locator("#peer-select").select_option(SAM)
    expect(page.locator("#peer-status")).to_contain_text("Ringing", timeout=WAIT_MS)
    page.get_by_role("button", name="Answer as the peer").click()
    expect(page.locator("#peer-transcript")).to_contain_text("Warmline call. Press 1 to accept.",
                                                            timeout=WAIT_MS)
    page.get_by_role("button", name="peer presses 1").click()

    expect(page.locator("#caller-status")).to_have_text("Talking with the peer.", timeout=WAIT_MS)
    expect(page.locator("#peer-status")).to_have_text("Talking with the caller.", timeout=WAIT_MS)
    expect(page.locator("#peer-transcript")).to_contain_text("The caller asked for Substance use recovery")
    # The peer's phone showed the line's number, never the caller's, before the bridge.
    assert not re.search(r"a call from \+12125559001", page.locator("#peer-status").inner_text())
    calls = [leg for leg in demo.standin.legs() if leg.phone is not None and leg.phone.number == SAM]
    assert calls and all(leg.from_ == "+12125550100" for leg in calls)

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "standin-phone.png"), full_page=True)

    page.get_by_role("button", name="Hang up as the caller").click()
    expect(page.locator("#caller-status")).to_contain_text("Call ended", timeout=WAIT_MS)
    inbound = next(leg for leg in demo.standin.legs()
                   if leg.phone is not None and leg.phone.number == CALLER)
    assert demo.outcome_of(inbound.sid) == "connected"


def test_the_page_loads_only_its_own_files(demo: LiveWarmline, wide_page: Page) -> None:
    requested: list[str] = []
    wide_page.on("request", lambda request: requested.append(request.url))
    response = wide_page.goto(demo.standin.url + "/")
    assert response is not None
    assert "script-src 'self'" in response.headers["content-security-policy"]
    expect(wide_page.locator(".keypad[data-side=caller] button")).to_have_count(12)
    assert requested and all(url.startswith(demo.standin.url) for url in requested), requested


@pytest.fixture
def conference(database_url: str, tmp_path: Path) -> Iterator[LiveWarmline]:
    """Sam on a call with a caller, Lee a mentor on shift; the page names Sam and Lee."""
    with running_warmline(database_url, tmp_path) as live:
        yield live
    assert live.pump is not None and not live.pump.errors, live.pump.errors


def _watch(page: Page, live: LiveWarmline, third: str) -> None:
    page.goto(live.standin.url + "/")
    page.locator("#caller-number").fill(CONFERENCE_CALLER)
    page.locator("#peer-select").select_option(SAM)
    page.locator("#third-select").select_option(third)


def _panel(page: Page, side: str, status: str, hears: str | None = None,
           heard_by: str | None = None) -> None:
    """What one phone's panel says: its status and, on a live call, whom it hears and who hears it."""
    expect(page.locator(f"#{side}-status")).to_have_text(status, timeout=WAIT_MS)
    if hears is not None:
        expect(page.locator(f"#{side}-hears")).to_have_text(hears, timeout=WAIT_MS)
    if heard_by is not None:
        expect(page.locator(f"#{side}-heard-by")).to_have_text(heard_by, timeout=WAIT_MS)


def test_three_phones_show_the_crisis_line_brought_in_and_the_caller_held(
    conference: LiveWarmline, wide_page: Page,
) -> None:
    live, page = conference, wide_page
    call, _ring, _ = bridged_call(live)
    live.standin.label_phone(SAM, "Sam (peer)")
    live.standin.phone(CRISIS, answer_after=0.5)
    live.standin.label_phone(CRISIS, "Crisis line")
    client = sams_dashboard(live)
    _watch(page, live, CRISIS)
    _panel(page, "caller", "Talking with the peer.", "the peer", "the peer")
    _panel(page, "peer", "Talking with the caller.", "the caller", "the caller")
    _panel(page, "third", "Not ringing.")
    expect(page.locator("#third-mix")).to_be_hidden()

    post_form(client, "/dashboard/transfer", {"target": "crisis"})
    live.wait_for(lambda: 'id="transfer-hand-over"' in dashboard_page(client), timeout=60)
    _panel(page, "third", "Talking with the caller and the peer.")
    _panel(page, "caller", "Talking with the peer and Crisis line.")

    # The peer holds the caller to brief the counselor: the caller hears only music.
    post_form(client, "/dashboard/transfer/hold", {"held": "1"})
    _panel(page, "caller", "On hold: hearing hold music, heard by nobody.", "hold music", "nobody")
    _panel(page, "peer", "Talking with Crisis line.", "Crisis line", "Crisis line")
    _panel(page, "third", "Talking with the peer.", "the peer", "the peer")
    page.screenshot(path=str(SCREENSHOTS / "standin-phones-caller-held.png"), full_page=True)

    post_form(client, "/dashboard/transfer/hold", {"held": "0"})
    _panel(page, "caller", "Talking with the peer and Crisis line.")
    post_form(client, "/dashboard/transfer/hand-over")
    _panel(page, "peer", "Call ended (completed).")
    _panel(page, "caller", "Talking with Crisis line.", "Crisis line", "Crisis line")
    _panel(page, "third", "Talking with the caller.", "the caller", "the caller")
    assert live.outcome_of(call.sid) == "transferred_crisis"


def test_three_phones_show_a_mentor_coaching_the_peer_then_talking_with_the_caller(
    conference: LiveWarmline, wide_page: Page,
) -> None:
    live, page = conference, wide_page
    bridged_call(live, ROSTER.replace('name: "Lee", phone: "+12125550103"',
                                      'name: "Lee", phone: "+12125550103", mentor: true'))
    live.standin.label_phone(SAM, "Sam (peer)")
    live.standin.phone(LEE, answer_after=0.5)
    live.standin.label_phone(LEE, "Lee (mentor)")
    client = sams_dashboard(live)
    _watch(page, live, LEE)

    post_form(client, "/dashboard/mentor")
    # Coaching: the mentor hears both; only the peer hears the mentor.
    _panel(page, "third", "Coaching (heard by the peer only).", "the caller and the peer",
           "the peer")
    _panel(page, "peer", "Talking with the caller and Lee (mentor).")
    _panel(page, "caller", "Talking with the peer. Also heard by Lee (mentor).", "the peer",
           "the peer and Lee (mentor)")
    expect(page.locator("#caller-transcript")).to_contain_text("Another peer has joined this call",
                                                               timeout=WAIT_MS)

    live.wait_for(lambda: 'id="mentor-speak"' in dashboard_page(client), timeout=60)
    post_form(client, "/dashboard/mentor/speak")
    _panel(page, "third", "Talking with the caller and the peer.", "the caller and the peer",
           "the caller and the peer")
    _panel(page, "caller", "Talking with the peer and Lee (mentor).", "the peer and Lee (mentor)",
           "the peer and Lee (mentor)")
