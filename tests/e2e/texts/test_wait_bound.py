"""A texter's wait is finite, like a caller's: at the line's max_wait_seconds with no peer they are
told so with their choices and the crisis numbers; after as long again, a goodbye (without it,
the soak's texters for an experience nobody on shift shared waited for ever).

The bound is minutes long, so the clock is moved by handing the service a later `now`: the same
call the scheduled job and the repair sweep make."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from rq.registry import ScheduledJobRegistry
from sqlalchemy import select

from tests.support.text_world import LINE_NUMBER, TextWorld, new_number
from warmline.models import Contact, ContactEvent, Line
from warmline.queues import QueueName
from warmline.routing import keys as routing_keys
from warmline.services.texts import conversation as texts_conversation
from warmline.services.texts.conversation import WaitCheck

MAX_WAIT = 600  # the line's default max_wait_seconds


def _at(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def _outcome(world: TextWorld, contact_id: str) -> Contact | None:
    with world.runtime.sessions() as session:
        contact = session.get(Contact, contact_id)
        return contact if contact is not None and contact.outcome else None


def _contact_id(world: TextWorld) -> str:
    with world.runtime.sessions() as session:
        return session.scalars(select(Contact.id)).one()


def test_a_texter_nobody_can_take_is_told_at_the_bound_and_closed_after_another(
        world: TextWorld) -> None:
    world.add_peer("vic", phone=new_number(), experiences=("veteran",))
    world.go_available("vic")
    texter = world.texter(new_number())
    texter.text(LINE_NUMBER, "RECOVERY")
    world.wait_text(texter, "isn't on now")
    contact_id = _contact_id(world)
    started = time.time()
    scheduled = ScheduledJobRegistry(QueueName.MESSAGES.value, connection=world.runtime.redis)
    assert f"text-wait-{contact_id}" in scheduled.get_job_ids()  # the bound is on the clock

    runtime = world.runtime
    assert texts_conversation.check_waits_due(runtime, _at(started + MAX_WAIT - 30)) == 0
    told_at = started + MAX_WAIT + 1
    assert texts_conversation.check_waits_due(runtime, _at(told_at)) == 1
    honest = world.wait_text(texter, "haven't been able to connect you")
    assert "a peer who shares recovery" in honest
    assert "Reply ANY for the next peer, CALLBACK for a call back, or WAIT" in honest
    assert "in the next 10 minutes" in honest and "988" in honest and "911" in honest
    assert texts_conversation.check_wait(runtime, contact_id, _at(told_at + 1)) is WaitCheck.LATER
    assert world.bodies(texter).count(honest) == 1  # told once, however often it is looked at

    texter.text(LINE_NUMBER, "WAIT")
    world.wait_text(texter, "keep waiting for a peer who shares recovery")
    assert texts_conversation.check_wait(
        runtime, contact_id, _at(told_at + MAX_WAIT - 1)) is WaitCheck.LATER
    assert _outcome(world, contact_id) is None
    assert texts_conversation.check_waits_due(runtime, _at(told_at + MAX_WAIT + 1)) == 1
    goodbye = world.wait_text(texter, "couldn't connect you with a peer this time")
    assert "988" in goodbye
    contact = world.settle(lambda: _outcome(world, contact_id), what="the outcome in SQL")
    assert contact.outcome == "abandoned"
    assert runtime.redis.exists(routing_keys.contact(contact_id)) == 0  # out of routing
    with runtime.sessions() as session:
        ended = session.scalars(select(ContactEvent.detail).where(
            ContactEvent.contact_id == contact_id, ContactEvent.kind == "ended")).all()
    assert [d["closed_by"] for d in ended if d] == ["max_wait"]
    # Closed for good: a later look does nothing, a peer who could take it now is not offered it.
    assert texts_conversation.check_wait(
        runtime, contact_id, _at(told_at + 3 * MAX_WAIT)) is WaitCheck.DONE
    world.add_peer("ria", phone=new_number(), experiences=("recovery",))
    world.go_available("ria")
    world.run_jobs()
    assert world.texts("ria")["offers"] == []


def test_a_text_taken_after_the_honest_text_stays_open(world: TextWorld) -> None:
    with world.runtime.sessions.begin() as session:
        line = session.get(Line, world.line_id)
        assert line is not None
        line.callbacks = False
    texter = world.texter(new_number())
    texter.text(LINE_NUMBER, "hello")
    world.wait_text(texter, "not a crisis line")
    contact_id = _contact_id(world)
    told_at = time.time() + MAX_WAIT + 1
    assert texts_conversation.check_wait(world.runtime, contact_id, _at(told_at)) is WaitCheck.TOLD
    honest = world.wait_text(texter, "haven't been able to connect you with a peer yet")
    assert "Reply WAIT to keep waiting." in honest  # no experience chosen, no callbacks here
    world.add_peer("ria", phone=new_number())
    world.go_available("ria")
    assert world.accept_next("ria") == contact_id
    world.wait_text(texter, "has joined")
    assert texts_conversation.check_wait(
        world.runtime, contact_id, _at(told_at + 2 * MAX_WAIT)) is WaitCheck.DONE
    assert world.conversation("ria", contact_id) is not None
    assert "couldn't connect you" not in " ".join(world.bodies(texter))
