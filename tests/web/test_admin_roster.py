"""The roster week: shifts by day, coverage per hour, recurring shifts, skips, covers, the file."""

from __future__ import annotations

import io
import re
from datetime import date

import yaml
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.support.admin import (
    EXAMPLE_ROSTER,
    field_error,
    load_example,
    post,
    sign_in_admin,
    text,
    value_of,
)
from tests.support.dashboard import form_csrf, sign_in
from warmline.models import AuditEntry, Line, Shift, User
from warmline.runtime import Runtime
from warmline.services.accounts.users import hash_password
from warmline.services.admin.shifts import rule_controls

WEEK = "2026-W50"  # Mon 7 Dec to Sun 13 Dec 2026: the example's shifts all run in it


def _line_id(runtime: Runtime) -> int:
    with runtime.sessions() as session:
        return session.scalars(select(Line.id)).one()


def _cell(page: str, day: str, hour: int) -> str:
    found = re.search(rf'<td class="cov cov-(\w+)" data-day="{day}" data-hour="{hour}"', page)
    assert found, (day, hour)
    return found.group(1)


def _count(page: str, name: str) -> int:
    found = re.search(rf'id="{name}">(\d+)<', page)
    assert found
    return int(found.group(1))


def test_the_week_shows_every_occurrence_in_the_lines_zone_with_coverage(
    client: FlaskClient, runtime: Runtime
) -> None:
    load_example(runtime)
    sign_in_admin(client, runtime)
    page = text(client.get(f"/admin/roster?line={_line_id(runtime)}&week={WEEK}"))
    assert "week 2026-W50" in page and "America/New_York" in page
    # Sam Tue and Thu 09:00-13:00, Ana every day 18:00-01:00 (next day).
    tuesday = page.split('id="day-2026-12-08"')[1].split('class="day-column"')[0]
    assert "09:00–13:00" in tuesday and "Sam" in tuesday
    assert "18:00–01:00" in tuesday and "(next day)" in tuesday
    monday = page.split('id="day-2026-12-07"')[1].split('class="day-column"')[0]
    assert "Sam" not in monday
    # Tue 10:00: open, only Sam -> thin; Mon 10:00: open, nobody -> gap; Tue 19:00 only Ana -> thin;
    # Sat 03:00: closed (weekend hours 10-02).
    assert _cell(page, "2026-12-08", 10) == "thin"
    assert _cell(page, "2026-12-07", 10) == "gap"
    assert _cell(page, "2026-12-08", 19) == "thin"
    assert _cell(page, "2026-12-12", 3) == "closed"
    assert _count(page, "gap-count") > 0


def test_a_recurring_shift_from_simple_controls_changes_coverage_and_is_audited(
    client: FlaskClient, runtime: Runtime
) -> None:
    load_example(runtime)
    sign_in_admin(client, runtime)
    line_id = _line_id(runtime)
    before = text(client.get(f"/admin/roster?line={line_id}&week={WEEK}"))
    form = {"peer": "lee@example.org", "start_date": "2026-12-01", "start_time": "09:00",
            "end_time": "13:00", "repeat": "weekly", "weekly_days": ["MO", "TU"], "interval": "1",
            "until": "", "rrule": "", "skip_dates": "", "note": "", "week": WEEK}
    response = post(client, f"/admin/roster/lines/{line_id}/shifts/new", form)
    assert response.status_code == 302 and "week=2026-W49" in response.headers["Location"]
    after = text(client.get(f"/admin/roster?line={line_id}&week={WEEK}"))
    assert _cell(before, "2026-12-07", 10) == "gap" and _cell(after, "2026-12-07", 10) == "thin"
    assert _cell(before, "2026-12-08", 10) == "thin" and _cell(after, "2026-12-08", 10) == "ok"
    assert _count(after, "gap-count") < _count(before, "gap-count")
    with runtime.sessions() as session:
        shift = session.scalars(select(Shift).where(Shift.rrule == "FREQ=WEEKLY;BYDAY=MO,TU")).one()
        assert shift.peer.email == "lee@example.org"
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "shift.create")).one()
        assert entry.detail["repeat"] == "FREQ=WEEKLY;BYDAY=MO,TU"
        assert entry.actor == "coordinator@example.org"


