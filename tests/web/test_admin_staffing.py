"""The shift form's what-if through the app: moving a shift is predicted, refused input is shown
at its fields, and nothing is written either way."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from flask.testing import FlaskClient
from sqlalchemy import select

from tests.support.admin import field_error, load_example, post, sign_in_admin, text, value_of
from tests.support.planning import history_events
from warmline.models import AuditEntry, Line, Shift
from warmline.runtime import Runtime

ZONE = ZoneInfo("America/New_York")


def _seed(runtime: Runtime) -> tuple[int, int]:
    """The example roster and four weeks of Thursday mornings: four calls from 10:00."""
    load_example(runtime)
    now = datetime.now(UTC).astimezone(ZONE)
    with runtime.sessions.begin() as session:
        line_id = session.scalars(select(Line.id)).one()
        sam = session.scalars(select(Shift.id).where(Shift.rrule == "FREQ=WEEKLY;BYDAY=TU,TH")).one()
        for week in range(1, 5):
            day = (now - timedelta(weeks=week)).date()
            thursday = datetime.combine(day - timedelta(days=day.weekday() - 3), datetime.min.time(), ZONE)
            for n in range(4):
                arrived = thursday + timedelta(hours=10, minutes=12 * n)
                session.add_all(history_events(line_id, f"t{week}-{n}", arrived, "recovery",
                                        talk_minutes=10, wait_seconds=30))
    return line_id, sam


def _percent(page: str, name: str) -> int:
    found = re.search(rf'id="{name}">(\d+)%<', page)
    assert found, name
    return int(found.group(1))


def test_moving_a_shift_away_from_the_busy_hours_is_predicted_before_saving(
        client: FlaskClient, runtime: Runtime) -> None:
    line_id, sam = _seed(runtime)
    sign_in_admin(client, runtime)
    week = text(client.get(f"/admin/roster?line={line_id}&week=2026-W50"))
    assert 'id="staffing-heading"' in week and 'id="short-count">1<' in week
    # Sam's Tuesday and Thursday mornings moved to the afternoons: nobody on at Thursday 10:00.
    moved = {"peer": "sam@example.org", "start_date": "2026-12-01", "start_time": "14:00",
             "end_time": "18:00", "repeat": "weekly", "weekly_days": ["TU", "TH"], "interval": "1",
             "skip_dates": "2026-12-24", "week": "2026-W50"}
    response = post(client, f"/admin/roster/lines/{line_id}/shifts/{sam}/what-if", moved)
    assert response.status_code == 200
    page = text(response)
    assert "with this shift" in page and "Nothing is saved until you save the shift" in page
    assert _percent(page, "what-if-after") < _percent(page, "what-if-before")
    assert 'value="14:00"' in page  # the form keeps what was typed
    with runtime.sessions() as session:
        shift = session.get(Shift, sam)
        assert shift is not None and shift.start_local.hour == 9
        assert session.scalars(select(AuditEntry).where(AuditEntry.action.like("shift.%"))).all() == []


def test_a_what_if_of_a_broken_form_shows_the_errors_and_predicts_nothing(
        client: FlaskClient, runtime: Runtime) -> None:
    line_id, _ = _seed(runtime)
    sign_in_admin(client, runtime)
    form = {"peer": "sam@example.org", "start_date": "2026-12-10", "start_time": "10:00",
            "end_time": "noon", "repeat": "once"}
    response = post(client, f"/admin/roster/lines/{line_id}/shifts/what-if", form)
    assert response.status_code == 422
    page = text(response)
    assert "expected a time HH:MM" in field_error(page, "end_time")
    assert 'id="what-if"' not in page


def test_the_line_form_shows_and_keeps_the_service_target(client: FlaskClient, runtime: Runtime) -> None:
    load_example(runtime)
    sign_in_admin(client, runtime)
    with runtime.sessions.begin() as session:
        line = session.scalars(select(Line)).one()
        line.target_answer_seconds, line.target_share = 45, 0.9
        line_id, number, name = line.id, line.number, line.name
    page = text(client.get(f"/admin/lines/{line_id}"))
    assert value_of(page, "service_target-answer_within_seconds") == "45"
    assert value_of(page, "service_target-share") == "90"
    form = {"name": name, "number": number, "timezone": "America/New_York", "languages": "en",
            "active": "1", "hour_rows": "0", "max_wait_seconds": "600", "max_call_minutes": "30",
            "daily_contact_limit": "3", "wrap_up_seconds": "90", "retention_days": "90",
            "service_target-answer_within_seconds": "45", "service_target-share": "90"}
    # Saving other settings keeps the target (it is not reset to the default).
    assert post(client, f"/admin/lines/{line_id}", {**form, "wrap_up_seconds": "60"}).status_code == 302
    with runtime.sessions() as session:
        saved = session.get(Line, line_id)
        assert saved is not None and (saved.target_answer_seconds, saved.target_share) == (45, 0.9)
    assert post(client, f"/admin/lines/{line_id}",
                {**form, "service_target-share": "75%"}).status_code == 302
    with runtime.sessions() as session:
        saved = session.get(Line, line_id)
        assert saved is not None and saved.target_share == 0.75
    refused = text(post(client, f"/admin/lines/{line_id}", {**form, "service_target-share": "150",
                                                           "service_target-answer_within_seconds": "0"}))
    assert "a percent above 0 and below 100" in field_error(refused, "service_target-share")
    assert "from 1 to 3600" in field_error(refused, "service_target-answer_within_seconds")
