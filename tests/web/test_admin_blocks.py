"""The blocks page: active blocks with reason, who set them and expiry (never a number or a
pseudonym), lift and extend, each in the audit trail."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient
from sqlalchemy import select

from tests.support.dashboard import form_csrf, make_admin_without_peer, make_line, sign_in
from warmline.models import AuditEntry, Block
from warmline.runtime import Runtime

HASH = "f" * 64


def _block(runtime: Runtime, line_id: int | None, days: float, reason: str = "abuse") -> int:
    now = datetime.now(UTC)
    with runtime.sessions.begin() as session:
        block = Block(caller_hash=HASH, line_id=line_id, reason=reason, created_at=now,
                      expires_at=now + timedelta(days=days))
        session.add(block)
        session.flush()
        return block.id


def _admin(client: FlaskClient, runtime: Runtime) -> None:
    make_admin_without_peer(runtime)
    sign_in(client, "admin@example.org")


def _post(client: FlaskClient, path: str, **data: str) -> str:
    token = form_csrf(client, "/admin/blocks")
    response = client.post(path, data={"csrf_token": token, **data}, follow_redirects=True)
    return html.unescape(response.get_data(as_text=True))


def test_the_list_shows_active_blocks_and_never_who_was_blocked(
    client: FlaskClient, runtime: Runtime,
) -> None:
    line = make_line(runtime)
    _block(runtime, line, 5, reason="threats to a peer")
    _block(runtime, None, 2)
    _block(runtime, line, -1, reason="long over")
    _admin(client, runtime)
    page = html.unescape(client.get("/admin/blocks").get_data(as_text=True))
    rows = page.split('id="blocks"')[1].split("</table>")[0]
    assert rows.count('class="block-row"') == 2
    assert "threats to a peer" in rows and "Every line" in rows and "long over" not in rows
    assert HASH not in page and HASH[:12] not in page
    every = html.unescape(client.get("/admin/blocks?all=1").get_data(as_text=True))
    assert "long over" in every and "(ended)" in every


def test_lift_and_extend_change_the_expiry_and_are_audited(
    client: FlaskClient, runtime: Runtime,
) -> None:
    line = make_line(runtime)
    block_id = _block(runtime, line, 1)
    _admin(client, runtime)
    page = _post(client, f"/admin/blocks/{block_id}/extend", days="7")
    assert "Block extended by 7 days" in page
    with runtime.sessions() as session:
        block = session.get(Block, block_id)
        assert block is not None
        assert block.expires_at > datetime.now(UTC) + timedelta(days=7, hours=23)
    assert "between 1 and 90" in _post(client, f"/admin/blocks/{block_id}/extend", days="400")
    assert "Block lifted" in _post(client, f"/admin/blocks/{block_id}/lift")
    assert "already ended" in _post(client, f"/admin/blocks/{block_id}/lift")
    with runtime.sessions() as session:
        block = session.get(Block, block_id)
        assert block is not None and block.expires_at <= datetime.now(UTC)
        actions = list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions == ["block_extended", "block_lifted"]


def test_a_peer_cannot_reach_the_blocks_page(client: FlaskClient, runtime: Runtime) -> None:
    from tests.support.dashboard import make_peer

    make_peer(runtime, "robin@example.org", line_id=make_line(runtime))
    sign_in(client, "robin@example.org")
    assert client.get("/admin/blocks").status_code == 403


def test_blocking_from_the_board_needs_a_clean_reason_and_a_recent_contact(
    runtime: Runtime,
) -> None:
    from warmline.models import Contact
    from warmline.services.admin.audit import Actor
    from warmline.services.admin.blocks import block_contact_caller

    line = make_line(runtime)
    now = datetime.now(UTC)
    with runtime.sessions.begin() as session:
        session.add_all([
            Contact(id="recent", line_id=line, channel="voice", caller_hash=HASH,
                    arrived_at=now - timedelta(hours=1)),
            Contact(id="old", line_id=line, channel="voice", caller_hash=HASH,
                    arrived_at=now - timedelta(days=3)),
        ])
    actor = Actor(None, "admin@example.org")
    with runtime.sessions.begin() as session:
        assert "control character" in (block_contact_caller(
            session, actor, "recent", days=7, reason="rude\x07", now=now) or "")
        assert "Say why" in (block_contact_caller(
            session, actor, "recent", days=7, reason="   ", now=now) or "")
        assert "no longer recent" in (block_contact_caller(
            session, actor, "old", days=7, reason="abuse", now=now) or "")
        assert block_contact_caller(session, actor, "recent", days=7, reason="abuse",
                                    now=now) is None
    with runtime.sessions() as session:
        [block] = session.scalars(select(Block)).all()
        assert (block.caller_hash, block.line_id, block.reason) == (HASH, line, "abuse")
