"""The hours report matches a scripted shift with known times: the routing services record each
fact as it happens, the event jobs write them, and the report adds them up to the second."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from tests.support.workers import add_line, add_peer, add_shift, run_jobs
from warmline.domain.matching import ContactView, LineRules, Presence
from warmline.models import PeerActivity, PeerActivityDay
from warmline.queues import QueueName
from warmline.routing.engine import PeerProfile
from warmline.routing.results import LapseReason
from warmline.runtime import Runtime
from warmline.services import routing
from warmline.services.peers import hours as peer_activity
from warmline.wiring import install_dispatchers

DAY = date(2026, 3, 10)


def at(clock: str) -> datetime:
    hour, minute, *second = (int(x) for x in clock.split(":"))
    return datetime.combine(DAY, time(hour, minute, second[0] if second else 0), UTC)


def _contact(runtime: Runtime, line: int, cid: str, channel: str, clock: str) -> str:
    arrival = routing.contact_arrived(runtime, ContactView(
        cid, line, channel, None, "en", 0, at(clock).timestamp()), at(clock))
    [offer] = arrival.offers
    return offer.offer_id


@pytest.fixture
def no_dispatch() -> Iterator[None]:
    """Offers stay in routing: a dispatcher an earlier test installed would ring and text on
    the wall clock, and this shift runs on its own clock."""
    for channel in ("voice", "sms"):
        routing.register_dispatcher(channel, None)
    yield
    install_dispatchers()


@pytest.mark.usefixtures("no_dispatch")
def test_the_hours_report_matches_a_scripted_shift(runtime: Runtime) -> None:
    line = add_line(runtime, timezone="UTC", wrap_up_seconds=300, back_to_back_limit=2)
    peer = add_peer(runtime, "Ria", "+15550100001")
    add_shift(runtime, peer, line, datetime.combine(DAY, time(9, 0)), time(13, 0))
    engine = routing.routing_engine(runtime, at("08:59"))
    engine.sync_line(LineRules(line, 300, False, 2), at("08:59").timestamp())
    engine.sync_peer(PeerProfile(peer, frozenset({line}), frozenset(), frozenset({"en"}),
                                 frozenset({"voice", "sms"}), 2), at("08:59").timestamp())
    engine.start_shift(peer, line, at("08:59").timestamp())

    routing.set_presence(runtime, peer, Presence.AVAILABLE, at("09:00"))
    missed = _contact(runtime, line, "c-missed", "voice", "09:15")
    routing.lapse_offer(runtime, missed, LapseReason.NO_ANSWER, at("09:15:30"))
    routing.withdraw_contact(runtime, "c-missed", at("09:16"))
    call = _contact(runtime, line, "c-call", "voice", "09:30")
    assert routing.accept_offer(runtime, call, at("09:30:10")).accepted
    routing.complete_contact(runtime, "c-call", at("09:50:10"))  # 20 min with the caller
    routing.end_wrap_up(runtime, peer, at("09:55:10"))  # 5 min wrap-up
    text = _contact(runtime, line, "c-text", "sms", "10:00")
    assert routing.accept_offer(runtime, text, at("10:00:05")).accepted  # the 2nd in a row
    routing.complete_contact(runtime, "c-text", at("10:20"))
    routing.end_wrap_up(runtime, peer, at("10:25"))  # 5 min wrap-up
    routing.set_presence(runtime, peer, Presence.BREAK, at("11:00"))
    routing.set_presence(runtime, peer, Presence.AVAILABLE, at("11:15"))
    routing.set_presence(runtime, peer, Presence.OFF, at("13:00"))
    run_jobs(runtime, [QueueName.EVENTS])

    end_of_day = datetime.combine(DAY, time(23, 59), UTC)
    [row] = peer_activity.build_hours_report(runtime, DAY, DAY + timedelta(days=1), end_of_day,
                                             [peer])
    minutes = timedelta(minutes=1).total_seconds()
    available = (30 * minutes + 10) + (24 * minutes + 50) + 35 * minutes + 105 * minutes
    assert row.totals.available_seconds == available
    assert row.totals.busy_seconds == 20 * minutes
    assert row.totals.wrap_up_seconds == 10 * minutes
    assert row.totals.break_seconds == 15 * minutes
    assert (row.totals.calls, row.totals.texts) == (1, 1)
    assert (row.totals.missed_offers, row.totals.back_to_back) == (1, 1)
    assert row.shift_seconds == 4 * 3600
    csv_text = peer_activity.hours_csv([row])
    assert csv_text.splitlines()[1] == "Ria,4.00,3.25,0.33,0.17,0.25,1,1,1,1"

    # Rolled up, the day's totals stay when the raw facts are pruned past the window.
    later = end_of_day + timedelta(days=peer_activity.PEER_ACTIVITY_RAW_DAYS + 2)
    assert peer_activity.roll_up_days(runtime, later) >= 1
    with runtime.sessions() as session:
        kept = session.scalar(select(func.count()).select_from(PeerActivity))
        stored = session.scalars(select(PeerActivityDay).where(PeerActivityDay.day == DAY)).one()
    assert kept == 1  # only the last presence (off), which the next day starts from
    assert (stored.busy_seconds, stored.calls, stored.back_to_back) == (20 * 60, 1, 1)
    [again] = peer_activity.build_hours_report(runtime, DAY, DAY + timedelta(days=1), later,
                                               [peer])
    assert again.totals == row.totals
