"""Peers and admins during a Redis or a database outage: our own styled 503, never a stack trace.

A peer and an admin sign in on a working app; their cookies are then used on an app of the same
secret whose Redis (or database) refuses connections: a real outage as the process sees one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.support.dashboard import form_csrf, make_line, make_peer, sign_in
from tests.support.services import make_test_settings
from warmline.app import create_app
from warmline.runtime import Runtime, build_runtime
from warmline.web.auth import SESSION_COOKIE_NAME as SESSION_COOKIE

NOWHERE_REDIS = "redis://127.0.0.1:1/0"
NOWHERE_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:1/nowhere"
HEADLINE = "We can&#39;t reach our data right now"
PEER = "robin@example.org"
ADMIN = "casey@example.org"


@contextmanager
def _app_with(database_url: str, tmp_path: Path, **down: str) -> Iterator[Flask]:
    runtime = build_runtime(make_test_settings(database_url, tmp_path, **down))
    try:
        yield create_app(runtime=runtime)
    finally:
        runtime.close()


def _signed_in(app: Flask, email: str) -> FlaskClient:
    client = app.test_client()
    sign_in(client, email)
    return client


def _same_session(source: FlaskClient, app: Flask) -> FlaskClient:
    cookie = source.get_cookie(SESSION_COOKIE)
    assert cookie is not None
    client = app.test_client()
    client.set_cookie(SESSION_COOKIE, cookie.value)
    return client


def _assert_outage_page(response: object, what: str) -> None:
    from werkzeug.test import TestResponse

    assert isinstance(response, TestResponse)
    body = response.get_data(as_text=True)
    assert response.status_code == 503, (what, response.status_code, body[:300])
    assert response.headers["Retry-After"].isdigit()
    assert HEADLINE in body, (what, body[:300])
    assert "warmline.css" in body  # our own styled page
    for bare in ("Traceback", "Werkzeug", "Internal Server Error", "OperationalError",
                 "ConnectionError"):
        assert bare not in body, (what, bare)


@pytest.fixture
def sessions(app: Flask, runtime: Runtime) -> tuple[FlaskClient, FlaskClient]:
    line_id = make_line(runtime)
    make_peer(runtime, PEER, line_id=line_id)
    make_peer(runtime, ADMIN, role="admin", phone="+15005550999")
    return _signed_in(app, PEER), _signed_in(app, ADMIN)


@pytest.mark.parametrize("down", [{"REDIS_URL": NOWHERE_REDIS}, {"DATABASE_URL": NOWHERE_DATABASE}],
                         ids=["redis", "database"])
def test_peer_and_admin_pages_during_an_outage_are_a_clear_styled_503(
    sessions: tuple[FlaskClient, FlaskClient], database_url: str, tmp_path: Path,
    down: dict[str, str],
) -> None:
    peer, admin = sessions
    token = form_csrf(peer, "/dashboard")
    with _app_with(database_url, tmp_path, **down) as broken:
        peer_there, admin_there = _same_session(peer, broken), _same_session(admin, broken)
        _assert_outage_page(peer_there.get("/dashboard"), "dashboard")
        _assert_outage_page(peer_there.get("/dashboard/live"), "dashboard live")
        _assert_outage_page(peer_there.post("/dashboard/presence",
                                            data={"presence": "available", "csrf_token": token}),
                            "presence")
        _assert_outage_page(admin_there.get("/admin/board"), "admin board")
        _assert_outage_page(admin_there.get("/admin/board/live"), "admin board live")
        api = peer_there.get("/api/presence")
        assert api.status_code == 503
        assert api.json is not None and "can't reach our data" in api.json["error"]
        ready = broken.test_client().get("/readyz")
        assert ready.status_code == 503
        assert ready.json is not None and set(ready.json["problems"]) == set(
            {"REDIS_URL": {"redis"}, "DATABASE_URL": {"database"}}[next(iter(down))])


def test_signing_in_during_a_database_outage_is_the_outage_page(
    database_url: str, tmp_path: Path,
) -> None:
    with _app_with(database_url, tmp_path, DATABASE_URL=NOWHERE_DATABASE) as broken:
        client = broken.test_client()
        token = form_csrf(client)
        response = client.post("/sign-in", data={"email": PEER, "password": "x" * 12,
                                                 "csrf_token": token})
        _assert_outage_page(response, "sign-in")


def test_an_unexpected_failure_is_our_own_500_page_not_werkzeugs(app: Flask) -> None:
    def broken_view() -> str:
        raise RuntimeError("a bug")

    app.add_url_rule("/_broken", view_func=broken_view)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production, where nothing re-raises
    response = app.test_client().get("/_broken")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong" in body and "warmline.css" in body
    assert "Traceback" not in body and "a bug" not in body
