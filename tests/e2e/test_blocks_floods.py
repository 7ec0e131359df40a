"""Blocks and floods end to end through the stand-in: an admin blocks the caller of a recent
contact from the live board and lifts the block, and the caller gets through; a caller who
floods the line, by calls or by web chats, is answered kindly and the admin on shift is told."""

from __future__ import annotations

import html
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from tests.support.dashboard import form_csrf, make_admin_without_peer, sign_in
from tests.support.live import LEE, LINE, ROSTER, SAM, LiveWarmline
from warmline.models import AuditEntry, Block, Contact

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


CHAT_ORIGIN = "https://peerwarmline.example.org"
CHAT_API = "/chat/lines/" + LINE.lstrip("+")


def _chat(client: FlaskClient, address: str, method: str, path: str = "", *,
          json: object = None, token: str = "") -> tuple[int, Any]:
    headers = {"Origin": CHAT_ORIGIN}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    response = client.open(CHAT_API + path, method=method, json=json, headers=headers,
                           environ_base={"REMOTE_ADDR": address})
    return response.status_code, response.get_json()


def test_a_chatter_flooding_the_line_is_answered_kindly_and_the_admin_on_shift_is_texted(
    live: LiveWarmline,
) -> None:
    roster = ROSTER.replace("    daily_contact_limit: 3\n",
                            "    daily_contact_limit: 0\n    flood_caller_limit: 2\n"
                            f'    chat: {{origins: ["{CHAT_ORIGIN}"]}}\n')
    roster = roster.replace('name: "Lee", phone: "+12125550103"',
                            'name: "Lee", phone: "+12125550103", role: admin')
    live.import_roster(roster)
    lee = live.peer(LEE)  # on shift, not available: told by text
    client = live.app.test_client()
    address = "203.0.113.21"
    tokens = []
    for n in range(2):
        status, body = _chat(client, address, "POST", "/conversations", json={"experience": None})
        assert status == 201, body
        tokens.append(body["token"])
        assert _chat(client, address, "POST", "/messages", token=tokens[-1],
                     json={"id": f"m-{n}", "body": f"hello {n}"})[0] == 202

    status, body = _chat(client, address, "POST", "/conversations", json={"experience": None})
    assert status == 429 and "token" not in body
    assert "more chats than we can take; please try again soon" in body["error"]
    assert "988" in body["error"]
    # The admin is told it is chats: "calls from one caller" would send them looking for a caller.
    text = lee.wait_for_text("many chats from one person", timeout=60)
    assert text.from_ == LINE and address not in text.body and "call" not in text.body

    # Nothing lost: the chats that came first still wait, with what their chatters wrote.
    for n, token in enumerate(tokens):
        status, body = _chat(client, address, "GET", "/messages?after=0&wait=0", token=token)
        assert status == 200 and body["state"] == "waiting"
        assert ("you", f"hello {n}") in [(m["from"], m["body"]) for m in body["messages"]]

    def refused_outcomes() -> list[str | None]:
        with live.runtime.sessions() as session:
            return list(session.scalars(select(Contact.outcome).where(
                Contact.channel == "chat", Contact.outcome.is_not(None))))

    assert live.wait_for(lambda: refused_outcomes() == ["over_limit"], timeout=60)
    # Another chatter is not affected by one chatter's flood.
    assert _chat(client, "203.0.113.22", "POST", "/conversations", json={"experience": None})[0] == 201
    board = html.unescape(_admin(live).get("/admin/board").get_data(as_text=True))
    notices = board.split('id="admin-notices"')[1].split("</ul>")[0]
    assert "Flood" in notices and "many chats from one person" in notices
    assert "calls from one caller" not in notices
