"""Shared helpers for the admin page tests: a signed-in admin, form posts, the example roster."""

from __future__ import annotations

import html
import re
from pathlib import Path

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.support.dashboard import form_csrf, make_peer, sign_in
from warmline.roster.importer import import_roster_text
from warmline.runtime import Runtime

EXAMPLE_ROSTER = Path(__file__).resolve().parents[1] / "fixtures" / "roster.example.yaml"
ADMIN_EMAIL = "coordinator@example.org"


def sign_in_admin(client: FlaskClient, runtime: Runtime) -> None:
    make_peer(runtime, ADMIN_EMAIL, name="Casey Coordinator", role="admin", phone="+15005550999")
    sign_in(client, ADMIN_EMAIL)


def load_example(runtime: Runtime) -> None:
    with runtime.sessions.begin() as session:
        import_roster_text(session, runtime.keys, EXAMPLE_ROSTER.read_text())


def post(client: FlaskClient, path: str, data: dict[str, str | list[str]] | None = None,
         *, follow: bool = False) -> TestResponse:
    token = form_csrf(client, "/admin/lines")
    return client.post(path, data={"csrf_token": token, **(data or {})}, follow_redirects=follow)


def text(response: TestResponse) -> str:
    return html.unescape(response.get_data(as_text=True))


def field_error(page: str, name: str) -> str:
    """The messages shown at a field (the block right above its input)."""
    found = re.search(rf'<div class="field-error" id="f-{re.escape(name)}-error">(.*?)</div>', page, re.S)
    assert found, f"no error shown at {name}"
    return re.sub(r"<[^>]+>", " ", found.group(1))


def value_of(page: str, name: str) -> str:
    found = re.search(rf'name="{re.escape(name)}"[^>]*value="([^"]*)"', page)
    assert found, f"no input {name}"
    return found.group(1)


def textarea_of(page: str, name: str) -> str:
    found = re.search(rf'<textarea[^>]*name="{re.escape(name)}"[^>]*>(.*?)</textarea>', page, re.S)
    assert found, f"no textarea {name}"
    return found.group(1)
