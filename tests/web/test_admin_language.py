"""The admin pages, their flashed messages, refusals and JSON errors in the signed-in person's language."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from babel.dates import format_datetime
from flask.testing import FlaskClient
from sqlalchemy import update

from tests.support.admin import ADMIN_EMAIL, field_error, load_example, post, sign_in_admin, text
from tests.support.dashboard import api_csrf, make_line, make_peer, sign_in
from tests.support.workers import add_contact
from warmline.models import User
from warmline.runtime import Runtime

ADMIN_PAGES = ("/admin/board", "/admin/roster", "/admin/lines", "/admin/lines/new", "/admin/experiences",
               "/admin/peers", "/admin/peers/new", "/admin/reports", "/admin/reports/hours",
               "/dashboard/hours", "/admin/blocks", "/admin/audit", "/admin/roster/import")
# Names and commands (the admin, emails, zones, numbers, the CLI) are not the page's words.
NOT_WORDS = re.compile(r"python -m warmline roster import|Warmline|Casey Coordinator|[\w.+-]+@[\w.-]+"
                       r"|America/\w+|\+\d+")
# Words of the English pages that no Spanish or Vietnamese page should still show.
ENGLISH = re.compile(r"\b(the|and|your|you|save|add|show|peers?|lines?|shifts?|nobody|with|this|every|"
                     r"waiting|reports?|blocks?|hours|audit|roster|import|export|download|name|number)\b",
                     re.IGNORECASE)


def _visible(page: str) -> str:
    """What a reader sees: no scripts, styles, tags, or data the roster itself holds."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r"<[^>]+>", " ", page)
    return html.unescape(page)


def _choose(runtime: Runtime, email: str, language: str) -> None:
    with runtime.sessions.begin() as session:
        session.execute(update(User).where(User.email == email).values(language=language))


@pytest.fixture
def spanish_admin(client: FlaskClient, runtime: Runtime) -> FlaskClient:
    sign_in_admin(client, runtime)
    _choose(runtime, ADMIN_EMAIL, "es")
    return client


def _without_names(page: str) -> str:
    return NOT_WORDS.sub(" ", page)


@pytest.mark.parametrize("language", ["es", "vi"])
def test_every_admin_page_is_in_the_admins_language(
        client: FlaskClient, runtime: Runtime, language: str) -> None:
    make_line(runtime, name="Línea Cálida")
    sign_in_admin(client, runtime)
    _choose(runtime, ADMIN_EMAIL, language)
    for path in ADMIN_PAGES:
        response = client.get(path, headers={"Accept-Language": "en"}, follow_redirects=True)
        assert response.status_code == 200, path
        page = response.get_data(as_text=True)
        assert f'<html lang="{language}">' in page, path
        left = ENGLISH.findall(_without_names(_visible(page)))
        assert not left, f"{path}: English left: {sorted(set(left))}"


def test_the_spanish_admin_pages_read_as_spanish(spanish_admin: FlaskClient, runtime: Runtime) -> None:
    load_example(runtime)
    lines = text(spanish_admin.get("/admin/lines"))
    assert "<h1>Líneas</h1>" in lines and "Añadir una línea" in lines
    board = text(spanish_admin.get("/admin/board"))
    for spanish in ("Tablero en vivo", "Piden apoyo", "En espera ahora", "Contactos recientes"):
        assert spanish in board, spanish
    roster = text(spanish_admin.get("/admin/roster"))
    assert "Turnos por día" in roster and "Cobertura por hora" in roster
    # Weekdays of the week view come from the page's locale, not English strftime.
    assert re.search(r"\b(lun|mar|mié|jue|vie|sáb|dom)\b", roster)


def test_flashed_messages_and_refusals_are_in_the_admins_language(
        spanish_admin: FlaskClient, runtime: Runtime) -> None:
    load_example(runtime)
    saved = text(post(spanish_admin, "/admin/experiences", _experiences_form(spanish_admin),
                      follow=True))
    assert "Experiencias guardadas." in saved
    # A refusal made by a service, with a value in it, said in Spanish.
    refused = text(post(spanish_admin, "/admin/blocks/999/extend", {"days": "0"}, follow=True))
    assert "Elija entre 1 y" in refused and "Choose between" not in refused


def _experiences_form(client: FlaskClient) -> dict[str, str | list[str]]:
    page = client.get("/admin/experiences").get_data(as_text=True)
    fields: dict[str, str | list[str]] = {}
    for name, value in re.findall(r'<input[^>]*name="(experiences-[^"]+)"[^>]*value="([^"]*)"', page):
        fields[name] = html.unescape(value)
    for name in re.findall(r'<input type="checkbox"[^>]*name="(experiences-\d+-active)"[^>]*checked', page):
        fields[name] = "1"
    textareas = r'<textarea[^>]*name="(experiences-[^"]+)"[^>]*>(.*?)</textarea>'
    for name, value in re.findall(textareas, page, re.S):
        fields[name] = html.unescape(value)
    rows = re.search(r'name="rows" value="(\d+)"', page)
    assert rows
    fields["rows"] = rows.group(1)
    return fields


def test_the_texts_pane_takes_its_words_from_the_page(client: FlaskClient, runtime: Runtime) -> None:
    line = make_line(runtime)
    make_peer(runtime, "robin@example.org", line_id=line)
    _choose(runtime, "robin@example.org", "es")
    sign_in(client, "robin@example.org")
    page = client.get("/dashboard").get_data(as_text=True)
    block = re.search(r"data-words='([^']*)'", page)
    assert block
    words = json.loads(html.unescape(block.group(1)))
    assert words["accept_text"] == "Aceptar texto" and words["status"]["delivered"] == "entregado"
    assert words["waiting_chat_experience"] == "Alguien espera en el chat ({experience}) en {line}."


