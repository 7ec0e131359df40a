"""Open shifts end to end: a peer gives up Friday, the peers of the line are told by text, two
race to take it, exactly one gets it, the roster week shows it, and the peer who offered it is
told once. On a line that approves swaps, nothing changes until an admin says yes."""

from __future__ import annotations

import html
import threading
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask.testing import FlaskClient
from sqlalchemy import select, update

from tests.support.dashboard import form_csrf
from tests.support.text_world import LINE_NAME, ZONE, TextWorld, new_number
from warmline.models import AuditEntry, Line, OpenShift, Peer, Shift, User


def _next_friday() -> date:
    today = datetime.now(UTC).astimezone(ZoneInfo(ZONE)).date() + timedelta(days=2)
    return today + timedelta(days=(4 - today.weekday()) % 7)


def _fridays_for(world: TextWorld, peer_id: int) -> int:
    first = _next_friday() - timedelta(days=28)
    with world.runtime.sessions.begin() as session:
        shift = Shift(peer_id=peer_id, line_id=world.line_id,
                      start_local=datetime.combine(first, time(9, 0)), end_local=time(13, 0),
                      rrule="FREQ=WEEKLY;BYDAY=FR", skip_dates=[])
        session.add(shift)
        session.flush()
        return shift.id


def _post(client: FlaskClient, path: str, **data: str) -> str:
    token = form_csrf(client, "/dashboard")
    response = client.post(path, data={"csrf_token": token, **data}, follow_redirects=True)
    return html.unescape(response.get_data(as_text=True))


def _friday_morning(world: TextWorld, admin: FlaskClient, friday: date) -> list[str]:
    """Who works Friday 09:00-13:00 on the roster week page (skipped occurrences left out)."""
    week = f"{friday.isocalendar().year}-W{friday.isocalendar().week:02d}"
    page = html.unescape(admin.get(f"/admin/roster?line={world.line_id}&week={week}")
                         .get_data(as_text=True))
    cell = page.split(f'id="day-{friday.isoformat()}"')[1].split("</ul>")[0]
    items = cell.split('<li class="occurrence')[1:]
    return [item.split('<span class="who">')[1].split("</span>")[0] for item in items
            if "09:00–13:00" in item and not item.startswith(" skipped")]


def _admin(world: TextWorld, key: str) -> FlaskClient:
    admin_id = world.add_peer(key, phone=new_number(), on_shift=False, name=key.title())
    with world.runtime.sessions.begin() as session:
        session.execute(update(Peer).where(Peer.id == admin_id).values(role="admin"))
        session.execute(update(User).where(User.peer_id == admin_id).values(role="admin"))
    return world.clients[key]


def test_a_peer_gives_up_friday_two_race_and_exactly_one_gets_it(world: TextWorld) -> None:
    numbers = {key: new_number() for key in ("ria", "bo", "cy")}
    ids = {key: world.add_peer(key, phone=numbers[key], on_shift=False, name=key.title())
           for key in numbers}
    shift_id = _fridays_for(world, ids["ria"])
    admin = _admin(world, "lee")
    friday = _next_friday()

    page = _post(world.clients["ria"], "/dashboard/shifts/offer", shift=str(shift_id),
                 date=friday.isoformat())
    assert "Offered." in page and "offered to others" in page
    for key in ("bo", "cy"):
        told = world.wait_text(world.standin.peer_phone(numbers[key]), "can't make")
        assert told.startswith(f"Warmline: Ria can't make {LINE_NAME} {friday:%a %d %b} 09:00")
    with world.runtime.sessions() as session:
        open_id = session.scalars(select(OpenShift.id)).one()

    results: dict[str, str] = {}
    start = threading.Barrier(2)

    def take(key: str) -> None:
        client = world.clients[key]
        token = form_csrf(client, "/dashboard")
        start.wait()
        response = client.post(f"/dashboard/open-shifts/{open_id}/take",
                               data={"csrf_token": token}, follow_redirects=True)
        results[key] = html.unescape(response.get_data(as_text=True))

    threads = [threading.Thread(target=take, args=(key,)) for key in ("bo", "cy")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    winners = [key for key, page in results.items() if "It's yours" in page]
    losers = [key for key, page in results.items() if "Someone else took that shift first" in page]
    assert len(winners) == 1 and len(losers) == 1, results
    winner = winners[0]

    assert _friday_morning(world, admin, friday) == [winner.title()]
    with world.runtime.sessions() as session:
        series = session.get(Shift, shift_id)
        assert series is not None and series.skip_dates == [friday.isoformat()]
        cover = session.scalars(select(Shift).where(Shift.peer_id == ids[winner])).all()
        # a one-off covers the skipped date (beside the shift the harness gave every peer)
        assert [s.end_local for s in cover if s.rrule is None
                and s.start_local == datetime.combine(friday, time(9, 0))] == [time(13, 0)]
        actions = list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions.count("open_shift_offered") == 1 and actions.count("open_shift_taken") == 1
    ria_phone = world.standin.peer_phone(numbers["ria"])
    world.wait_text(ria_phone, f"{winner.title()} took your shift")
    world.run_jobs()
    assert len(world.bodies(ria_phone)) == 1  # told once
    for key in ("bo", "cy"):
        assert len(world.bodies(world.standin.peer_phone(numbers[key]))) == 1


def test_on_a_line_that_approves_swaps_the_roster_waits_for_the_admin(world: TextWorld) -> None:
    with world.runtime.sessions.begin() as session:
        session.execute(update(Line).where(Line.id == world.line_id).values(swap_approval=True))
    numbers = {key: new_number() for key in ("ria", "bo")}
    ids = {key: world.add_peer(key, phone=numbers[key], on_shift=False, name=key.title())
           for key in numbers}
    shift_id = _fridays_for(world, ids["ria"])
    admin = _admin(world, "lee")
    friday = _next_friday()
    _post(world.clients["ria"], "/dashboard/shifts/offer", shift=str(shift_id),
          date=friday.isoformat())
    with world.runtime.sessions() as session:
        open_id = session.scalars(select(OpenShift.id)).one()
    page = _post(world.clients["bo"], f"/dashboard/open-shifts/{open_id}/take")
    assert "An admin approves swaps on this line" in page
    assert _friday_morning(world, admin, friday) == ["Ria"]  # unchanged until approved

    board = html.unescape(admin.get("/admin/board").get_data(as_text=True))
    assert f'id="swap-yes-{open_id}"' in board and "Bo asks to take an open shift" in board
    token = form_csrf(admin, "/admin/board")
    response = admin.post(f"/admin/board/swaps/{open_id}",
                          data={"csrf_token": token, "answer": "yes"}, follow_redirects=True)
    assert "Approved" in html.unescape(response.get_data(as_text=True))
    assert _friday_morning(world, admin, friday) == ["Bo"]
    world.wait_text(world.standin.peer_phone(numbers["bo"]), "your swap is approved")
    world.wait_text(world.standin.peer_phone(numbers["ria"]), "Bo took your shift")
    with world.runtime.sessions() as session:
        actions = set(session.scalars(select(AuditEntry.action)))
    assert {"open_shift_offered", "open_shift_taken", "open_shift_approved"} <= actions
