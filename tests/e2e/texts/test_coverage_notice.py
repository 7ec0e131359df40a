"""The daily coverage-gap notice is really sent: a text to the line's admin through the stand-in
and an alert on the live board, each gap once however often the job runs."""

from __future__ import annotations

from sqlalchemy import update

from tests.support.text_world import LINE_NAME, TextWorld, new_number
from warmline.models import Peer, User
from workers.schedule_jobs import send_coverage_report


def test_the_daily_job_texts_the_admin_and_posts_on_the_board_once(world: TextWorld) -> None:
    world.add_peer("ria", phone=new_number())  # one peer on a 24/7 line: every hour is thin
    number = new_number()
    admin_id = world.add_peer("lee", phone=number, on_shift=False, name="Lee")
    with world.runtime.sessions.begin() as session:
        session.execute(update(Peer).where(Peer.id == admin_id).values(role="admin"))
        session.execute(update(User).where(User.peer_id == admin_id).values(role="admin"))
    phone = world.standin.peer_phone(number)

    send_coverage_report()  # the scheduled job itself
    body = world.wait_text(phone, f"{LINE_NAME} has ")
    assert "thin hours in the next 14 days" in body and "live board" in body
    board = world.clients["lee"].get("/admin/board").get_data(as_text=True)
    notices = board.split('id="admin-notices"')[1].split("</ul>")[0]
    assert "Coverage gap" in notices and LINE_NAME in notices

    send_coverage_report()  # a retry or a second run the same day: nothing twice
    world.run_jobs()
    assert len(world.bodies(phone)) == 1
    board = world.clients["lee"].get("/admin/board").get_data(as_text=True)
    assert board.split('id="admin-notices"')[1].split("</ul>")[0].count("Coverage gap") == 1


def test_an_admin_who_reads_spanish_gets_the_notice_in_spanish(world: TextWorld) -> None:
    world.add_peer("ria", phone=new_number())
    number = new_number()
    admin_id = world.add_peer("lee", phone=number, on_shift=False, name="Lee")
    with world.runtime.sessions.begin() as session:
        session.execute(update(Peer).where(Peer.id == admin_id).values(role="admin"))
        session.execute(update(User).where(User.peer_id == admin_id)
                        .values(role="admin", language="es"))
    phone = world.standin.peer_phone(number)
    send_coverage_report()
    body = world.wait_text(phone, f"{LINE_NAME} tiene ")
    # Every word of it Spanish, the day too (Babel's, not strftime's English "Mon").
    assert "horas con poca cobertura en los próximos 14 días" in body
    assert not any(day in body for day in ("Mon ", "Tue ", "Wed ", "Thu ", "Fri ", "Sat ", "Sun "))
