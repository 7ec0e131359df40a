"""Lines and experiences from the admin pages: every roster setting, errors at their fields, audit."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select

from tests.support.admin import (
    field_error,
    load_example,
    post,
    sign_in_admin,
    text,
    textarea_of,
    value_of,
)
from tests.support.dashboard import make_peer, sign_in
from warmline.models import AuditEntry, Experience, Line
from warmline.runtime import Runtime

NEW_LINE = {
    "name": "Night Line", "number": "+12125550150", "timezone": "Europe/London",
    "languages": "en es", "active": "1", "hour_rows": "3",
    "hours-0-days": ["mon", "tue"], "hours-0-open": "18:00", "hours-0-close": "02:00",
    "hours-1-days": [], "hours-1-open": "", "hours-1-close": "",
    "hours-2-days": ["sat"], "hours-2-open": "10:00", "hours-2-close": "16:00",
    "closed_dates": "2026-12-25\n2026-12-26", "crisis_number": "+12125550199",
    "backup_number": "", "max_wait_seconds": "300", "max_call_minutes": "45",
    "daily_contact_limit": "0", "wrap_up_seconds": "120", "retention_days": "30",
    "callbacks": "1", "greeting-en": "Hello from the night line.", "greeting-es": "Hola.",
    "survey": "1", "resources-en": "Resources: example.org. 988 any time.", "resources-es": "",
}


def test_an_admin_creates_a_line_with_every_setting(client: FlaskClient, runtime: Runtime) -> None:
    sign_in_admin(client, runtime)
    response = post(client, "/admin/lines/new", NEW_LINE)
    assert response.status_code == 302
    with runtime.sessions() as session:
        line = session.scalars(select(Line).where(Line.number == "+12125550150")).one()
        assert line.timezone == "Europe/London" and line.languages == ["en", "es"]
        # The blank middle row is dropped; the rows keep their order.
        assert line.hours == [{"days": ["mon", "tue"], "open": "18:00", "close": "02:00"},
                              {"days": ["sat"], "open": "10:00", "close": "16:00"}]
        assert line.closed_dates == ["2026-12-25", "2026-12-26"]
        assert (line.crisis_number, line.backup_number) == ("+12125550199", None)
        assert (line.max_wait_seconds, line.max_call_minutes, line.daily_contact_limit,
                line.wrap_up_seconds, line.retention_days) == (300, 45, 0, 120, 30)
        assert line.callbacks and not line.share_peer_first_name and not line.calls_while_texting
        assert line.greeting == {"en": "Hello from the night line.", "es": "Hola."}
        assert line.survey and line.resources == {"en": "Resources: example.org. 988 any time."}
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "line.create")).one()
        assert entry.actor == "coordinator@example.org" and entry.target == "line +12125550150"


def test_line_errors_are_shown_at_their_fields_and_nothing_typed_is_lost(
    client: FlaskClient, runtime: Runtime
) -> None:
    sign_in_admin(client, runtime)
    bad = {**NEW_LINE, "number": "212-555-0150", "timezone": "Mars/Olympus",
           "max_wait_seconds": "5", "wrap_up_seconds": "lots", "hours-2-open": "25:00",
           "closed_dates": "2026-13-01", "crisis_number": "+12125550150x", "greeting-fr": "Bonjour"}
    response = post(client, "/admin/lines/new", bad)
    page = text(response)
    assert response.status_code == 422
    assert "write the number in E.164 form" in field_error(page, "number") or \
        "not a valid phone number" in field_error(page, "number")
    assert "unknown time zone 'Mars/Olympus'" in field_error(page, "timezone")
    assert "must be from 30 to 3600, got 5" in field_error(page, "max_wait_seconds")
    assert "expected a whole number" in field_error(page, "wrap_up_seconds")
    # The third row of the form (index 2) is the one with the bad time, though row 1 was blank.
    assert "expected a time HH:MM" in field_error(page, "hours-2-open")
    closed = field_error(page, "closed_dates")
    assert "YYYY-MM-DD" in closed or "not a date" in closed
    assert "fr is not one of the line's languages" in field_error(page, "greeting-fr")
    assert 'id="error-summary"' in page
    # What was typed is still there.
    assert value_of(page, "number") == "212-555-0150"
    assert value_of(page, "name") == "Night Line"
    assert value_of(page, "wrap_up_seconds") == "lots"
    assert "Bonjour" in page and "2026-13-01" in page
    with runtime.sessions() as session:
        assert session.scalars(select(Line)).first() is None


def test_editing_a_line_changes_only_that_line_and_is_audited(client: FlaskClient, runtime: Runtime) -> None:
    load_example(runtime)
    sign_in_admin(client, runtime)
    with runtime.sessions() as session:
        line = session.scalars(select(Line)).one()
    page = text(client.get(f"/admin/lines/{line.id}"))
    assert value_of(page, "max_wait_seconds") == "600"
    # The example's after-call settings are on the form, so a save keeps what it does not change.
    assert textarea_of(page, "resources-en").startswith("Peer Warmline resources")
    form = {
        "name": line.name, "number": line.number, "timezone": line.timezone, "languages": "en es",
        "active": "1", "hour_rows": "2", "hours-0-days": [], "hours-0-open": "", "hours-0-close": "",
        "closed_dates": "", "crisis_number": line.crisis_number or "", "backup_number": "",
        "max_wait_seconds": "900", "max_call_minutes": "30", "daily_contact_limit": "3",
        "wrap_up_seconds": "90", "retention_days": "90", "callbacks": "1",
        "greeting-en": "Hi.", "greeting-es": "",
    }
    assert post(client, f"/admin/lines/{line.id}", form).status_code == 302
    with runtime.sessions() as session:
        saved = session.get(Line, line.id)
        assert saved is not None
        assert saved.hours == [] and saved.max_wait_seconds == 900 and saved.backup_number is None
        assert saved.greeting == {"en": "Hi."}
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "line.update")).one()
        assert {"hours", "max_wait_seconds", "backup_number", "greeting", "closed_dates"} <= set(
            entry.detail["changed"])
    audit = text(client.get("/admin/audit"))
    assert "line.update" in audit and "coordinator@example.org" in audit and "max_wait_seconds" in audit


def test_add_another_opening_keeps_what_was_typed(client: FlaskClient, runtime: Runtime) -> None:
    sign_in_admin(client, runtime)
    page = text(post(client, "/admin/lines/new", {**NEW_LINE, "add_hour_row": "1"}))
    assert 'name="hours-3-open"' in page and value_of(page, "hours-2-open") == "10:00"
    assert value_of(page, "hour_rows") == "4"


def test_experiences_swap_digits_in_one_save_and_duplicates_are_refused(
    client: FlaskClient, runtime: Runtime
) -> None:
    load_example(runtime)
    sign_in_admin(client, runtime)
    page = text(client.get("/admin/experiences"))
    rows = {value_of(page, f"experiences-{i}-key"): i for i in range(5)}
    form: dict[str, str | list[str]] = {"rows": "6"}
    for i in range(6):
        for name in ("id", "key", "label", "digit", "keyword", "labels"):
            field = f"experiences-{i}-{name}"
            form[field] = value_of(page, field) if name != "labels" else ""
        if f'id="f-experiences-{i}-active" name="experiences-{i}-active" value="1" checked' in page:
            form[f"experiences-{i}-active"] = "1"
    # Reorder: recovery and survivor swap digits; a new experience is added on the blank row.
    form[f"experiences-{rows['recovery']}-digit"] = "2"
    form[f"experiences-{rows['survivor']}-digit"] = "1"
    form[f"experiences-{rows['recovery']}-labels"] = "es: Recuperación"
    form.update({"experiences-5-key": "youth", "experiences-5-label": "Youth", "experiences-5-digit": "6",
                 "experiences-5-keyword": "youth", "experiences-5-active": "1"})
    assert post(client, "/admin/experiences", form).status_code == 302
    with runtime.sessions() as session:
        found = {e.key: e for e in session.scalars(select(Experience))}
        assert (found["recovery"].digit, found["survivor"].digit) == (2, 1)
        assert found["youth"].keyword == "YOUTH" and found["youth"].active
        assert found["recovery"].labels == {"es": "Recuperación"}
    # A duplicate digit among active ones, and a reserved keyword: shown at the row's fields.
    form[f"experiences-{rows['veteran']}-digit"] = "2"
    form[f"experiences-{rows['lgbtq']}-keyword"] = "STOP"
    form["experiences-5-id"] = ""
    form["experiences-5-key"] = ""
    form["experiences-5-label"] = form["experiences-5-digit"] = form["experiences-5-keyword"] = ""
    response = post(client, "/admin/experiences", form)
    page = text(response)
    assert response.status_code == 422
    assert "2 is already used by experiences" in field_error(page, f"experiences-{rows['veteran']}-digit")
    assert "STOP is reserved" in field_error(page, f"experiences-{rows['lgbtq']}-keyword")
    with runtime.sessions() as session:
        veteran = session.scalars(select(Experience).where(Experience.key == "veteran")).one()
        assert veteran.digit == 4  # nothing of the refused save was written


def test_turning_an_experience_off_frees_its_digit(client: FlaskClient, runtime: Runtime) -> None:
    load_example(runtime)
    sign_in_admin(client, runtime)
    page = text(client.get("/admin/experiences"))
    form: dict[str, str | list[str]] = {"rows": "6"}
    for i in range(5):
        for name in ("id", "key", "label", "digit", "keyword"):
            form[f"experiences-{i}-{name}"] = value_of(page, f"experiences-{i}-{name}")
        form[f"experiences-{i}-labels"] = textarea_of(page, f"experiences-{i}-labels")
        key = form[f"experiences-{i}-key"]
        if key not in {"veteran", "grief"}:
            form[f"experiences-{i}-active"] = "1"
        if key == "grief":
            form[f"experiences-{i}-digit"] = "4"
            form[f"experiences-{i}-active"] = "1"
    assert post(client, "/admin/experiences", form).status_code == 302
    with runtime.sessions() as session:
        found = {e.key: e for e in session.scalars(select(Experience))}
        assert not found["veteran"].active and found["grief"].active and found["grief"].digit == 4
        actions = [a.target for a in session.scalars(select(AuditEntry).where(
            AuditEntry.action == "experience.update"))]
        assert sorted(actions) == ["experience grief", "experience veteran"]


def test_a_peer_cannot_open_admin_pages(client: FlaskClient, runtime: Runtime) -> None:
    make_peer(runtime, "robin@example.org")
    sign_in(client, "robin@example.org")
    for path in ("/admin/lines", "/admin/experiences", "/admin/peers", "/admin/roster", "/admin/board",
                 "/admin/reports", "/admin/audit", "/admin/roster/export"):
        assert client.get(path).status_code == 403, path


def test_admin_pages_need_sign_in(client: FlaskClient, runtime: Runtime) -> None:
    response = client.get("/admin/lines")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


def test_a_language_without_a_catalog_is_refused_with_its_reason(
        client: FlaskClient, runtime: Runtime) -> None:
    sign_in_admin(client, runtime)
    response = post(client, "/admin/lines/new", {**NEW_LINE, "languages": "en cy"})
    assert response.status_code == 422
    assert "no message catalog for &#39;cy&#39;" in response.get_data(as_text=True) or \
        "no message catalog for 'cy'" in response.get_data(as_text=True)
