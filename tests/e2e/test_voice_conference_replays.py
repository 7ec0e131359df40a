"""A mentor's join and a crisis line's warm transfer with Twilio's callbacks twice and out of order,
then all of them told again: each thing happens once (DESIGN invariant 6)."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests
from rq import Queue
from rq.registry import StartedJobRegistry
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from tests.support.bridged import bridged_call, dashboard_page, sams_dashboard
from tests.support.dashboard import post_form
from tests.support.live import CRISIS, LEE, ROSTER, SAM, LiveWarmline, running_warmline
from tests.support.services import TEST_AUTH_TOKEN
from warmline.models import ContactEvent, DailyAggregate, Line
from warmline.queues import QueueName
from warmline.services.upkeep.aggregates import recompute_day
from warmline.standin import CallbackOrder, CallbackPolicy
from warmline.voice import urls

MENTOR_ROSTER = ROSTER.replace('name: "Lee", phone: "+12125550103"',
                               'name: "Lee", phone: "+12125550103", mentor: true')


def _events(live: LiveWarmline, contact_id: str) -> list[tuple[str, str | None]]:
    with live.runtime.sessions() as session:
        return sorted((e.kind, e.outcome) for e in session.scalars(
            select(ContactEvent).where(ContactEvent.contact_id == contact_id)))


def _post_signed(live: LiveWarmline, path: str, contact_id: str, params: dict[str, str]) -> None:
    url = urls.absolute(live.url, path, contact=contact_id)
    signature = RequestValidator(TEST_AUTH_TOKEN).compute_signature(url, params)
    answer = requests.post(url, data=params, headers={"X-Twilio-Signature": signature},
                           timeout=30)
    assert answer.status_code == 200 and "<Response" in answer.text


def _jobs_done(live: LiveWarmline) -> bool:
    """No job waiting or running: whatever the replays enqueued (an event, a ring) has run."""
    redis = live.runtime.redis
    return all(Queue(name.value, connection=redis).count == 0
               and StartedJobRegistry(name.value, connection=redis).count == 0
               for name in QueueName)


def _report(live: LiveWarmline) -> list[tuple[int, int, int, int, int]]:
    """Today's aggregates, built afresh from the event log: what the reports show."""
    with live.runtime.sessions() as session:
        line = session.scalars(select(Line)).one()
        now = datetime.now(UTC)
        recompute_day(session, line, now.astimezone(ZoneInfo(line.timezone)).date(), now)
        session.commit()
        return [(row.offered, row.answered, row.transfers, row.transfers_crisis_warm, row.mentored)
                for row in session.scalars(select(DailyAggregate).where(
                    DailyAggregate.line_id == line.id).order_by(DailyAggregate.id))]


@pytest.mark.parametrize("order", [CallbackOrder.REVERSED, CallbackOrder.SHUFFLED])
def test_a_mentor_joins_then_the_crisis_line_takes_over_each_once_whatever_the_callbacks(
    database_url: str, tmp_path: Path, order: CallbackOrder,
) -> None:
    policy = CallbackPolicy(duplicate=True, order=order, seed=13)
    with running_warmline(database_url, tmp_path, standin_options={"callbacks": policy}) as live:
        call, ring, sam_id = bridged_call(live, MENTOR_ROSTER)
        contact = live.contact_of_call(call.sid)
        assert contact is not None
        client = sams_dashboard(live)
        lee_phone = live.standin.phone(LEE, answer_after=0.5)
        crisis_phone = live.standin.phone(CRISIS, answer_after=0.5)

        # A mentor first: coaching Sam, then talking with the caller too.
        post_form(client, "/dashboard/mentor")
        mentor = lee_phone.wait_for_ring(timeout=60)
        call.wait_until_heard("Another peer has joined this call", timeout=60)
        live.wait_for(lambda: 'id="mentor-speak"' in dashboard_page(client), timeout=60)
        post_form(client, "/dashboard/mentor/speak")
        live.wait_for(lambda: LEE in call.bridged_with(), timeout=60)

        # Then the crisis line, brought in with the caller held, and the hand-over.
        post_form(client, "/dashboard/transfer", {"target": "crisis"})
        counselor = crisis_phone.wait_for_ring(timeout=60)
        live.wait_for(lambda: CRISIS in call.bridged_with(), timeout=60)
        live.wait_for(lambda: 'id="transfer-hand-over"' in dashboard_page(client), timeout=60)
        post_form(client, "/dashboard/transfer/hold", {"held": "1"})
        call.wait_until_heard("hold.wav", timeout=60)
        post_form(client, "/dashboard/transfer/hand-over")
        ring.wait_until_heard("The call has ended", timeout=60)
        assert live.outcome_of(call.sid) == "transferred_crisis"
        live.wait_for(lambda: CRISIS in call.bridged_with(), timeout=60)
        mentor.hang_up()
        counselor.hang_up()
        assert call.wait_until_ended(timeout=60) == "completed"
        live.wait_for(lambda: live.presence(sam_id) == "available", timeout=60)
        # Every held-back callback of the room and of the counselor's leg has been answered.
        room = live.standin.net.conferences[contact.id]
        live.wait_for(lambda: live.standin.net.callbacks_in_flight() == 0, timeout=60)

        live.wait_for(lambda: {("ended", "transferred_crisis"), ("transferred", None),
                               ("mentor_joined", None)} <= set(_events(live, contact.id)),
                      timeout=60)
        before = _events(live, contact.id)
        kinds = [kind for kind, _ in before]
        assert kinds.count("ended") == 1 and ("ended", "transferred_crisis") in before
        assert kinds.count("transferred") == 1 and kinds.count("mentor_joined") == 1
        report = _report(live)
        assert report == [(1, 1, 1, 1, 1)]  # one call, answered, handed to the crisis line, mentored

        # Told again, in every kind of order and twice over: nothing changes, nothing moves back.
        sids = (call.sid, ring.sid, mentor.sid, counselor.sid)
        room_events = [
            {"StatusCallbackEvent": event, "ConferenceSid": room.sid, "CallSid": sid,
             "FriendlyName": contact.id, "AccountSid": live.runtime.settings.twilio_account_sid}
            for event, sid in itertools.product(("participant-join", "participant-leave"), sids)]
        room_events += [{"StatusCallbackEvent": event, "ConferenceSid": room.sid,
                         "FriendlyName": contact.id,
                         "AccountSid": live.runtime.settings.twilio_account_sid}
                        for event in ("conference-start", "conference-end")]
        leg = [{"CallSid": sid, "CallStatus": status, "From": "+12125550100", "To": to,
                "AccountSid": live.runtime.settings.twilio_account_sid}
               for sid, to in ((counselor.sid, CRISIS), (mentor.sid, LEE))
               for status in ("initiated", "ringing", "in-progress", "completed")]
        shuffled = random.Random(5).sample(room_events, len(room_events))
        for number, params in enumerate(itertools.chain(reversed(room_events), shuffled)):
            _post_signed(live, urls.CONFERENCE_STATUS, contact.id,
                         {**params, "SequenceNumber": str(number)})
        for params in [*leg, *reversed(leg)]:
            _post_signed(live, urls.TRANSFER_STATUS, contact.id, params)

        live.wait_for(lambda: _jobs_done(live), timeout=60)
        assert _events(live, contact.id) == before
        assert _report(live) == report
        assert live.outcome_of(call.sid) == "transferred_crisis"
        assert live.presence(sam_id) == "available"
        assert len(crisis_phone.rang()) == 1 and len(lee_phone.rang()) == 1
        assert len(live.standin.net.phones[SAM].rang()) == 1
        assert live.pump is not None and not live.pump.errors
