"""Peers from the admin pages: invite with a one-time link, edit, deactivate, reset by a new link."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from tests.support.admin import field_error, load_example, post, sign_in_admin, text, value_of
from tests.support.dashboard import form_csrf, sign_in
from warmline.models import AuditEntry, Peer, User
from warmline.runtime import Runtime
from warmline.services.accounts.invites import invite_hash
from warmline.services.accounts.users import hash_password

NEW_PEER = {"email": "Jo@Example.org", "name": "Jo Peer", "phone": "+12125550177",
            "experiences": ["recovery", "veteran"], "languages": "en es", "channels": ["voice"],
            "max_texts": "2", "role": "peer"}


def _link(page: str) -> str:
    found = re.search(r'id="invite-link"[^>]*value="([^"]+)"', page)
    assert found, "no link shown"
    return found.group(1)


def _set_password(
    client: FlaskClient, path: str, password: str, confirm: str | None = None
) -> TestResponse:
    token = form_csrf(client, path)
    return client.post(path, data={"csrf_token": token, "password": password,
                                   "confirm": password if confirm is None else confirm})


def test_an_invited_peer_sets_a_password_through_the_link_once(client: FlaskClient, runtime: Runtime) -> None:
    load_example(runtime)
    sign_in_admin(client, runtime)
    # Behind a proxy the public address differs from the host the request arrived at.
    runtime.settings = dataclasses.replace(runtime.settings, public_url="https://warmline.example.org")
    response = post(client, "/admin/peers/new", NEW_PEER)
    assert response.status_code == 200
    link = _link(text(response))
    token = link.rsplit("/", 1)[1]
    # The link is built on WARMLINE_PUBLIC_URL, the address peers reach, not the request's host.
    assert link == f"https://warmline.example.org/invite/{token}"
    assert "This is the only time it is shown" in text(response)
    with runtime.sessions() as session:
        peer = session.scalars(select(Peer).where(Peer.email == "jo@example.org")).one()
        assert runtime.keys.decrypt(peer.phone_encrypted) == "+12125550177"
        assert sorted(e.key for e in peer.experiences) == ["recovery", "veteran"]
        user = session.scalars(select(User).where(User.email == "jo@example.org")).one()
        # Only the keyed hash is kept, with an expiry; never the token itself.
        assert user.invite_token_hash == invite_hash(runtime.keys, token) and token not in str(
            user.invite_token_hash)
        assert user.password_hash is None and user.invite_expires_at is not None
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "peer.invite")).one()
        assert token not in str(entry.detail) and "+1212555" not in str(entry.detail)

    peer_client = client.application.test_client()
    path = "/invite/" + token
    page = text(peer_client.get(path))
    assert "jo@example.org" in page and "Welcome, Jo" in page
    refused = _set_password(peer_client, path, "short")
    assert refused.status_code == 422 and "at least 10 characters" in text(refused)
    mismatch = _set_password(peer_client, path, "long enough passphrase", "another passphrase!")
    assert mismatch.status_code == 422
    done = _set_password(peer_client, path, "long enough passphrase")
    assert done.status_code == 302
    sign_in(peer_client, "jo@example.org", "long enough passphrase")
    assert peer_client.get("/dashboard").status_code == 200
    # Spent: the link works once.
    again = client.application.test_client().get(path)
    assert again.status_code == 404 and "does not work any more" in text(again)


def test_an_expired_or_unknown_link_does_not_work(client: FlaskClient, runtime: Runtime) -> None:
    load_example(runtime)
    sign_in_admin(client, runtime)
    token = _link(text(post(client, "/admin/peers/new", NEW_PEER))).rsplit("/", 1)[1]
    with runtime.sessions.begin() as session:
        user = session.scalars(select(User).where(User.email == "jo@example.org")).one()
        user.invite_expires_at = datetime.now(UTC) - timedelta(minutes=1)
    other = client.application.test_client()
    assert other.get("/invite/" + token).status_code == 404
    assert other.get("/invite/not-a-token").status_code == 404


def test_invite_errors_are_shown_at_their_fields(client: FlaskClient, runtime: Runtime) -> None:
    load_example(runtime)
    sign_in_admin(client, runtime)
    bad = {**NEW_PEER, "email": "sam@example.org", "phone": "+12125550102", "max_texts": "40",
           "experiences": ["recovery", "astronaut"], "channels": []}
    response = post(client, "/admin/peers/new", bad)
    page = text(response)
    assert response.status_code == 422
    assert "already has a sign-in" in field_error(page, "email")
    assert "already the phone of ana@example.org" in field_error(page, "phone")
    assert "must be from 1 to 10" in field_error(page, "max_texts")
    assert "unknown experience 'astronaut'" in field_error(page, "experiences")
    assert "at least one" in field_error(page, "channels")
    assert value_of(page, "name") == "Jo Peer" and value_of(page, "phone") == "+12125550102"


def test_edit_deactivate_reactivate_and_reset(client: FlaskClient, runtime: Runtime) -> None:
    load_example(runtime)
    sign_in_admin(client, runtime)
    with runtime.sessions.begin() as session:
        sam = session.scalars(select(Peer).where(Peer.email == "sam@example.org")).one()
        sam_id = sam.id
        user = session.scalars(select(User).where(User.email == "sam@example.org")).one()
        user.password_hash = hash_password("sams old password")
        user.session_version = 1
    page = text(client.get(f"/admin/peers/{sam_id}"))
    assert value_of(page, "phone") == "+12125550101"  # the admin's form is where a peer phone shows
    form = {"name": "Sam Rivera", "phone": "+12125550111", "experiences": ["recovery"],
            "languages": "en", "channels": ["voice", "sms"], "max_texts": "3", "role": "admin"}
    assert post(client, f"/admin/peers/{sam_id}", form).status_code == 302
    with runtime.sessions() as session:
        sam = session.get(Peer, sam_id)
        assert sam is not None and sam.name == "Sam Rivera" and sam.role == "admin"
        assert runtime.keys.decrypt(sam.phone_encrypted) == "+12125550111"
        assert sam.phone_hash == runtime.keys.keyed_hash("+12125550111")
        assert session.scalars(select(User.role).where(User.email == "sam@example.org")).one() == "admin"
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "peer.update")).one()
        assert set(entry.detail["changed"]) == {"name", "phone", "role", "experiences", "languages"}
        assert "+1212555" not in str(entry.detail)

    sam_client = client.application.test_client()
    sign_in(sam_client, "sam@example.org", "sams old password")
    assert post(client, f"/admin/peers/{sam_id}/deactivate").status_code == 302
    assert sam_client.get("/dashboard").status_code == 302  # signed out everywhere
    with runtime.sessions() as session:
        deactivated = session.get(Peer, sam_id)
        assert deactivated is not None and not deactivated.active
    assert "cannot get a password link" in text(post(client, f"/admin/peers/{sam_id}/password-link",
                                                     follow=True))
    assert post(client, f"/admin/peers/{sam_id}/activate").status_code == 302
    # Reset: a new link; the old password keeps working until the link is used.
    token = _link(text(post(client, f"/admin/peers/{sam_id}/password-link"))).rsplit("/", 1)[1]
    sign_in(client.application.test_client(), "sam@example.org", "sams old password")
    other = client.application.test_client()
    assert _set_password(other, "/invite/" + token, "a brand new passphrase").status_code == 302
    sign_in(other, "sam@example.org", "a brand new passphrase")
    with runtime.sessions() as session:
        actions = [e.action for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert {"peer.deactivate", "peer.activate", "peer.password_link", "user.password_set"} <= set(actions)


def test_the_peers_page_lists_sign_in_state(client: FlaskClient, runtime: Runtime) -> None:
    load_example(runtime)
    sign_in_admin(client, runtime)
    post(client, "/admin/peers/new", NEW_PEER)
    page = text(client.get("/admin/peers"))
    assert "Jo Peer" in page and "link pending until" in page and "Sam" in page
    assert "+1212555" not in page  # phones are only on a peer's own edit form
