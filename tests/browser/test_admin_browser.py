"""The admin side in headless Chromium: the roster week by hand, an invitation link, axe-core on
every admin page, and every control reached and worked by keyboard."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from tests.support.admin import EXAMPLE_ROSTER, load_example
from tests.support.browser import ADMIN, CHROMIUM, VENDOR, sign_in_page
from tests.support.dashboard import make_peer
from tests.support.screenshots import SCREENSHOTS
from warmline.models import Line, Shift, User
from warmline.runtime import Runtime
from warmline.services.accounts.users import hash_password
from warmline.services.admin.week import week_label

pytestmark = pytest.mark.browser
ZONE = ZoneInfo("America/New_York")
RANK = {"gap": 0, "thin": 1, "ok": 2}


@pytest.fixture
def desk(browser: Browser) -> Iterator[Page]:
    """A desktop-sized page: a coordinator plans the roster at a desk."""
    assert CHROMIUM
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()


def _seed(runtime: Runtime) -> int:
    load_example(runtime)
    make_peer(runtime, ADMIN, name="Casey Coordinator", role="admin", phone="+15005550999")
    with runtime.sessions() as session:
        return session.scalars(select(Line.id)).one()


def _cell(page: Page, day: date, hour: int) -> str:
    cell = page.locator(f'td[data-day="{day.isoformat()}"][data-hour="{hour}"]')
    classes = cell.get_attribute("class") or ""
    found = re.search(r"cov-(\w+)", classes)
    assert found
    return found.group(1)


def test_an_admin_builds_the_week_and_the_peer_sees_the_new_shift(
    desk: Page, live_url: str, runtime: Runtime
) -> None:
    page = desk
    line_id = _seed(runtime)
    today = datetime.now(UTC).astimezone(ZONE).date()
    week = week_label(today - timedelta(days=today.weekday()))
    sign_in_page(page, live_url)
    page.goto(f"{live_url}/admin/roster?line={line_id}&week={week}")
    before = _cell(page, today, 11)

    # A recurring shift from the simple controls: Lee, every day 10:00-14:00 from today.
    page.locator("#new-shift").click()
    page.get_by_label("Peer").select_option("lee@example.org")
    page.get_by_label("First date").fill(today.isoformat())
    page.get_by_label("Starts").fill("10:00")
    page.get_by_label("Ends").fill("14:00")
    page.get_by_label("Every day").check()
    page.locator("#save-shift").click()
    expect(page.locator(".notice")).to_contain_text("Shift saved")
    after = _cell(page, today, 11)
    assert RANK[after] > RANK[before] or before == "ok" == after
    with runtime.sessions() as session:
        start = datetime.combine(today, datetime.min.time()).replace(hour=10)
        lee_shift = session.scalars(select(Shift.id).where(Shift.rrule == "FREQ=DAILY",
                                                           Shift.start_local == start)).one()

    # Skip today's date of it: coverage goes back.
    today_column = page.locator(f"#day-{today.isoformat()}").locator("..")
    lee_today = today_column.locator(f'li[data-shift="{lee_shift}"]')
    lee_today.get_by_role("button", name=re.compile("^Skip")).click()
    expect(page.locator(".notice")).to_contain_text("Skipped")
    assert _cell(page, today, 11) == before
    expect(today_column.locator(f'li[data-shift="{lee_shift}"]')).to_contain_text("skipped")

    # A cover on next Monday: Ana takes Lee's shift, and Lee's date is skipped (a swap).
    page.locator("#next-week").click()
    monday = today - timedelta(days=today.weekday()) + timedelta(days=7)
    monday_column = page.locator(f"#day-{monday.isoformat()}").locator("..")
    monday_shift = monday_column.locator(f'li[data-shift="{lee_shift}"]')
    monday_shift.get_by_role("link", name=re.compile("^Cover")).click()
    expect(page.locator("#cover-note")).to_be_visible()
    page.get_by_label("Peer").select_option("ana@example.org")
    page.locator("#save-shift").click()
    expect(page.locator(".notice")).to_contain_text("Shift saved")
    monday_column = page.locator(f"#day-{monday.isoformat()}").locator("..")
    expect(monday_column).to_contain_text("Ana")
    expect(monday_column.locator(f'li[data-shift="{lee_shift}"]')).to_contain_text("skipped")
    # The README's picture: the example roster's first full week, with these changes in it.
    page.goto(f"{live_url}/admin/roster?line={line_id}&week=2026-W50")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "admin-roster-week.png"), full_page=True)

    # Importing a roster with an error shows it at its path, and nothing changes.
    page.locator("#import-roster").click()
    broken = EXAMPLE_ROSTER.read_text().replace('"+12125550101"', '"0101"')
    page.get_by_label("…or paste its text").fill(broken)
    page.locator("#import-submit").click()
    expect(page.locator("#import-errors")).to_contain_text("peers[0].phone")
    expect(page.locator("#import-errors")).to_contain_text("Nothing was imported")

    # The peer concerned sees the new shift on their own page.
    with runtime.sessions.begin() as session:
        user = session.scalars(select(User).where(User.email == "lee@example.org")).one()
        user.password_hash = hash_password("lee's passphrase")
    lee = page.context.browser.new_context()  # type: ignore[union-attr]
    try:
        lee_page = lee.new_page()
        sign_in_page(lee_page, live_url, "lee@example.org", "lee's passphrase", then="/dashboard")
        tomorrow = today + timedelta(days=1)
        expect(lee_page.locator("ul.shifts")).to_contain_text(f"{tomorrow:%a %d %b}, 10:00–14:00")
    finally:
        lee.close()


def test_an_invited_peer_sets_a_password_through_the_link(
    desk: Page, live_url: str, runtime: Runtime
) -> None:
    page = desk
    _seed(runtime)
    sign_in_page(page, live_url, then="/admin/peers")
    page.locator("#invite-peer").click()
    page.get_by_label("Email").fill("jo@example.org")
    page.get_by_label("Name").fill("Jo Peer")
    page.get_by_label("Phone (E.164)").fill("+12125550177")
    page.get_by_label("Substance use recovery").check()
    page.locator("#save-peer").click()
    link = page.locator("#invite-link").input_value()
    assert link.startswith(live_url + "/invite/")
    other = page.context.browser.new_context()  # type: ignore[union-attr]
    try:
        jo = other.new_page()
        jo.goto(link)
        expect(jo.locator("h1")).to_have_text("Set your password")
        jo.get_by_label("New password").fill("a long passphrase")
        jo.get_by_label("The same password again").fill("a long passphrase")
        jo.locator("#set-password").click()
        expect(jo.locator(".notice")).to_contain_text("Your password is set")
        jo.get_by_label("Email").fill("jo@example.org")
        jo.get_by_label("Password").fill("a long passphrase")
        jo.get_by_role("button", name="Sign in").click()
        jo.wait_for_url(f"{live_url}/dashboard")
        jo.goto(link)
        expect(jo.locator("#invite-spent")).to_be_visible()
    finally:
        other.close()


def _admin_pages(runtime: Runtime, line_id: int) -> list[str]:
    with runtime.sessions() as session:
        shift_id = session.scalars(select(Shift.id)).first()
        peer_id = session.scalars(select(User.peer_id).where(User.email == "sam@example.org")).one()
    return ["/admin/board", f"/admin/roster?line={line_id}&week=2026-W50", "/admin/lines",
            f"/admin/lines/{line_id}", "/admin/lines/new", "/admin/experiences", "/admin/peers",
            f"/admin/peers/{peer_id}", "/admin/peers/new", f"/admin/roster/lines/{line_id}/shifts/{shift_id}",
            f"/admin/roster/lines/{line_id}/shifts/new", "/admin/roster/import", "/admin/reports",
            "/admin/audit"]


def _axe_violations(page: Page) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(VENDOR / "axe.min.js"))
    result: dict[str, Any] = page.evaluate("async () => await axe.run(document)")
    return [{"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:3]}
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


def test_the_admin_pages_have_no_serious_accessibility_violations(
    axe_page: Page, live_url: str, runtime: Runtime
) -> None:
    line_id = _seed(runtime)
    sign_in_page(axe_page, live_url)
    found: dict[str, list[dict[str, Any]]] = {}
    for path in _admin_pages(runtime, line_id):
        axe_page.goto(live_url + path)
        if violations := _axe_violations(axe_page):
            found[path] = violations
    # Refused forms too: errors at their fields must be announced properly.
    axe_page.goto(f"{live_url}/admin/lines/{line_id}")
    axe_page.get_by_label("Longest wait (seconds)").fill("5")
    axe_page.locator("#save-line").click()
    expect(axe_page.locator("#error-summary")).to_be_visible()
    if violations := _axe_violations(axe_page):
        found["line form with errors"] = violations
    axe_page.goto(f"{live_url}/admin/roster/import")
    axe_page.get_by_label("…or paste its text").fill("version: 2\n")
    axe_page.locator("#import-submit").click()
    if violations := _axe_violations(axe_page):
        found["import with errors"] = violations
    assert found == {}, json.dumps(found, indent=1)


_CONTROLS = "a[href], button, input:not([type=hidden]):not([hidden]), select, textarea, summary"


def test_every_admin_control_is_reached_by_keyboard(page: Page, live_url: str, runtime: Runtime) -> None:
    line_id = _seed(runtime)
    sign_in_page(page, live_url)
    for path in _admin_pages(runtime, line_id):
        page.goto(live_url + path)
        # A radio group is one stop for Tab (arrows choose within it), as browsers define it.
        wanted = page.evaluate(
            """(sel) => { const seen = new Set();
                 Array.from(document.querySelectorAll(sel))
                   .filter(e => e.offsetParent !== null || e.tagName === 'SUMMARY')
                   .forEach(e => seen.add(e.type === 'radio' ? 'radio:' + e.name : e));
                 return seen.size; }""", _CONTROLS)
        reached: set[str] = set()
        for _ in range(wanted * 2 + 10):
            page.keyboard.press("Tab")
            key = page.evaluate(
                """(sel) => { const e = document.activeElement; if (!e || !e.matches(sel)) return null;
                     if (!e.dataset.kbd) { e.dataset.kbd = e.type === 'radio' ? 'radio:' + e.name
                                                                       : String(Math.random()); }
                     const outline = getComputedStyle(e).outlineStyle;
                     return e.dataset.kbd + '|' + e.outerHTML.slice(0, 80) + '|' + outline; }""", _CONTROLS)
            if key:
                assert not key.endswith("|none"), f"focus not visible on {path}: {key}"
                reached.add(key.split("|")[0])
        assert len(reached) >= wanted, f"{path}: {len(reached)} of {wanted} controls reached by Tab"


def test_a_shift_is_made_and_skipped_by_keyboard_alone(page: Page, live_url: str, runtime: Runtime) -> None:
    line_id = _seed(runtime)
    sign_in_page(page, live_url)
    page.goto(f"{live_url}/admin/roster?line={line_id}&week=2026-W50")

    def tab_to(selector: str) -> None:
        for _ in range(400):
            page.keyboard.press("Tab")
            if page.evaluate("(s) => document.activeElement === document.querySelector(s)", selector):
                return
        raise AssertionError(f"{selector} cannot be reached with Tab")

    tab_to("#new-shift")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/shifts/new.*"))
    tab_to("#f-peer")
    page.keyboard.press("ArrowDown")  # the first peer
    tab_to("#f-start_date")
    page.keyboard.type("12092026")  # Chromium's date field takes month, day, year as typed
    tab_to("#f-start_time")
    page.keyboard.type("0700AM")
    tab_to("#f-end_time")
    page.keyboard.type("0800AM")
    tab_to("#f-repeat-weekly")
    tab_to("#f-weekly_days-WE")
    page.keyboard.press("Space")
    tab_to("#save-shift")
    page.keyboard.press("Enter")
    expect(page.locator(".notice")).to_contain_text("Shift saved")
    with runtime.sessions() as session:
        made = session.scalars(select(Shift).where(Shift.rrule == "FREQ=WEEKLY;BYDAY=WE")).one()
        assert made.start_local == datetime(2026, 12, 9, 7, 0)
    button = f'li[data-shift="{made.id}"] button'
    tab_to(button)
    page.keyboard.press("Enter")
    expect(page.locator(".notice")).to_contain_text("Skipped")
