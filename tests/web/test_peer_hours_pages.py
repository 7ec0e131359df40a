"""The hours pages: admins see every peer's with a CSV; a peer sees only their own."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.support.dashboard import make_admin_without_peer, make_line, make_peer, sign_in
from warmline.runtime import Runtime


def test_admins_see_everyone_and_a_peer_only_themselves(client: FlaskClient, runtime: Runtime) -> None:
    line = make_line(runtime)
    make_peer(runtime, "robin@example.org", name="Robin", line_id=line)
    make_peer(runtime, "sky@example.org", name="Sky", phone="+15005550109", line_id=line)
    make_admin_without_peer(runtime)
    sign_in(client, "admin@example.org")
    page = client.get("/admin/reports/hours?start=2026-03-01&end=2026-03-07").get_data(as_text=True)
    rows = page.split('id="hours"')[1].split("</table>")[0]
    assert "Robin" in rows and "Sky" in rows
    csv_response = client.get("/admin/reports/hours.csv?start=2026-03-01&end=2026-03-07")
    assert csv_response.mimetype == "text/csv"
    lines = csv_response.get_data(as_text=True).splitlines()
    assert lines[0].startswith("peer,on_shift_hours,available_hours") and len(lines) == 3

    peer = client.application.test_client()
    sign_in(peer, "robin@example.org")
    own = peer.get("/dashboard/hours").get_data(as_text=True)
    rows = own.split('id="hours"')[1].split("</table>")[0]
    assert "Robin" in rows and "Sky" not in rows
    assert peer.get("/admin/reports/hours").status_code == 403
    assert len(peer.get("/dashboard/hours.csv").get_data(as_text=True).splitlines()) == 2
