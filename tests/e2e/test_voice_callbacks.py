"""Twilio's status callbacks may come twice and out of order: nothing happens twice or backwards."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from tests.support.live import LINE, ROSTER, SAM, running_warmline
from warmline.models import ContactEvent
from warmline.standin import CallbackOrder, CallbackPolicy


@pytest.mark.parametrize("order", [CallbackOrder.REVERSED, CallbackOrder.SHUFFLED])
def test_duplicated_and_reordered_status_callbacks_change_nothing_twice(
    database_url: str, tmp_path: Path, order: CallbackOrder,
) -> None:
    policy = CallbackPolicy(duplicate=True, order=order, seed=7)
    with running_warmline(database_url, tmp_path, standin_options={"callbacks": policy}) as live:
        live.import_roster(ROSTER)
        sam = live.peer(SAM)
        sam_id = live.peer_id("sam@example.org")
        live.go_available(sam_id)
        call = live.standin.caller("+15005550006", press={"For Substance use recovery": "1"}).dial(LINE)
        assert call.wait_until_bridged(timeout=60) == [SAM]
        call.hang_up()
        assert live.outcome_of(call.sid) == "connected"
        # Every held callback has been delivered (twice) by the time both legs ended.
        live.wait_for(lambda: len([e for e in live.standin.events("status_callback")]) >= 8, timeout=60)
        live.wait_for(lambda: live.presence(sam_id) == "available", timeout=60)
        contact = live.contact_of_call(call.sid)
        assert contact is not None
        with live.runtime.sessions() as session:
            kinds = list(session.scalars(select(ContactEvent.kind).where(
                ContactEvent.contact_id == contact.id)))
        assert kinds.count("ended") == 1
        assert kinds.count("accepted") == 1
        assert "abandoned" not in kinds and "no_answer" not in kinds
        assert len(sam.rang()) == 1
        assert not live.pump.errors
