"""Shadowing sessions from the roster week: a new peer paired with a mentor for one shift."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select

from tests.support.admin import field_error, load_example, post, sign_in_admin, text
from warmline.models import AuditEntry, Line, Peer, ShadowSession, Shift
from warmline.runtime import Runtime

WEEK = "2026-W50"
TUESDAY = "2026-12-08"  # Sam works 09:00-13:00


def _ids(runtime: Runtime) -> tuple[int, int, dict[str, int]]:
    with runtime.sessions() as session:
        line_id = session.scalars(select(Line.id)).one()
        peers = {p.email.split("@")[0]: p.id for p in session.scalars(select(Peer))}
        sams = session.scalars(select(Shift.id).where(Shift.peer_id == peers["sam"])).one()
    return line_id, sams, peers


def test_a_shadowing_session_is_validated_then_saved_shown_and_audited(
    client: FlaskClient, runtime: Runtime
) -> None:
    load_example(runtime)
    sign_in_admin(client, runtime)
    line_id, shift_id, peers = _ids(runtime)
    week = text(client.get(f"/admin/roster?line={line_id}&week={WEEK}"))
    assert f"/admin/roster/shifts/{shift_id}/shadow?date={TUESDAY}" in week.replace("&amp;", "&")
    path = f"/admin/roster/shifts/{shift_id}/shadow"
    page = text(client.get(f"{path}?date={TUESDAY}"))
    assert "Shadowing: Sam" in page and "09:00–13:00" in page
    assert ">Lee<" in page and ">Ana<" not in page  # only mentors are offered

    # Ana is no mentor; Lee is, but not on shift then; nothing chosen; Sam cannot shadow himself.
    page = text(post(client, path, {"date": TUESDAY, "mentor": str(peers["ana"])}))
    assert "not a mentor" in field_error(page, "mentor")
    page = text(post(client, path, {"date": TUESDAY, "mentor": str(peers["lee"])}))
    assert "not on shift on this line during this shift" in field_error(page, "mentor")
    page = text(post(client, path, {"date": TUESDAY, "mentor": ""}))
    assert "Choose a mentor" in field_error(page, "mentor")
    assert post(client, path, {"date": TUESDAY, "mentor": str(peers["sam"])}).status_code == 422
    # A date the shift does not happen on (Wednesday; the skipped 24th) has no page.
    assert client.get(f"{path}?date=2026-12-09").status_code == 404
    assert client.get(f"{path}?date=2026-12-24").status_code == 404
    with runtime.sessions() as session:
        assert session.scalars(select(ShadowSession)).all() == []

    # Lee on shift for part of Sam's shift: saved, on the week, audited.
    form = {"peer": "lee@example.org", "start_date": TUESDAY, "start_time": "10:00",
            "end_time": "12:00", "repeat": "once", "interval": "1", "until": "", "rrule": "",
            "skip_dates": "", "note": "", "week": WEEK}
    assert post(client, f"/admin/roster/lines/{line_id}/shifts/new", form).status_code == 302
    response = post(client, path, {"date": TUESDAY, "mentor": str(peers["lee"]), "week": WEEK})
    assert response.status_code == 302
    week = text(client.get(f"/admin/roster?line={line_id}&week={WEEK}"))
    assert "shadowed by Lee" in week
    with runtime.sessions() as session:
        row = session.scalars(select(ShadowSession)).one()
        assert (row.peer_id, row.mentor_id, row.occurrence_date) == (peers["sam"], peers["lee"],
                                                                      TUESDAY)
        assert row.starts_at.hour == 14 and row.ends_at.hour == 18  # 09:00-13:00 New York, in UTC
        assert session.scalars(select(AuditEntry.action).where(
            AuditEntry.action == "shift.shadow")).one()

    # Removed again.
    assert post(client, f"{path}/remove", {"date": TUESDAY}).status_code == 302
    with runtime.sessions() as session:
        assert session.scalars(select(ShadowSession)).all() == []
