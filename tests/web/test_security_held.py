"""What held in the review, kept by tests over every route, not a sample: forged
signatures on every Twilio URL, peer to admin, CSRF on every form, and admin text escaped on every
page. (Peer to peer: tests/e2e/texts/test_peer_isolation.py and the callbacks test below.)"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.support.admin import load_example, post, sign_in_admin, value_of
from tests.support.dashboard import form_csrf, make_line, make_peer, sign_in
from warmline.models import AuditEntry, CallbackRequest, Contact, Line, Peer
from warmline.runtime import Runtime
from warmline.telephony.signature import compute_signature

FORM = {"CallSid": "CA" + "3" * 32, "From": "+15005550006", "To": "+12125550100",
        "MessageSid": "SM" + "3" * 32, "Body": "hello", "Digits": "1"}
CALLER = "+15005550006"
# What each kind of URL part is filled with when a route is called.
SAMPLE_PARTS = {"int": "1", "default": "0" * 32}


def _routes(app: Flask, prefix: str, methods: set[str]) -> list[tuple[str, str]]:
    """(method, path) of every rule under `prefix`, with its URL parts filled in."""
    found = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(prefix) or rule.endpoint == "static":
            continue
        path = rule.rule
        for converter, name in re.findall(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>", path):
            pattern = rf"<(?:{converter}(?:\([^)]*\))?:)?{name}>"
            path = re.sub(pattern, SAMPLE_PARTS.get(converter, SAMPLE_PARTS["default"]), path)
        for method in (rule.methods or set()) & methods:
            found.add((method, path))
    return sorted(found)


def _count(runtime: Runtime, model: type) -> int:
    with runtime.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


# --------------------------------------------------------------------------- forged signatures


def test_every_twilio_url_refuses_forged_and_tampered_signatures(
    app: Flask, runtime: Runtime,
) -> None:
    client = app.test_client()
    routes = _routes(app, "/twilio/", {"POST"})
    assert len(routes) >= 15
    token = runtime.settings.twilio_auth_token
    keys_before = set(runtime.redis.scan_iter(match="wl:*"))  # the routing state's marker
    for _, path in routes:
        url = "http://localhost" + path
        forgeries = {
            "another token": compute_signature("not-our-token", url, FORM),
            "another URL": compute_signature(token, "http://localhost/twilio/voice/other", FORM),
            "another host": compute_signature(token, "https://evil.example" + path, FORM),
            "tampered form": compute_signature(token, url, {**FORM, "From": "+15005550009"}),
            "garbage": "Zm9yZ2Vk",
            "empty": "",
        }
        for what, signature in forgeries.items():
            response = client.post(path, data=FORM, headers={"X-Twilio-Signature": signature})
            assert response.status_code == 403, (path, what)
    # Nothing was recorded by any of them.
    assert _count(runtime, Contact) == 0
    assert set(runtime.redis.scan_iter(match="wl:*")) == keys_before


# --------------------------------------------------------------------------- peer to admin


def test_a_peer_is_refused_every_admin_route(client: FlaskClient, runtime: Runtime) -> None:
    load_example(runtime)
    make_peer(runtime, "robin@example.org")
    sign_in(client, "robin@example.org")
    token = form_csrf(client, "/dashboard")
    before = (_count(runtime, Line), _count(runtime, Peer), _count(runtime, AuditEntry))
    routes = _routes(client.application, "/admin", {"GET", "POST"})
    assert len(routes) >= 25
    for method, path in routes:
        if method == "GET":
            response = client.get(path)
        else:
            response = client.post(path, data={"csrf_token": token, "name": "Taken over",
                                               "text": "version: 1"})
        assert response.status_code == 403, (method, path)
    assert (_count(runtime, Line), _count(runtime, Peer), _count(runtime, AuditEntry)) == before


def test_a_peer_cannot_take_a_callback_of_another_line(client: FlaskClient, runtime: Runtime) -> None:
    mine = make_line(runtime)
    theirs = make_line(runtime, "+15005550002", "Their line")
    make_peer(runtime, "robin@example.org", line_id=mine)
    now = datetime.now(UTC)
    with runtime.sessions.begin() as session:
        row = CallbackRequest(
            contact_id=uuid.uuid4().hex, line_id=theirs, caller_hash=runtime.keys.keyed_hash(CALLER),
            number_encrypted=runtime.keys.encrypt(CALLER), experience_key=None,
            window_start=now, window_end=now + timedelta(hours=2), expires_at=now + timedelta(days=1),
        )
        session.add(row)
        session.flush()
        callback_id = row.id
    sign_in(client, "robin@example.org")
    token = form_csrf(client, "/dashboard")
    page = client.post(f"/dashboard/callbacks/{callback_id}/take", data={"csrf_token": token},
                       follow_redirects=True).get_data(as_text=True)
    assert "not on your lines" in page
    api = client.post(f"/api/callbacks/{callback_id}/take", headers={"X-CSRFToken": token})
    assert api.status_code == 404
    with runtime.sessions() as session:
        taken = session.get(CallbackRequest, callback_id)
        assert taken is not None and taken.peer_id is None


# --------------------------------------------------------------------------- CSRF


def test_every_form_and_api_call_refuses_a_missing_or_forged_token(
    client: FlaskClient, runtime: Runtime,
) -> None:
    load_example(runtime)
    make_peer(runtime, "robin@example.org", role="admin", phone="+15005550998")
    sign_in(client, "robin@example.org")
    # Twilio's webhooks prove themselves by signature; the web chat's API is called from other
    # sites by design, with no cookie (its token in a header) and its own origin check
    # (tests/e2e/texts/test_web_chat.py).
    routes = [(method, path) for method, path in _routes(client.application, "/", {"POST", "PUT", "DELETE"})
              if not path.startswith(("/twilio/", "/chat/"))]
    assert len(routes) >= 30
    before = (_count(runtime, Line), _count(runtime, Peer), _count(runtime, AuditEntry))
    for method, path in routes:
        for headers, data in (({}, {"name": "x"}),
                              ({"X-CSRFToken": "forged"}, {"csrf_token": "forged", "name": "x"})):
            response = client.open(path, method=method, data=data, headers=headers)
            assert response.status_code == 400, (method, path, headers)
    assert client.get("/api/me").status_code == 200  # still signed in: sign-out was refused too
    assert (_count(runtime, Line), _count(runtime, Peer), _count(runtime, AuditEntry)) == before


# --------------------------------------------------------------------------- XSS


PAYLOADS = ('<script>alert("xss")</script>', '"><img src=x onerror=alert(1)>',
            "</textarea><svg onload=alert(1)>")
LIVE_MARKERS = ("<script>alert(", "<img src=x onerror", "<svg onload")


def _assert_inert(page: str, where: str) -> None:
    for marker in LIVE_MARKERS:
        assert marker not in page, (where, marker)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_admin_text_is_escaped_on_every_page(client: FlaskClient, runtime: Runtime, payload: str) -> None:
    load_example(runtime)
    sign_in_admin(client, runtime)
    # Every field of each admin form, refused or not: the re-rendered form escapes what was typed.
    line_fields = ["name", "number", "timezone", "languages", "closed_dates", "crisis_number",
                   "backup_number", "max_wait_seconds", "greeting-en", "hours-0-open"]
    refused = post(client, "/admin/lines/new", {**{f: payload for f in line_fields}, "hour_rows": "1"})
    _assert_inert(refused.get_data(as_text=True), "line form, refused")
    peer_fields = ["email", "name", "phone", "languages", "max_texts"]
    refused = post(client, "/admin/peers/new", {f: payload for f in peer_fields})
    _assert_inert(refused.get_data(as_text=True), "peer form, refused")
    # Accepted where free text is allowed: names, labels, greetings.
    assert post(client, "/admin/lines/new", {
        "name": f"Night {payload}", "number": "+12125550150", "timezone": "UTC", "languages": "en",
        "hour_rows": "1", "max_wait_seconds": "300", "max_call_minutes": "45",
        "daily_contact_limit": "0", "wrap_up_seconds": "60", "retention_days": "30",
        "greeting-en": f"Hello {payload}", "active": "1",
    }).status_code == 302
    page = client.get("/admin/experiences").get_data(as_text=True)
    form: dict[str, str | list[str]] = {"rows": "6"}
    for i in range(5):
        for name in ("id", "key", "label", "digit", "keyword"):
            form[f"experiences-{i}-{name}"] = value_of(page, f"experiences-{i}-{name}")
        form[f"experiences-{i}-active"] = "1"
    form["experiences-0-label"] = f"Recovery {payload}"
    assert post(client, "/admin/experiences", form).status_code == 302, "experience label refused"
    assert post(client, "/admin/peers/new", {
        "email": "jo@example.org", "name": f"Jo {payload}", "phone": "+12125550177",
        "languages": "en", "channels": ["voice"], "max_texts": "1", "role": "peer",
        "experiences": ["recovery"],
    }).status_code in (200, 302)
    with runtime.sessions() as session:
        line_id = session.scalars(select(Line.id).where(Line.number == "+12125550150")).one()
        jo = session.scalars(select(Peer.id).where(Peer.email == "jo@example.org")).one()
    pages = ["/admin/lines", f"/admin/lines/{line_id}", "/admin/experiences", "/admin/peers",
             f"/admin/peers/{jo}", f"/admin/roster?line={line_id}", "/admin/board", "/admin/audit",
             f"/admin/reports?line={line_id}", "/admin/blocks", "/admin/reports/hours",
             "/admin/roster/import",
             f"/admin/roster/lines/{line_id}/shifts/new"]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        _assert_inert(response.get_data(as_text=True), path)
    shown = client.get("/admin/peers").get_data(as_text=True)
    assert "Jo &lt;" in shown or "Jo &#34;&gt;" in shown or "&lt;/textarea&gt;" in shown
