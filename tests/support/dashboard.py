"""Shared helpers for the dashboard, auth and API tests: a line, peers with shifts, signed-in clients."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from flask.testing import FlaskClient

from warmline.models import Line, Peer, Shift, User
from warmline.runtime import Runtime
from warmline.services.accounts.users import hash_password

PASSWORD = "correct horse battery staple"
ZONE = "America/New_York"
_CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_line(runtime: Runtime, number: str = "+15005550001", name: str = "Main line") -> int:
    with runtime.sessions.begin() as session:
        line = Line(number=number, name=name, timezone=ZONE)
        session.add(line)
        session.flush()
        return line.id


def make_peer(
    runtime: Runtime,
    email: str,
    *,
    name: str = "Robin Peer",
    role: str = "peer",
    phone: str = "+15005550100",
    line_id: int | None = None,
    on_shift: bool = True,
    password: str | None = PASSWORD,
) -> tuple[int, int]:
    """A peer (with a sign-in) and, with a line, a one-off shift now (or one starting in 2 days)."""
    with runtime.sessions.begin() as session:
        peer = Peer(
            email=email,
            name=name,
            role=role,
            phone_encrypted=runtime.keys.encrypt(phone),
            phone_hash=runtime.keys.keyed_hash(phone),
        )
        session.add(peer)
        session.flush()
        if line_id is not None:
            local_now = datetime.now(UTC).astimezone(ZoneInfo(ZONE)).replace(tzinfo=None)
            start = local_now - timedelta(hours=1) if on_shift else local_now + timedelta(days=2)
            start = start.replace(second=0, microsecond=0)
            session.add(
                Shift(
                    peer_id=peer.id,
                    line_id=line_id,
                    start_local=start,
                    end_local=(start + timedelta(hours=4)).time(),
                )
            )
        user = User(
            email=email,
            role=role,
            peer_id=peer.id,
            password_hash=hash_password(password) if password else None,
            session_version=1,
            failed_sign_ins=0,
            active=True,
        )
        session.add(user)
        session.flush()
        return peer.id, user.id


def make_admin_without_peer(runtime: Runtime, email: str = "admin@example.org") -> int:
    with runtime.sessions.begin() as session:
        user = User(email=email, role="admin", password_hash=hash_password(PASSWORD),
                    session_version=1, failed_sign_ins=0, active=True)
        session.add(user)
        session.flush()
        return user.id


def form_csrf(client: FlaskClient, path: str = "/sign-in") -> str:
    page = client.get(path).get_data(as_text=True)
    found = _CSRF_FIELD.search(page)
    assert found, f"no CSRF field on {path}"
    return found.group(1)


def api_csrf(client: FlaskClient) -> str:
    body = client.get("/api/csrf").get_json()
    assert body is not None
    token: str = body["csrf_token"]
    return token


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD) -> None:
    token = form_csrf(client)
    response = client.post(
        "/sign-in", data={"email": email, "password": password, "csrf_token": token}
    )
    assert response.status_code == 302, response.get_data(as_text=True)


def post_form(client: FlaskClient, path: str, data: dict[str, str] | None = None) -> object:
    token = form_csrf(client, "/dashboard")
    return client.post(path, data={"csrf_token": token, **(data or {})})


def post_text(client: FlaskClient, path: str, **data: str) -> str:
    token = form_csrf(client, "/dashboard")
    response = client.post(path, data={"csrf_token": token, **data}, follow_redirects=True)
    return html.unescape(response.get_data(as_text=True))


def page_text(client: FlaskClient, path: str = "/dashboard") -> str:
    return html.unescape(client.get(path).get_data(as_text=True))
