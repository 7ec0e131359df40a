"""The roster week's "needed beside scheduled" and the shift form's what-if, in headless Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import func, select

from tests.support.admin import load_example
from tests.support.browser import ADMIN, sign_in_page
from tests.support.dashboard import make_peer
from tests.support.planning import history_events, textbook_peers
from tests.support.screenshots import SCREENSHOTS
from warmline.models import Line, Shift
from warmline.runtime import Runtime

pytestmark = pytest.mark.browser
ZONE = ZoneInfo("America/New_York")
WEEK = "2026-W50"  # the example roster's first full week: Sam works Thursday 10 Dec, 09:00-13:00
THURSDAY = "2026-12-10"


@pytest.fixture
def desk(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()


def _seed_history(runtime: Runtime) -> int:
    """The example roster, and four weeks of Thursdays with four 10-minute calls from 10:00
    (one asking for a veteran) and one call on Wednesdays at 19:00."""
    load_example(runtime)
    make_peer(runtime, ADMIN, name="Casey Coordinator", role="admin", phone="+15005550999")
    now = datetime.now(UTC).astimezone(ZONE)
    with runtime.sessions.begin() as session:
        line_id = session.scalars(select(Line.id)).one()
        for week in range(1, 5):
            day = (now - timedelta(weeks=week)).date()
            thursday = datetime.combine(day - timedelta(days=day.weekday() - 3), datetime.min.time(), ZONE)
            for n in range(4):
                arrived = thursday + timedelta(hours=10, minutes=12 * n)
                session.add_all(history_events(line_id, f"t{week}-{n}", arrived,
                                        "veteran" if n == 0 else "recovery", talk_minutes=10,
                                        wait_seconds=30))
            session.add_all(history_events(line_id, f"w{week}", thursday - timedelta(days=1, hours=-19),
                                    "survivor", talk_minutes=10, wait_seconds=30))
    return line_id


def _need(page: Page, day: str, hour: int) -> tuple[str, str, str]:
    cell = page.locator(f'td[data-need-day="{day}"][data-need-hour="{hour}"]')
    return (cell.get_attribute("class") or "", cell.get_attribute("data-needed") or "",
            cell.get_attribute("data-scheduled") or "")


def test_the_week_shows_needed_beside_scheduled_and_the_what_if_before_saving(
        desk: Page, live_url: str, runtime: Runtime) -> None:
    page = desk
    line_id = _seed_history(runtime)
    sign_in_page(page, live_url)
    page.goto(f"{live_url}/admin/roster?line={line_id}&week={WEEK}")
    expect(page.locator("#staffing-heading")).to_be_visible()
    # Thursday 10:00: four calls an hour of 10 minutes + 90 s wrap-up need Erlang C's peers; Sam alone is on.
    classes, needed, scheduled = _need(page, THURSDAY, 10)
    assert needed == str(textbook_peers(4, 11.5, 60, 0.8)) == "2" and scheduled == "1"
    assert "need-short" in classes
    assert "nobody on shift shares veteran" in (
        page.locator(f'td[data-need-day="{THURSDAY}"][data-need-hour="10"]').get_attribute("title") or "")
    # Wednesday 19:00: one call an hour, Ana on shift: enough, shown green.
    classes, needed, scheduled = _need(page, "2026-12-09", 19)
    assert (needed, scheduled) == ("1", "1") and "need-met" in classes
    assert "need-quiet" in _need(page, "2026-12-09", 12)[0]
    expect(page.locator("#short-count")).not_to_have_text("0")
    before_short = int(page.locator("#short-count").inner_text())
    page.locator("#staffing").screenshot(path=str(SCREENSHOTS / "admin-roster-needed.png"))

    # What-if: Lee added on Thursday 10:00-12:00, predicted before saving.
    with runtime.sessions() as session:
        shifts_before = session.scalar(select(func.count()).select_from(Shift))
    page.locator("#new-shift").click()
    page.get_by_label("Peer").select_option("lee@example.org")
    page.get_by_label("First date").fill(THURSDAY)
    page.get_by_label("Starts").fill("10:00")
    page.get_by_label("Ends").fill("12:00")
    page.get_by_label("Once (a one-off cover)").check()
    page.locator("#predict-shift").click()
    expect(page.locator("#what-if")).to_contain_text("with this shift")
    before = float(page.locator("#what-if-before").inner_text().rstrip("%"))
    after = float(page.locator("#what-if-after").inner_text().rstrip("%"))
    print(f"what-if: {before:.0f}% -> {after:.0f}% answered in time")
    assert after > before
    expect(page.locator("#what-if-short")).to_have_text(f"{before_short} → {before_short - 1}")
    page.locator("#what-if").screenshot(path=str(SCREENSHOTS / "admin-shift-what-if.png"))
    # Nothing was saved by predicting; saving the same form does.
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Shift)) == shifts_before
    page.locator("#save-shift").click()
    expect(page.locator(".notice")).to_contain_text("Shift saved")
    page.goto(f"{live_url}/admin/roster?line={line_id}&week={WEEK}")
    assert _need(page, THURSDAY, 10)[2] == "2"
    assert int(page.locator("#short-count").inner_text()) == before_short - 1
    assert "need-met" in _need(page, THURSDAY, 10)[0]
