"""After Redis loses everything, the sweeper rebuilds live state by itself: callers still on the
line wait again, calls that ended unseen are closed, peers come back off and are told."""

from __future__ import annotations

from tests.e2e.conftest import LINE, ROSTER, SAM, LiveWarmline
from tests.support.jobs import run_jobs
from workers.routing_jobs import sweep


def test_a_redis_loss_is_repaired_by_the_sweeper(live: LiveWarmline) -> None:
    live.import_roster(ROSTER.replace('phone: "+12125550101", experiences: [recovery]',
                                      'phone: "+12125550101", experiences: [veteran]'))
    sam = live.standin.phone(SAM)
    sam_id = live.peer_id("sam@example.org")
    waiting = live.standin.caller("+15005550006", press={"For Substance use recovery": "1"}).dial(LINE)
    waiting.wait_until_heard("You are number 1 in line", timeout=60)
    gone = live.standin.caller("+15005550007", press={"For Substance use recovery": "1"}).dial(LINE)
    gone.wait_until_heard("You are number 2 in line", timeout=60)
    live.pump.stop()  # the app's jobs wait while Redis is "lost"
    live.runtime.redis.flushdb()  # Redis restarted empty
    gone.hang_up()  # ... and this caller left while nobody could see it
    live.wait_for(lambda: gone.status == "completed", timeout=60)

    sweep()
    run_jobs(live.runtime.redis)

    from warmline.services import routing

    engine = routing.routing_engine(live.runtime)
    waiting_contact = live.contact_of_call(waiting.sid)
    gone_contact = live.contact_of_call(gone.sid)
    assert waiting_contact is not None and gone_contact is not None
    assert engine.contact_state(waiting_contact.id) == "waiting"
    assert live.outcome_of(gone.sid) == "abandoned"
    assert live.presence(sam_id) == "off"
    assert "Warmline" in sam.wait_for_text("", timeout=60).body
    # A second sweep changes nothing: the state is marked rebuilt.
    sweep()
    assert engine.contact_state(waiting_contact.id) == "waiting"
