"""The arrival's one statement (the insert in a WITH, the day counted in its SELECT) counts a
caller's day exactly as `count_contacts_today` does once the contact is stored: contacts that
never reached a peer left out, reconnects folded in, and a contact of the same caller stored
just after this one's moment (another call racing it) in its place."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.support.workers import CALLER_NUMBER, add_contact, add_line, zone_at_midday
from warmline.clock import utc_now
from warmline.models import Line, Outcome
from warmline.runtime import Runtime
from warmline.services.contacts import count_contacts_today, open_contact_counting_today

# Earlier contacts of the caller, as (minutes before now it arrived, minutes it lasted, outcome).
SCENARIOS = {
    "none": [],
    "one an hour ago": [(60, 5, Outcome.CONNECTED)],
    "two, the last ended five minutes ago (a reconnect)": [
        (90, 5, Outcome.CONNECTED), (20, 15, Outcome.ABANDONED)],
    "one turned away, not counted": [(60, 1, Outcome.OVER_LIMIT), (30, 5, Outcome.CONNECTED)],
    "one still going": [(40, None, None)],
    "one stored a moment after now (a racing call)": [(30, 5, Outcome.CONNECTED), (-0.01, None, None)],
    # ended just within the reconnect window, and a racing call just after now: the window
    # measured from this call, not from the contact before it
    "a reconnect raced by another call": [
        (15, 15 - 599.9 / 60, Outcome.CONNECTED), (-0.2 / 60, None, None)],
    "three today": [(200, 5, Outcome.CONNECTED), (120, 5, Outcome.CONNECTED),
                    (60, 5, Outcome.CONNECTED)],
}


@pytest.mark.parametrize("earlier", SCENARIOS.values(), ids=SCENARIOS.keys())
def test_the_arrivals_count_is_the_days_count_after_the_insert(
        runtime: Runtime, earlier: list[tuple[float, float | None, Outcome | None]]) -> None:
    now = utc_now()
    line_id = add_line(runtime, daily_contact_limit=3, timezone=zone_at_midday(now))
    for n, (ago, lasted, outcome) in enumerate(earlier):
        arrived = now - timedelta(minutes=ago)
        add_contact(runtime, f"earlier-{n}", line_id, arrived,
                    ended_at=None if lasted is None else arrived + timedelta(minutes=lasted),
                    outcome=None if outcome is None else outcome.value)
    with runtime.sessions() as session:
        line = session.get_one(Line, line_id)
    caller = runtime.keys.keyed_hash(CALLER_NUMBER)

    _contact, counted = open_contact_counting_today(
        runtime, line=line, channel="voice", caller_hash=caller, provider_sid=None, now=now,
        language="en")

    with runtime.sessions() as session:
        assert counted == count_contacts_today(session, line, caller, now)
