"""Blocks and floods end to end through the stand-in: an admin blocks the caller of a recent
contact from the live board and lifts the block, and the caller gets through; a caller who
floods the line is answered kindly and the admin on shift is told."""

from __future__ import annotations

import html

from flask.testing import FlaskClient
from sqlalchemy import select

from tests.support.dashboard import form_csrf, make_admin_without_peer, sign_in
from tests.support.live import LEE, LINE, ROSTER, SAM, LiveWarmline
from warmline.models import AuditEntry, Block

CALLER = "+15005550021"
RECOVERY = {"For Substance use recovery": "1"}


def _admin(live: LiveWarmline) -> FlaskClient:
    make_admin_without_peer(live.runtime)
    client = live.app.test_client()
    sign_in(client, "admin@example.org")
    return client


def _post(client: FlaskClient, path: str, **data: str) -> str:
    token = form_csrf(client, "/admin/blocks")
    response = client.post(path, data={"csrf_token": token, **data}, follow_redirects=True)
    assert response.status_code == 200
    return html.unescape(response.get_data(as_text=True))


def test_an_admin_blocks_from_the_board_then_lifts_and_the_caller_gets_through(
    live: LiveWarmline,
) -> None:
    live.import_roster(ROSTER)
    live.peer(SAM)
    sam_id = live.peer_id("sam@example.org")
    live.go_available(sam_id)
    call = live.standin.caller(CALLER, press=RECOVERY).dial(LINE)
    assert call.wait_until_bridged(timeout=60) == [SAM]
    call.hang_up()
    contact = live.contact_of_call(call.sid)
    assert contact is not None and live.outcome_of(call.sid) == "connected"
    live.wait_for(lambda: live.presence(sam_id) == "available", timeout=60)

    admin = _admin(live)
    board = html.unescape(admin.get("/admin/board").get_data(as_text=True))
    recent = board.split('id="recent-contacts"')[1].split("</table>")[0]
    assert f'value="{contact.id}"' in recent and CALLER not in board and CALLER[-4:] not in board
    page = _post(admin, "/admin/blocks/from-contact", contact=contact.id, days="30",
                 reason="abusive language")
    rows = page.split('id="blocks"')[1].split("</table>")[0]
    assert "abusive language" in rows and "admin@example.org" in rows
    assert CALLER not in page and contact.caller_hash not in page

    blocked = live.standin.caller(CALLER, press=RECOVERY).dial(LINE)
    blocked.wait_until_heard("We're not able to take your call", timeout=60)

    with live.runtime.sessions() as session:
        block_id = session.scalars(select(Block.id)).one()
    page = _post(admin, f"/admin/blocks/{block_id}/lift")
    assert "Block lifted" in page and 'id="blocks-empty"' in page
    with live.runtime.sessions() as session:
        actions = list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions[-2:] == ["block_created", "block_lifted"]

    again = live.standin.caller(CALLER, press=RECOVERY).dial(LINE)
    assert again.wait_until_bridged(timeout=60) == [SAM]
    again.hang_up()


def test_a_caller_flooding_the_line_is_answered_kindly_and_the_admin_on_shift_is_texted(
    live: LiveWarmline,
) -> None:
    roster = ROSTER.replace("    daily_contact_limit: 3\n",
                            "    daily_contact_limit: 0\n    flood_caller_limit: 2\n")
    roster = roster.replace('name: "Lee", phone: "+12125550103"',
                            'name: "Lee", phone: "+12125550103", role: admin')
    live.import_roster(roster)
    lee = live.peer(LEE)  # on shift, not available: never rung, but told by text
    for _ in range(2):
        call = live.standin.caller(CALLER).dial(LINE)
        call.wait_until_heard("To talk with", timeout=60)
        call.hang_up()
    flooded = live.standin.caller(CALLER).dial(LINE)
    flooded.wait_until_heard("a lot of calls from this phone", timeout=60)
    assert live.outcome_of(flooded.sid) == "over_limit"
    text = lee.wait_for_text("many calls from one caller", timeout=60)
    assert text.from_ == LINE and CALLER not in text.body and CALLER[-4:] not in text.body
    # Another caller is not affected by one caller's flood.
    other = live.standin.caller("+15005550022").dial(LINE)
    other.wait_until_heard("To talk with", timeout=60)
    other.hang_up()
    board = html.unescape(_admin(live).get("/admin/board").get_data(as_text=True))
    notices = board.split('id="admin-notices"')[1].split("</ul>")[0]
    assert "Flood" in notices and "many calls from one caller" in notices
