"""Pages in the reader's language: their own setting once signed in, the browser's before."""

from __future__ import annotations

import html
import re

from flask.testing import FlaskClient
from sqlalchemy import select

from tests.support.dashboard import form_csrf, make_line, make_peer, page_text, post_text, sign_in
from warmline.models import User
from warmline.runtime import Runtime


def test_before_sign_in_the_browser_chooses(client: FlaskClient) -> None:
    spanish = client.get("/sign-in", headers={"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"})
    page = html.unescape(spanish.get_data(as_text=True))
    assert '<html lang="es">' in page
    assert "<h1>Iniciar sesión</h1>" in page and "Contraseña" in page
    vietnamese = html.unescape(client.get("/sign-in", headers={"Accept-Language": "vi"})
                               .get_data(as_text=True))
    assert "<h1>Đăng nhập</h1>" in vietnamese
    # A language without a catalog, or none asked for: English.
    for asked in ({"Accept-Language": "fr-FR,fr;q=0.9"}, {}):
        page = html.unescape(client.get("/sign-in", headers=asked).get_data(as_text=True))
        assert '<html lang="en">' in page and "<h1>Sign in</h1>" in page


def test_a_peer_who_chose_spanish_reads_the_dashboard_in_spanish(
        client: FlaskClient, runtime: Runtime) -> None:
    line = make_line(runtime)
    make_peer(runtime, "robin@example.org", line_id=line)
    sign_in(client, "robin@example.org")
    english = page_text(client, "/dashboard")
    assert "Your presence" in english and "Language of these pages" in english

    post_text(client, "/account/language", language="es")
    with runtime.sessions() as session:
        user = session.scalars(select(User).where(User.email == "robin@example.org")).one()
        assert user.language == "es"
    # Their setting wins over the browser's.
    page = html.unescape(client.get("/dashboard", headers={"Accept-Language": "en"})
                         .get_data(as_text=True))
    for spanish in ("Su estado", "Está fuera", "Está de turno hasta las", "En espera ahora",
                    "¿Necesita apoyo?", "Necesito apoyo", "Conversaciones por texto",
                    "Sus turnos, próximos 14 días", "Cerrar sesión", "Disponible", "Descanso"):
        assert spanish in page, spanish
    for english_words in ("Your presence", "Need support?", "Waiting now", "Sign out"):
        assert english_words not in page, english_words
    fragment = page_text(client, "/dashboard/live")
    assert "Su estado" in fragment

    post_text(client, "/account/language", language="")  # back to the browser's
    assert "Your presence" in page_text(client, "/dashboard")


def test_only_a_shipped_language_can_be_chosen(client: FlaskClient, runtime: Runtime) -> None:
    line = make_line(runtime)
    make_peer(runtime, "robin@example.org", line_id=line)
    sign_in(client, "robin@example.org")
    token = form_csrf(client, "/dashboard")
    response = client.post("/account/language", data={"csrf_token": token, "language": "xx"})
    assert response.status_code == 400


def test_a_refusal_and_its_next_shift_are_in_the_peers_language(
        client: FlaskClient, runtime: Runtime) -> None:
    line = make_line(runtime)
    make_peer(runtime, "robin@example.org", line_id=line, on_shift=False)
    sign_in(client, "robin@example.org")
    post_text(client, "/account/language", language="es")
    token = form_csrf(client, "/dashboard")
    response = client.post("/dashboard/presence", data={"csrf_token": token, "presence": "available"})
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 409
    # The weekday is Spanish too (strftime would have written "Sat" whatever the reader reads).
    assert re.search(r"No puede ponerse disponible: ahora no está de turno\. Su próximo turno "
                     r"empieza el (dom|lun|mar|mié|jue|vie|sáb)\.? \d\d:\d\d\.", page), page
    assert "not on shift" not in page