def test_json_errors_are_in_the_readers_language(client: FlaskClient, runtime: Runtime) -> None:
    line = make_line(runtime)
    make_peer(runtime, "robin@example.org", line_id=line)
    _choose(runtime, "robin@example.org", "vi")
    sign_in(client, "robin@example.org")
    response = client.post("/api/texts/offers/abc-1/accept", headers={"X-CSRFToken": api_csrf(client)})
    assert response.status_code == 404
    assert response.get_json()["error"] == "Không có lượt giao tin nhắn này cho bạn."



def test_form_errors_are_in_the_admins_language(spanish_admin: FlaskClient) -> None:
    refused = post(spanish_admin, "/admin/lines/new", {
        "name": "", "number": "+12125550199", "timezone": "Mars/Olympus", "languages": "en",
        "max_wait_seconds": "5", "hour_rows": "2"})
    assert refused.status_code == 422
    page = text(refused)
    assert "No se guardó. Corrija lo siguiente:" in page
    assert "debe estar entre 30 y 3600; se recibió 5" in field_error(page, "max_wait_seconds")
    assert "zona horaria desconocida 'Mars/Olympus'" in field_error(page, "timezone")
    for english in ("must be from", "unknown time zone", "must not be empty"):
        assert english not in page, english


@pytest.mark.parametrize("language", ["es", "vi"])
def test_the_boards_times_name_the_weekday_in_the_admins_language(
        client: FlaskClient, runtime: Runtime, language: str) -> None:
    line_id = make_line(runtime)
    arrived = datetime.now(UTC) - timedelta(minutes=5)
    add_contact(runtime, "CA-weekday", line_id, arrived)
    sign_in_admin(client, runtime)
    _choose(runtime, ADMIN_EMAIL, language)
    board = text(client.get("/admin/board", headers={"Accept-Language": "en"}))
    in_language = format_datetime(arrived, "EEE HH:mm", tzinfo=UTC, locale=language)
    in_english = format_datetime(arrived, "EEE HH:mm", tzinfo=UTC, locale="en")
    assert in_language in board
    assert in_english not in board  # "Thu 14:05" is what strftime printed for every reader


def test_a_board_notice_reads_in_each_admins_language(client: FlaskClient, runtime: Runtime) -> None:
    """A notice is written once, before anyone reads it: each admin reads it in their language."""
    from zoneinfo import ZoneInfo

    from warmline.services.admin.notices import NoticeKind, post_notice
    from warmline.wording import N_, LocalSpan

    post_notice(runtime.redis, NoticeKind.FLOOD,
                N_("%(line)s: many calls from one caller in 10 minutes. Callers over the limit "
                   "are answered kindly.", line="Línea Norte"), datetime.now(UTC))
    # A day and time inside a notice are kept as a time, and written in each admin's language.
    zone = ZoneInfo("America/Chicago")
    span = LocalSpan(datetime(2026, 12, 3, 9, 0, tzinfo=zone), datetime(2026, 12, 3, 13, 0, tzinfo=zone))
    post_notice(runtime.redis, NoticeKind.OPEN_SHIFT,
                N_("%(name)s asks to take an open shift on %(line)s, %(shift)s.",
                   name="Robin", line="Línea Norte", shift=span), datetime.now(UTC))
    sign_in_admin(client, runtime)
    english = text(client.get("/admin/board"))
    assert "Línea Norte: many calls from one caller in 10 minutes." in english
    _choose(runtime, ADMIN_EMAIL, "es")
    spanish = text(client.get("/admin/board"))
    assert "Línea Norte: muchas llamadas de una misma persona en 10 minutos." in spanish
    assert "many calls from one caller" not in spanish
    assert "Robin asks to take an open shift on Línea Norte, Thu 3 Dec, 09:00–13:00." in english
    assert "Thu 3 Dec" not in spanish and "jue" in spanish


def test_roster_file_errors_are_in_the_admins_language(spanish_admin: FlaskClient) -> None:
    from tests.support.admin import EXAMPLE_ROSTER

    broken = EXAMPLE_ROSTER.read_text().replace(
        "experiences: [veteran, recovery]", "experiences: [veteran, astronaut]").replace(
        "    role: admin\n", "    role: admin\n    colour: blue\n")
    response = post(spanish_admin, "/admin/roster/import", {"text": broken})
    page = text(response)
    assert response.status_code == 422
    assert "experiencia desconocida 'astronaut'" in page
    assert "clave desconocida" in page
    for english in ("unknown experience", "unknown key", "not in this file"):
        assert english not in page, english


def test_a_skip_refusal_names_the_day_in_the_admins_language(spanish_admin: FlaskClient,
                                                              runtime: Runtime) -> None:
    from sqlalchemy import select

    from warmline.models import Shift

    load_example(runtime)
    with runtime.sessions() as session:
        series = session.scalars(select(Shift).where(Shift.rrule == "FREQ=WEEKLY;BYDAY=TU,TH")).one().id
    # 2026-12-09 is a Wednesday, a day this Tuesday-and-Thursday series does not have.
    refused = text(post(spanish_admin, f"/admin/roster/shifts/{series}/skip", {"date": "2026-12-09"},
                        follow=True))
    assert re.search(r"Este turno no ocurre el mié\.? 9 dic\.?", refused), refused
    assert "does not happen" not in refused and "Wed" not in refused
