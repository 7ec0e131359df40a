"""The pure routing rules, table by table: capacity, eligibility, order, the reference pass, verdicts."""

from __future__ import annotations

from dataclasses import replace

import pytest

from warmline.domain.matching import (
    ANY_EXPERIENCE,
    CHAT,
    SMS,
    VOICE,
    ContactView,
    LineRules,
    Outlook,
    PeerLoad,
    PeerView,
    Presence,
    arrival_from_score,
    can_serve,
    choose_peer,
    estimate_wait,
    has_capacity,
    is_eligible,
    is_rested,
    judge,
    order_contacts,
    order_peers,
    plan_matches,
    priority_from_score,
    queue_score,
    routing_channels,
    verdict_for,
)

T0 = 1_700_000_000.0
LINE = LineRules(line_id=1)


def peer(peer_id: int = 1, **changes: object) -> PeerView:
    base = PeerView(
        peer_id=peer_id, presence=Presence.AVAILABLE, working_lines=frozenset({1}),
        experiences=frozenset({"recovery"}), languages=frozenset({"en"}),
        channels=frozenset({VOICE, SMS}), max_texts=2, idle_since=T0,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def contact(contact_id: str = "c1", **changes: object) -> ContactView:
    base = ContactView(contact_id=contact_id, line_id=1, channel=VOICE, experience="recovery",
                       language="en", priority=0, arrived_at=T0)
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("calls", "texts", "channel", "max_texts", "calls_while_texting", "expected"),
    [
        (0, 0, VOICE, 2, False, True),
        (1, 0, VOICE, 2, False, False),  # no second call
        (0, 1, VOICE, 2, False, False),  # no call while texting...
        (0, 1, VOICE, 2, True, True),  # ...unless the line allows it
        (0, 0, SMS, 2, False, True),
        (0, 1, SMS, 2, False, True),
        (0, 2, SMS, 2, False, False),  # max_texts reached
        (1, 0, SMS, 2, True, False),  # never a text during a call
        (0, 0, SMS, 0, False, False),  # a peer who takes no texts
    ],
)
def test_capacity(*, calls: int, texts: int, channel: str, max_texts: int,
                  calls_while_texting: bool, expected: bool) -> None:
    load = PeerLoad(calls=calls, texts=texts)
    assert has_capacity(load, channel, max_texts, calls_while_texting) is expected


@pytest.mark.parametrize(
    ("who", "what", "line", "expected"),
    [
        (peer(), contact(), LINE, True),
        (peer(working_lines=frozenset()), contact(), LINE, False),  # not on shift
        (peer(working_lines=frozenset({2})), contact(), LINE, False),  # other line's shift
        (peer(presence=Presence.BREAK), contact(), LINE, False),
        (peer(presence=Presence.WRAP_UP), contact(), LINE, False),
        (peer(presence=Presence.OFF), contact(), LINE, False),
        (peer(presence=Presence.OFFERED), contact(), LINE, False),
        (peer(presence=Presence.BUSY), contact(), LINE, False),
        (peer(has_pending_offer=True), contact(), LINE, False),
        (peer(languages=frozenset({"es"})), contact(), LINE, False),
        (peer(channels=frozenset({SMS})), contact(), LINE, False),
        (peer(experiences=frozenset({"veteran"})), contact(), LINE, False),
        (peer(experiences=frozenset({"veteran"})), contact(accepts_any_peer=True), LINE, True),
        (peer(experiences=frozenset()), contact(experience=None), LINE, True),  # asked for anyone
        (peer(load=PeerLoad(texts=1)), contact(), LINE, False),
        (peer(load=PeerLoad(texts=1)), contact(), LineRules(1, calls_while_texting=True), True),
        (peer(load=PeerLoad(texts=1)), contact(channel=SMS), LINE, True),
        (peer(load=PeerLoad(texts=2)), contact(channel=SMS), LINE, False),
        (peer(load=PeerLoad(calls=1)), contact(channel=SMS), LINE, False),
    ],
)
def test_eligibility(who: PeerView, what: ContactView, line: LineRules, expected: bool) -> None:
    assert is_eligible(who, what, line) is expected


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        (peer(presence=Presence.BREAK), True),  # could serve later: the contact may wait
        (peer(presence=Presence.BUSY), True),
        (peer(presence=Presence.OFF), False),
        (peer(working_lines=frozenset()), False),
        (peer(experiences=frozenset({"veteran"})), False),
    ],
)
def test_staffing(who: PeerView, expected: bool) -> None:
    assert can_serve(who, contact()) is expected


def test_wanted_experience_folds_any_and_none() -> None:
    assert contact().wanted_experience == "recovery"
    assert contact(experience=None).wanted_experience == ANY_EXPERIENCE
    assert contact(accepts_any_peer=True).wanted_experience == ANY_EXPERIENCE


def test_contacts_go_by_priority_then_arrival() -> None:
    early = contact("a", arrived_at=T0)
    late = contact("b", arrived_at=T0 + 5)
    urgent_late = contact("c", arrived_at=T0 + 9, priority=3)
    same_time = contact("0", arrived_at=T0)
    ordered = order_contacts([late, early, urgent_late, same_time])
    assert [c.contact_id for c in ordered] == ["c", "0", "a", "b"]