def test_shift_errors_are_shown_at_their_fields(client: FlaskClient, runtime: Runtime) -> None:
    load_example(runtime)
    sign_in_admin(client, runtime)
    line_id = _line_id(runtime)
    form = {"peer": "", "start_date": "2026-02-30", "start_time": "09:00", "end_time": "9am",
            "repeat": "weekly", "interval": "0", "skip_dates": "2025-01-01", "note": "keep me"}
    page = text(post(client, f"/admin/roster/lines/{line_id}/shifts/new", form))
    assert "choose at least one day" in field_error(page, "weekly_days")
    assert "every 1 to 52" in field_error(page, "interval")
    assert "required" in field_error(page, "peer") or "email" in field_error(page, "peer")
    assert "expected a time HH:MM" in field_error(page, "end_time")
    assert "not a date" in field_error(page, "start_date")
    assert value_of(page, "note") == "keep me" and value_of(page, "end_time") == "9am"
    custom = {**form, "peer": "sam@example.org", "start_date": "2026-12-01", "end_time": "13:00",
              "repeat": "custom", "rrule": "FREQ=HOURLY", "skip_dates": ""}
    page = text(post(client, f"/admin/roster/lines/{line_id}/shifts/new", custom))
    assert field_error(page, "rrule").strip()
    assert value_of(page, "rrule") == "FREQ=HOURLY"
    with runtime.sessions() as session:
        assert len(session.scalars(select(Shift)).all()) == 3


def test_rules_round_trip_through_the_simple_controls() -> None:
    assert rule_controls("FREQ=WEEKLY;BYDAY=TU,TH") == {"interval": ["1"], "repeat": ["weekly"],
                                                         "weekly_days": ["TU", "TH"]}
    assert rule_controls("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO;UNTIL=20270101")["until"] == ["2027-01-01"]
    assert rule_controls("FREQ=MONTHLY;BYDAY=1MO")["monthly_nth"] == ["1"]
    assert rule_controls("FREQ=DAILY")["repeat"] == ["daily"]
    assert rule_controls("FREQ=MONTHLY;BYMONTHDAY=15") == {"repeat": ["custom"],
                                                            "rrule": ["FREQ=MONTHLY;BYMONTHDAY=15"]}
    assert rule_controls(None) == {"repeat": ["once"]}


