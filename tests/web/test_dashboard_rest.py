"""The back-to-back limit on the peer's dashboard: kind words, and a 10-minute break that ends
by itself (or sooner, by the peer's own choice)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient
from rq.registry import ScheduledJobRegistry
from sqlalchemy import update

from tests.support.dashboard import make_line, make_peer, page_text, post_text, sign_in
from warmline import jobs, keys
from warmline.clock import utc_now
from warmline.domain.matching import ContactView, Presence
from warmline.models import Line
from warmline.runtime import Runtime
from warmline.services import routing
from warmline.services.peers import rest


def _limited_peer(client: FlaskClient, runtime: Runtime, limit: int = 2) -> int:
    line = make_line(runtime)
    with runtime.sessions.begin() as session:
        session.execute(update(Line).where(Line.id == line).values(
            back_to_back_limit=limit, wrap_up_seconds=0))
    peer_id, _ = make_peer(runtime, "robin@example.org", line_id=line)
    sign_in(client, "robin@example.org")
    post_text(client, "/dashboard/presence", presence="available")
    for _ in range(limit):
        now = utc_now()
        arrival = routing.contact_arrived(runtime, ContactView(
            uuid.uuid4().hex, line, "voice", None, "en", 0, now.timestamp()), now)
        [offer] = arrival.offers
        assert routing.accept_offer(runtime, offer.offer_id, now).accepted
        routing.complete_contact(runtime, offer.contact_id, now)
    return peer_id


def test_at_the_limit_the_dashboard_says_so_kindly_and_offers_a_break(
    client: FlaskClient, runtime: Runtime,
) -> None:
    peer_id = _limited_peer(client, runtime)
    page = page_text(client)
    assert 'id="rest-due"' in page and "2 people in a row" in page
    assert "You're available" in page  # still available: only offers stop
    page = post_text(client, "/dashboard/rest-break")
    assert routing.routing_engine(runtime, utc_now()).presence(peer_id) is Presence.BREAK
    assert "10-minute break" in page and 'id="rest-due"' not in page
    [job_id] = ScheduledJobRegistry(queue=runtime.queue(jobs.END_REST_BREAK.queue)).get_job_ids()
    until = int(runtime.redis.get(keys.rest_break(peer_id)) or 0)
    job = runtime.queue(jobs.END_REST_BREAK.queue).fetch_job(job_id)
    assert job is not None and tuple(job.args) == (peer_id, until)
    at_end = datetime.fromtimestamp(until, UTC)
    assert rest.end_rest_break(runtime, peer_id, at_end, at_end - timedelta(seconds=5)) == "not_due"
    assert rest.end_rest_break(runtime, peer_id, at_end, at_end) == "ended"
    assert routing.routing_engine(runtime, utc_now()).presence(peer_id) is Presence.AVAILABLE
    assert rest.end_rest_break(runtime, peer_id, at_end, at_end) == "not_this_break"
    assert 'id="rest-due"' not in page_text(client)


def test_a_peer_who_chooses_first_is_not_moved_by_the_old_break(
    client: FlaskClient, runtime: Runtime,
) -> None:
    peer_id = _limited_peer(client, runtime, limit=1)
    post_text(client, "/dashboard/rest-break")
    until = int(runtime.redis.get(keys.rest_break(peer_id)) or 0)
    post_text(client, "/dashboard/presence", presence="available")
    post_text(client, "/dashboard/presence", presence="break")  # a break of their own, untimed
    later = datetime.fromtimestamp(until, UTC)
    assert rest.end_rest_break(runtime, peer_id, later, later) == "not_this_break"
    assert routing.routing_engine(runtime, utc_now()).presence(peer_id) is Presence.BREAK
