"""A caller bridged with Sam in a conference, and Sam's dashboard: where the conference tests
(transfer, keypad, reconnect) start from."""

from __future__ import annotations

from datetime import UTC, datetime

from flask.testing import FlaskClient

from tests.support.dashboard import sign_in
from tests.support.live import LINE, ROSTER, SAM, LiveWarmline
from warmline.services.accounts.users import set_password
from warmline.standin import PhoneCall

CALLER = "+15005550006"
PASSWORD = "correct horse battery staple"


def bridged_call(live: LiveWarmline, roster: str = ROSTER) -> tuple[PhoneCall, PhoneCall, int]:
    """Sam (recovery) on a call with a caller who asked for recovery: the caller's call, Sam's
    ring and Sam's peer id."""
    live.import_roster(roster)
    sam = live.peer(SAM)
    sam_id = live.peer_id("sam@example.org")
    live.go_available(sam_id)
    call = live.standin.caller(CALLER, press={"For Substance use recovery": "1"}).dial(LINE)
    assert call.wait_until_bridged(timeout=60) == [SAM]
    return call, sam.rang()[0], sam_id


def sams_dashboard(live: LiveWarmline) -> FlaskClient:
    """Sam signed in to the dashboard (the roster gives peers no password)."""
    with live.runtime.sessions() as session:
        set_password(session, "sam@example.org", PASSWORD, now=datetime.now(UTC))
        session.commit()
    client = live.app.test_client()
    sign_in(client, "sam@example.org", PASSWORD)
    return client


def dashboard_page(client: FlaskClient) -> str:
    return client.get("/dashboard").get_data(as_text=True)
