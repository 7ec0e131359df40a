"""The admin side against the whole system: report figures from calls placed through the stand-in,
and the live board showing a waiting call appear and disappear by itself in headless Chromium."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import func, select

from tests.support.dashboard import PASSWORD, make_admin_without_peer
from tests.support.live import LINE, ROSTER, SAM, LiveWarmline
from tests.support.screenshots import SCREENSHOTS
from warmline.clock import utc_now
from warmline.domain.matching import Presence
from warmline.models import Contact, ContactEvent, Line
from warmline.services import routing
from warmline.services.admin.board import build_board
from warmline.services.admin.reports import PeerLoad, build_report, report_csv
from warmline.services.upkeep.aggregates import aggregate_days

CALLERS = ("+15005550006", "+15005550006", "+15005550007")  # the first caller calls twice
WAITER = "+15005550008"
RECOVERY = {"For Substance use recovery": "1"}


def _waiting(live: LiveWarmline) -> int:
    return len(build_board(live.runtime, datetime.now(UTC)).waiting)


def _run_scenario(live: LiveWarmline) -> int:
    """Three calls answered by Sam (one caller twice), then one caller who gives up waiting."""
    live.import_roster(ROSTER)
    live.peer(SAM)
    sam_id = live.peer_id("sam@example.org")
    live.go_available(sam_id)
    for number in CALLERS:
        call = live.standin.caller(number, press=RECOVERY).dial(LINE)
        assert call.wait_until_bridged(timeout=60) == [SAM]
        # The app has seen the bridge (the peer is busy) before the caller says goodbye.
        live.wait_for(lambda: live.presence(sam_id) == "busy", timeout=60)
        live.wait_for(lambda sid=call.sid: "bridged" in live.event_kinds(sid), timeout=60)
        time.sleep(1.2)  # over a second of conversation: durations are whole seconds of app time
        call.hang_up()
        assert live.outcome_of(call.sid) == "connected", (number, live.event_kinds(call.sid))
        live.wait_for(lambda: live.presence(sam_id) == "available", timeout=60)
    routing.set_presence(live.runtime, sam_id, Presence.BREAK, utc_now())
    return sam_id


def _aggregate(live: LiveWarmline, contacts: int) -> tuple[int, datetime]:
    def all_written() -> bool:
        with live.runtime.sessions() as session:
            ended = session.scalar(select(func.count()).select_from(Contact).where(
                Contact.outcome.is_not(None)))
            bridged = session.scalar(select(func.count()).select_from(ContactEvent).where(
                ContactEvent.kind == "bridged"))
        return ended == contacts and bridged == 3

    live.wait_for(all_written, timeout=60)
    now = datetime.now(UTC)
    with live.runtime.sessions() as session:
        line = session.scalars(select(Line).where(Line.number == LINE)).one()
        line_id, zone = line.id, ZoneInfo(line.timezone)
    today = now.astimezone(zone).date()
    # Yesterday too, should the scenario straddle the line's midnight.
    aggregate_days(live.runtime, line_id, [today - timedelta(days=1), today], now)
    return line_id, now


def test_report_figures_match_a_scenario_with_known_counts(live: LiveWarmline) -> None:
    _run_scenario(live)
    waiter = live.standin.caller(WAITER, press=RECOVERY).dial(LINE)
    live.wait_for(lambda: _waiting(live) == 1, timeout=60)
    waiter.hang_up()
    assert live.outcome_of(waiter.sid) == "abandoned"
    line_id, now = _aggregate(live, contacts=4)
    today = now.astimezone(ZoneInfo("America/New_York")).date()
    report = build_report(live.runtime, line_id, today - timedelta(days=1), today, None)
    assert report is not None
    t = report.totals
    assert (t.offered, t.answered, t.abandoned, t.transfers, t.callbacks) == (4, 3, 1, 0, 0)
    assert t.answer_rate == 0.75 and t.abandon_rate == 0.25
    assert t.repeat_contacts == 1 and t.repeat_share == 0.25
    assert t.answer_seconds_p50 is not None and t.answer_seconds_p90 is not None
    assert t.mean_duration_seconds is not None and t.mean_duration_seconds > 0
    assert sum(n for _, n in report.by_hour) == 4
    assert dict(report.by_experience) == {"Substance use recovery": 4}
    assert report.peer_load == [PeerLoad("Sam", 3, 1.0)]
    assert sum(d.offered for d in report.days) == 4 and sum(d.answered for d in report.days) == 3
    csv_text = report_csv(report)
    assert "offered,4" in csv_text and "answer rate %,75.0" in csv_text and "Sam,3,100.0" in csv_text
    for number in (*CALLERS, WAITER):
        assert number not in csv_text and number[-4:] not in csv_text


@pytest.mark.browser
def test_the_live_board_shows_a_waiting_call_appear_and_disappear_by_itself(
    live: LiveWarmline, browser: Browser
) -> None:
    _run_scenario(live)
    make_admin_without_peer(live.runtime, "coordinator@example.org")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        page.goto(live.url + "/sign-in?next=/admin/board")
        page.fill("#email", "coordinator@example.org")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        expect(page.locator("#waiting-empty")).to_be_visible()
        waiter = live.standin.caller(WAITER, press=RECOVERY).dial(LINE)
        # Nobody reloads the page: the row arrives by the board's own polling.
        row = page.locator("#waiting tr.waiting-row")
        expect(row).to_have_count(1, timeout=60_000)
        expect(row).to_contain_text("Substance use recovery")
        expect(row).to_contain_text("Call")
        expect(page.locator("#board-peers")).to_contain_text("On a break")
        body = page.content()
        assert WAITER not in body and WAITER[-4:] not in body
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "admin-board.png"), full_page=True)
        waiter.hang_up()
        expect(page.locator("#waiting-empty")).to_be_visible(timeout=60_000)
        assert live.outcome_of(waiter.sid) == "abandoned"

        line_id, now = _aggregate(live, contacts=4)
        today = now.astimezone(ZoneInfo("America/New_York")).date()
        page.goto(f"{live.url}/admin/reports?line={line_id}&start={today - timedelta(days=6)}&end={today}")
        expect(page.locator("#fig-offered")).to_have_text("4")
        expect(page.locator("#fig-answered")).to_have_text("3")
        expect(page.locator("#fig-answer-rate")).to_have_text("75.0%")
        expect(page.locator("#fig-abandoned")).to_contain_text("1 (25.0%)")
        expect(page.locator("#peer-load")).to_contain_text("Sam")
        page.screenshot(path=str(SCREENSHOTS / "admin-report.png"), full_page=True)
        with page.expect_download() as download:
            page.click("#report-csv")
        assert "offered,4" in Path(download.value.path()).read_text()
    finally:
        context.close()
