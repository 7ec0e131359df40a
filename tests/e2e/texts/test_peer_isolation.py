"""Peer to peer: one peer can neither see nor touch another's text offer or
conversation, whatever ids they send."""

from __future__ import annotations

from tests.support.text_world import LINE_NUMBER, TextWorld, new_number


def test_another_peers_offer_and_conversation_are_out_of_reach(world: TextWorld) -> None:
    world.add_peer("ria", phone=new_number(), experiences=("recovery",))
    world.add_peer("vic", phone=new_number(), experiences=("veteran",))
    world.go_available("ria")
    world.go_available("vic")
    texter = world.texter(new_number())
    texter.text(LINE_NUMBER, "recovery")
    offer = world.wait_offer("ria")
    # Vic knows (or guesses) Ria's offer id: neither accepting nor declining it works.
    for action in ("accept", "decline"):
        status, body = world.api("vic", "POST", f"/api/texts/offers/{offer['offer_id']}/{action}")
        assert status in (403, 404, 409), (action, status, body)
    contact_id = world.accept_next("ria")
    # Nor can Vic read, answer or close Ria's conversation.
    assert world.conversation("vic", contact_id) is None
    assert all(c["contact_id"] != contact_id for c in world.texts("vic")["conversations"])
    status, _ = world.api("vic", "POST", f"/api/texts/{contact_id}/messages", {"body": "hello"})
    assert status in (403, 404, 409)
    status, _ = world.api("vic", "POST", f"/api/texts/{contact_id}/close")
    assert status in (403, 404, 409)
    world.run_jobs()
    assert all("hello" not in body for body in world.bodies(texter))
    # Ria's conversation is untouched and still hers.
    assert world.conversation("ria", contact_id) is not None