def test_peers_go_longest_idle_first() -> None:
    ordered = order_peers([peer(1, idle_since=T0 + 5), peer(2, idle_since=T0),
                           peer(3, idle_since=T0 + 1)])
    assert [p.peer_id for p in ordered] == [2, 3, 1]


@pytest.mark.parametrize(
    ("priority", "arrived_at"),
    [(0, T0), (9, T0 + 0.123), (3, T0 + 86_400.5), (-4, T0), (99, T0)],
)
def test_queue_score_round_trips(priority: int, arrived_at: float) -> None:
    score = queue_score(priority, arrived_at)
    assert arrival_from_score(score) == pytest.approx(arrived_at, abs=1e-4)
    assert priority_from_score(score) == min(max(priority, 0), 9)


def test_choose_peer_skips_ineligible_and_takes_longest_idle() -> None:
    peers = [peer(1, idle_since=T0), peer(2, idle_since=T0 - 60, presence=Presence.BREAK),
             peer(3, idle_since=T0 - 30)]
    chosen = choose_peer(contact(), peers, LINE)
    assert chosen is not None and chosen.peer_id == 3


def test_reference_pass_offers_each_peer_once_in_contact_order() -> None:
    peers = [peer(1, idle_since=T0), peer(2, idle_since=T0 - 10, experiences=frozenset({"veteran"}))]
    contacts = [
        contact("late", arrived_at=T0 + 2),
        contact("vet", arrived_at=T0 + 3, experience="veteran"),
        contact("first", arrived_at=T0 + 1),
        contact("any", arrived_at=T0 + 4, accepts_any_peer=True),
    ]
    assert plan_matches(contacts, peers, {1: LINE}) == [("first", 1), ("vet", 2)]


def test_reference_pass_lets_any_take_a_peer_a_later_contact_needed() -> None:
    peers = [peer(1)]
    contacts = [contact("any", arrived_at=T0, experience="veteran", accepts_any_peer=True),
                contact("rec", arrived_at=T0 + 1)]
    assert plan_matches(contacts, peers, {}) == [("any", 1)]


@pytest.mark.parametrize(
    ("waits", "expected"),
    [
        ([], None),
        ([10.0, 20.0, 30.0, 40.0], None),  # too few to say anything honest
        ([10.0, 20.0, 30.0, 40.0, 500.0], 30.0),
        ([1.0] * 6, 1.0),
    ],
)
def test_estimate_wait(waits: list[float], expected: float | None) -> None:
    assert estimate_wait(waits) == expected


@pytest.mark.parametrize(
    ("offered", "staffed", "waits", "outlook", "wait"),
    [
        (True, 0, [], Outlook.MATCH_NOW, None),
        (False, 2, [], Outlook.ALL_BUSY, None),
        (False, 2, [60.0] * 5, Outlook.ALL_BUSY, 60.0),
        (False, 0, [60.0] * 5, Outlook.NO_MATCH, None),
    ],
)
def test_judge(offered: bool, staffed: int, waits: list[float], outlook: Outlook,
               wait: float | None) -> None:
    verdict = judge(offered, staffed, waits)
    assert (verdict.outlook, verdict.expected_wait_seconds) == (outlook, wait)


@pytest.mark.parametrize(
    ("peers", "outlook"),
    [
        ([peer()], Outlook.MATCH_NOW),
        ([peer(presence=Presence.BUSY)], Outlook.ALL_BUSY),
        ([peer(presence=Presence.BREAK)], Outlook.ALL_BUSY),
        ([peer(experiences=frozenset({"veteran"}))], Outlook.NO_MATCH),
        ([peer(presence=Presence.OFF)], Outlook.NO_MATCH),
        ([], Outlook.NO_MATCH),
    ],
)
def test_verdict_from_peer_views(peers: list[PeerView], outlook: Outlook) -> None:
    assert verdict_for(contact(), peers, LINE).outlook == outlook


@pytest.mark.parametrize(("in_a_row", "limit", "rested"), [
    (0, 0, True), (50, 0, True),  # 0: no limit
    (0, 4, True), (3, 4, True), (4, 4, False), (5, 4, False),
])
def test_the_back_to_back_limit(in_a_row: int, limit: int, rested: bool) -> None:
    assert is_rested(in_a_row, limit) is rested
    line = LineRules(1, back_to_back_limit=limit)
    assert is_eligible(peer(in_a_row=in_a_row), contact(), line) is rested


def test_a_peer_who_takes_texts_takes_web_chats_and_no_one_else_does() -> None:
    assert routing_channels({VOICE, SMS}) == {VOICE, SMS, CHAT}
    assert routing_channels({SMS}) == {SMS, CHAT}
    assert routing_channels({VOICE}) == {VOICE}
    load = PeerLoad(calls=0, texts=1)  # a chat and a text share the one text capacity
    assert has_capacity(load, CHAT, 2, False)
    assert not has_capacity(PeerLoad(calls=0, texts=2), CHAT, 2, False)