def test_skip_restore_and_a_cover_that_swaps(client: FlaskClient, runtime: Runtime) -> None:
    load_example(runtime)
    sign_in_admin(client, runtime)
    line_id = _line_id(runtime)
    with runtime.sessions() as session:
        sam_shift = session.scalars(select(Shift).where(Shift.rrule == "FREQ=WEEKLY;BYDAY=TU,TH")).one().id
    url = f"/admin/roster?line={line_id}&week={WEEK}"
    assert _cell(text(client.get(url)), "2026-12-10", 10) == "thin"
    post(client, f"/admin/roster/shifts/{sam_shift}/skip", {"date": "2026-12-10", "line": str(line_id),
                                                             "week": WEEK})
    page = text(client.get(url))
    assert _cell(page, "2026-12-10", 10) == "gap"
    assert "skipped" in page.split('id="day-2026-12-10"')[1].split('class="day-column"')[0]
    # A date the series does not have is refused.
    refused = text(post(client, f"/admin/roster/shifts/{sam_shift}/skip", {"date": "2026-12-09"},
                        follow=True))
    assert "This shift does not happen on Wed 9 Dec." in refused
    post(client, f"/admin/roster/shifts/{sam_shift}/restore", {"date": "2026-12-10"})
    assert _cell(text(client.get(url)), "2026-12-10", 10) == "thin"

    # Cover: from the occurrence's link, a one-off for Ana with "also skip Sam's date" ticked.
    cover_form = text(client.get(f"/admin/roster/lines/{line_id}/shifts/new?week={WEEK}&start_date=2026-12-10"
                                 f"&start_time=09:00&end_time=13:00&cover_shift={sam_shift}&cover_date=2026-12-10"))
    assert value_of(cover_form, "start_date") == "2026-12-10"
    assert 'id="f-repeat-once" name="repeat" value="once" checked' in cover_form
    response = post(client, f"/admin/roster/lines/{line_id}/shifts/new", {
        "peer": "ana@example.org", "start_date": "2026-12-10", "start_time": "09:00", "end_time": "13:00",
        "repeat": "once", "cover_shift": str(sam_shift), "cover_date": "2026-12-10", "skip_covered": "1"})
    assert response.status_code == 302
    page = text(client.get(url))
    thursday = page.split('id="day-2026-12-10"')[1].split('class="day-column"')[0]
    assert "Ana" in thursday and "one-off" in thursday and "skipped" in thursday
    assert _cell(page, "2026-12-10", 10) == "thin"
    with runtime.sessions() as session:
        skipped = session.get(Shift, sam_shift)
        assert skipped is not None and "2026-12-10" in skipped.skip_dates
        actions = [e.action for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert actions[-4:] == ["shift.skip", "shift.restore", "shift.create", "shift.skip"]


def test_editing_times_and_deleting(client: FlaskClient, runtime: Runtime) -> None:
    load_example(runtime)
    sign_in_admin(client, runtime)
    line_id = _line_id(runtime)
    with runtime.sessions() as session:
        shift_id = session.scalars(select(Shift).where(Shift.rrule == "FREQ=WEEKLY;BYDAY=TU,TH")).one().id
    page = text(client.get(f"/admin/roster/lines/{line_id}/shifts/{shift_id}"))
    assert value_of(page, "start_time") == "09:00" and 'value="TU" checked' in page
    form = {"peer": "sam@example.org", "start_date": "2026-12-01", "start_time": "08:00", "end_time": "12:00",
            "repeat": "weekly", "weekly_days": ["TU", "TH"], "interval": "2", "skip_dates": "2026-12-24"}
    assert post(client, f"/admin/roster/lines/{line_id}/shifts/{shift_id}", form).status_code == 302
    with runtime.sessions() as session:
        shift = session.get(Shift, shift_id)
        assert shift is not None and shift.start_local.hour == 8
        assert shift.rrule == "FREQ=WEEKLY;BYDAY=TU,TH;INTERVAL=2"
    assert post(client, f"/admin/roster/shifts/{shift_id}/delete").status_code == 302
    with runtime.sessions() as session:
        assert session.get(Shift, shift_id) is None
        assert session.scalars(select(AuditEntry.action).where(AuditEntry.action == "shift.delete")).one()


def test_import_with_errors_shows_each_at_its_path_and_writes_nothing(
    client: FlaskClient, runtime: Runtime
) -> None:
    sign_in_admin(client, runtime)
    broken = EXAMPLE_ROSTER.read_text().replace('"+12125550101"', '"555-0101"').replace(
        "experiences: [veteran, recovery]", "experiences: [veteran, astronaut]")
    response = client.post("/admin/roster/import", data={
        "csrf_token": form_csrf(client, "/admin/roster/import"),
        "file": (io.BytesIO(broken.encode()), "roster.yaml"), "text": ""},
        content_type="multipart/form-data")
    page = text(response)
    assert response.status_code == 422 and "Nothing was imported" in page
    assert re.search(r'<code class="path">peers\[0\]\.phone</code></td><td>[^<]*E\.164|'
                     r'<code class="path">peers\[0\]\.phone</code></td><td>not a valid', page)
    assert '<code class="path">peers[2].experiences[1]</code></td><td>unknown experience' in page
    with runtime.sessions() as session:
        assert session.scalars(select(Line)).first() is None


def test_import_then_export_from_the_page_round_trips(client: FlaskClient, runtime: Runtime) -> None:
    sign_in_admin(client, runtime)
    response = post(client, "/admin/roster/import", {"text": EXAMPLE_ROSTER.read_text()}, follow=True)
    assert "Roster imported" in text(response)
    exported = client.get("/admin/roster/export")
    assert exported.status_code == 200 and "attachment" in exported.headers["Content-Disposition"]
    data = yaml.safe_load(exported.get_data(as_text=True))
    original = yaml.safe_load(EXAMPLE_ROSTER.read_text())
    # The file's peers, and the signed-in admin made by the test, come back out.
    assert {p["email"] for p in data["peers"]} == {p["email"] for p in original["peers"]} | {
        "coordinator@example.org"}
    assert len(data["shifts"]) == len(original["shifts"])
    with runtime.sessions() as session:
        actions = {e.action: e for e in session.scalars(select(AuditEntry))}
    assert actions["roster.import"].actor == "coordinator@example.org"
    assert "roster.export" in actions


def test_the_peer_concerned_sees_the_new_shift_on_their_page(client: FlaskClient, runtime: Runtime) -> None:
    load_example(runtime)
    sign_in_admin(client, runtime)
    line_id = _line_id(runtime)
    today = date.today()
    form = {"peer": "ana@example.org", "start_date": today.isoformat(), "start_time": "23:15",
            "end_time": "23:45", "repeat": "daily", "interval": "1", "note": "late check-in"}
    assert post(client, f"/admin/roster/lines/{line_id}/shifts/new", form).status_code == 302
    with runtime.sessions.begin() as session:
        user = session.scalars(select(User).where(User.email == "ana@example.org")).one()
        user.password_hash = hash_password("ana's passphrase")
    ana = client.application.test_client()
    sign_in(ana, "ana@example.org", "ana's passphrase")
    assert "23:15" in text(ana.get("/dashboard"))
