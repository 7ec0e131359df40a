"""Two things racing for one row: taking a callback while a worker starts it, and redeeming one
invitation twice at once."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, text

from tests.support.dashboard import api_csrf, make_line, make_peer, sign_in
from warmline.models import CallbackRequest, User
from warmline.runtime import Runtime
from warmline.services.accounts.invites import issue_invite, redeem_invitation
from warmline.services.accounts.users import verify_password

CALLER = "+15005550199"

# Stands in for the worker that starts a taken call back: the moment a peer's take lands, the
# callback is no longer pending, before the request that took it can read it back.
_WORKER_STARTS_IT = """
CREATE FUNCTION test_worker_starts_callback() RETURNS trigger AS $$
BEGIN
  UPDATE callback_requests SET status = 'in_progress' WHERE id = NEW.id;
  RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER test_worker_starts_callback AFTER UPDATE OF peer_id ON callback_requests
  FOR EACH ROW WHEN (NEW.peer_id IS NOT NULL AND NEW.status = 'pending')
  EXECUTE FUNCTION test_worker_starts_callback();
"""


@pytest.fixture
def worker_starts_taken_callbacks(runtime: Runtime) -> Iterator[None]:
    with runtime.engine.begin() as conn:
        conn.exec_driver_sql(_WORKER_STARTS_IT)
    yield
    with runtime.engine.begin() as conn:
        conn.execute(text("DROP TRIGGER test_worker_starts_callback ON callback_requests"))
        conn.execute(text("DROP FUNCTION test_worker_starts_callback()"))


@pytest.mark.usefixtures("worker_starts_taken_callbacks")
def test_taking_a_callback_a_worker_starts_at_once_gets_a_clear_answer(
    client: FlaskClient, runtime: Runtime,
) -> None:
    line = make_line(runtime)
    make_peer(runtime, "robin@example.org", line_id=line)
    sign_in(client, "robin@example.org")
    now = datetime.now(UTC)
    with runtime.sessions.begin() as session:
        row = CallbackRequest(
            contact_id=uuid.uuid4().hex, line_id=line, caller_hash=runtime.keys.keyed_hash(CALLER),
            number_encrypted=runtime.keys.encrypt(CALLER), window_start=now,
            window_end=now + timedelta(hours=1), expires_at=now + timedelta(days=1),
        )
        session.add(row)
        session.flush()
        callback_id = row.id
    taken = client.post(f"/api/callbacks/{callback_id}/take",
                        headers={"X-CSRFToken": api_csrf(client)})
    assert taken.status_code == 200, taken.get_data(as_text=True)
    body = taken.get_json()
    assert body["id"] == callback_id and body["taken_by_me"] is True
    with runtime.sessions() as session:
        stored = session.get(CallbackRequest, callback_id)
        assert stored is not None and stored.status == "in_progress"


def test_two_redemptions_of_one_invitation_at_once_set_one_password(runtime: Runtime) -> None:
    peer_id, user_id = make_peer(runtime, "jo@example.org", password=None)
    now = datetime.now(UTC)
    with runtime.sessions.begin() as session:
        user = session.get(User, user_id)
        assert user is not None
        token = issue_invite(session, runtime.keys, user, now)
    passwords = [f"passphrase number {n} of four" for n in range(4)]
    start = threading.Barrier(len(passwords))
    results: dict[str, str | None] = {}

    def redeem(password: str) -> None:
        start.wait(timeout=10)
        results[password] = redeem_invitation(runtime, token, password, now)

    threads = [threading.Thread(target=redeem, args=(p,)) for p in passwords]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    winners = [p for p, email in results.items() if email == "jo@example.org"]
    assert len(results) == len(passwords) and len(winners) == 1, results
    with runtime.sessions() as session:
        user = session.scalars(select(User).where(User.id == user_id)).one()
        assert user.password_hash and verify_password(user.password_hash, winners[0])
        assert user.invite_token_hash is None
    assert peer_id
