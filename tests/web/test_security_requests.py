"""The review's hostile requests: each answered with a clear 4xx or the normal page,
never a 500, an open redirect, an unbounded read or a formula in a spreadsheet."""

from __future__ import annotations

import csv
import http.client
import io
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict
from werkzeug.serving import make_server

from tests.support.admin import load_example, post, sign_in_admin, text
from tests.support.dashboard import PASSWORD, form_csrf, make_line, make_peer, sign_in
from tests.support.twiml_schema import assert_valid_voice_twiml
from warmline.domain.numbers import MAX_ID, parse_id, parse_whole_number
from warmline.models import ContactEvent, Line, Peer
from warmline.roster.importer import import_roster_text
from warmline.runtime import Runtime
from warmline.services.admin.reports import csv_cell
from warmline.web.security import BODY_LIMIT_BYTES

OVERSIZED_ID = "9" * 25


def _signed(runtime: Runtime, path: str, form: dict[str, str | list[str]]) -> dict[str, str]:
    # Twilio signs every value of a repeated key: Twilio's own validator, given a MultiDict.
    pairs = [(key, value) for key, values in form.items()
             for value in ([values] if isinstance(values, str) else values)]
    signature = RequestValidator(runtime.settings.twilio_auth_token).compute_signature(
        "http://localhost" + path, MultiDict(pairs))
    return {"X-Twilio-Signature": signature}


# --------------------------------------------------------------------------- 3. open redirect


@pytest.mark.parametrize("target", [
    "/%09/evil.example", "/%0d%0aSet-Cookie:%20x=1", "/dashboard%0d%0aLocation:%20//evil.example",
    "%5C%5Cevil.example", "/%5Cevil.example", "//evil.example", "https://evil.example/",
    "/nowhere-in-this-app", "/sign-out",  # not a page: POST only
])
def test_next_never_leaves_the_site_nor_splits_a_header(
    client: FlaskClient, runtime: Runtime, target: str,
) -> None:
    make_peer(runtime, "robin@example.org")
    sign_in(client, "robin@example.org")
    # The review's request: signed in, GET /sign-in?next=/%09/evil.example.
    response = client.get(f"/sign-in?next={target}")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_next_keeps_a_page_of_this_app_with_its_query(client: FlaskClient, runtime: Runtime) -> None:
    make_peer(runtime, "robin@example.org")
    sign_in(client, "robin@example.org")
    response = client.get("/sign-in?next=/admin/audit%3Fbefore%3D5%26x%3Da%2Bb")
    assert response.headers["Location"] == "/admin/audit?before=5&x=a+b"


def test_a_page_that_needs_sign_in_comes_back_after_it(client: FlaskClient, runtime: Runtime) -> None:
    make_peer(runtime, "robin@example.org")
    to_sign_in = client.get("/dashboard")
    assert to_sign_in.headers["Location"] == "/sign-in?next=/dashboard"
    token = form_csrf(client)
    response = client.post("/sign-in", data={
        "email": "robin@example.org", "password": PASSWORD, "csrf_token": token, "next": "/dashboard",
    })
    assert response.headers["Location"] == "/dashboard"


# --------------------------------------------------------------------------- 4. body size


class CountingBody(io.RawIOBase):
    """A request body of `size` bytes made on demand, counting how much the app read."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.position = 0
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:  # the test client measures the body by seeking to its end
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        self.position = self.size + offset if whence == io.SEEK_END else offset
        return self.position

    def tell(self) -> int:
        return self.position

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        n = min(len(buffer), self.size - self.position, 64 * 1024)
        buffer[:n] = b"a" * n
        self.position += n
        self.read_bytes += n
        return n


@pytest.mark.parametrize("path", ["/sign-in", "/twilio/voice", "/twilio/sms", "/api/heartbeat",
                                  "/admin/lines/new"])
def test_a_body_over_the_limit_is_refused_before_it_is_read(client: FlaskClient, path: str) -> None:
    # The review sent 200 MB; any size over the limit shows it (the Content-Length is what counts).
    body = CountingBody(50 * BODY_LIMIT_BYTES)
    response = client.post(path, input_stream=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413
    assert body.read_bytes == 0
    assert "larger than 1000 kB" in response.get_data(as_text=True)


def test_a_chunked_body_is_cut_off_at_the_limit(client: FlaskClient) -> None:
    # Chunked: no Content-Length, and the server says the stream ends (gunicorn and Werkzeug do).
    body = CountingBody(20 * BODY_LIMIT_BYTES)
    response = client.post("/twilio/sms", input_stream=body,
                           content_type="application/x-www-form-urlencoded",
                           environ_overrides={"HTTP_TRANSFER_ENCODING": "chunked",
                                              "wsgi.input_terminated": True})
    assert response.status_code == 413
    assert body.read_bytes <= BODY_LIMIT_BYTES + 128 * 1024


def test_a_real_server_refuses_a_chunked_body_over_the_limit(app: Flask) -> None:
    # Through a real HTTP server that de-chunks the body itself, as Werkzeug's and gunicorn's do.
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        chunk = b"Body=" + b"a" * (64 * 1024 - 5)
        connection = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=30)
        connection.request("POST", "/twilio/sms", body=iter([chunk] * 40), encode_chunked=True,
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert connection.getresponse().status == 413
        small = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=30)
        small.request("POST", "/twilio/sms", body=iter([b"Body=hi"]), encode_chunked=True,
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert small.getresponse().status == 403  # read whole, then refused for its signature
    finally:
        server.shutdown()
        thread.join(timeout=10)


def test_the_api_answers_413_in_json(client: FlaskClient) -> None:
    response = client.post("/api/heartbeat", data="x" * (BODY_LIMIT_BYTES + 1),
                           content_type="application/json")
    assert response.status_code == 413 and "larger than" in response.get_json()["error"]


def test_a_roster_file_may_be_larger_than_a_form(client: FlaskClient, runtime: Runtime) -> None:
    sign_in_admin(client, runtime)
    token = form_csrf(client, "/admin/roster/import")
    # A valid roster padded with a comment past the ordinary limit is still read and imported.
    roster = (Path(__file__).resolve().parents[1] / "fixtures" / "roster.example.yaml").read_text()
    padded = roster + "#" + "x" * (BODY_LIMIT_BYTES // 2) + "\n"
    response = client.post("/admin/roster/import", data={
        "csrf_token": token, "text": padded,
        "file": (io.BytesIO(padded.encode()), "roster.yaml"),
    }, content_type="multipart/form-data")
    assert response.status_code == 302, text(response)[:500]
    too_big = client.post("/admin/roster/import", data={
        "csrf_token": token, "file": (io.BytesIO(b"#" * (3 * BODY_LIMIT_BYTES)), "roster.yaml"),
    }, content_type="multipart/form-data")
    assert too_big.status_code == 413


# --------------------------------------------------------------------------- 8. repeated keys


def test_repeated_form_keys_are_checked_not_crashed(client: FlaskClient, runtime: Runtime) -> None:
    form: dict[str, str | list[str]] = {"CallSid": "CA" + "1" * 32, "From": ["+15005550006", "b"],
                                        "To": "+12125550100"}
    # The review's request: From=a&From=b, unsigned and forged: 403, not 500.
    assert client.post("/twilio/voice", data=form).status_code == 403
    forged = client.post("/twilio/voice", data=form, headers={"X-Twilio-Signature": "Zm9yZ2Vk"})
    assert forged.status_code == 403
    # Signed over every value, as Twilio signs: accepted and answered with TwiML.
    signed = client.post("/twilio/voice", data=form, headers=_signed(runtime, "/twilio/voice", form))
    assert signed.status_code == 200
    assert_valid_voice_twiml(signed.get_data(as_text=True))


# --------------------------------------------------------------------------- 10, 11. numbers


def test_parse_refuses_what_isdigit_lets_through() -> None:
    assert parse_whole_number("42") == 42 and parse_whole_number(" 7 ") == 7
    for bad in ("²", "٣", "1²", "9" * 4301, "9" * 19, "-1", "1e3", "", " ", "0x10", "+1"):
        assert parse_whole_number(bad) is None, bad
    assert parse_id(str(MAX_ID)) == MAX_ID
    assert parse_id(str(MAX_ID + 1)) is None and parse_id("0") is None
    assert parse_id(OVERSIZED_ID) is None


def test_oversized_ids_are_404_on_every_route(client: FlaskClient, runtime: Runtime) -> None:
    line_id = make_line(runtime)
    make_peer(runtime, "robin@example.org", line_id=line_id, role="admin")
    sign_in(client, "robin@example.org")
    for path in (f"/admin/peers/{OVERSIZED_ID}", f"/admin/lines/{OVERSIZED_ID}",
                 f"/admin/audit?before={OVERSIZED_ID}", f"/admin/reports?line={OVERSIZED_ID}",
                 f"/admin/roster?line={OVERSIZED_ID}", "/admin/roster?line=%C2%B2",
                 f"/admin/roster/lines/{line_id}/shifts/{OVERSIZED_ID}",
                 f"/admin/roster/lines/{OVERSIZED_ID}/shifts/new",
                 f"/admin/reports/report.csv?line={OVERSIZED_ID}"):
        assert client.get(path).status_code == 404, path
    token = form_csrf(client, "/dashboard")
    for path in (f"/dashboard/callbacks/{OVERSIZED_ID}/take", f"/admin/peers/{OVERSIZED_ID}/deactivate",
                 f"/admin/roster/shifts/{OVERSIZED_ID}/skip", f"/admin/roster/shifts/{OVERSIZED_ID}/delete"):
        assert client.post(path, data={"csrf_token": token}).status_code == 404, path
    api = client.post(f"/api/callbacks/{OVERSIZED_ID}/take", headers={"X-CSRFToken": token})
    assert api.status_code == 404 and api.is_json


@pytest.mark.parametrize("typed", ["²", "9" * 4400])
def test_admin_forms_answer_at_the_field_not_500(
    client: FlaskClient, runtime: Runtime, typed: str,
) -> None:
    sign_in_admin(client, runtime)
    new_line = {"name": "Night", "number": "+12125550150", "timezone": "UTC", "languages": "en",
                "hour_rows": typed, "max_wait_seconds": typed, "wrap_up_seconds": typed}
    response = post(client, "/admin/lines/new", new_line)
    assert response.status_code == 422
    assert "Longest wait" in text(response)
    rows = post(client, "/admin/experiences", {"rows": typed, "experiences-0-id": typed})
    assert rows.status_code in (302, 422)


def test_a_keypad_superscript_two_is_no_choice_not_an_outage(client: FlaskClient, runtime: Runtime) -> None:
    with runtime.sessions.begin() as session:
        import_roster_text(session, runtime.keys, TWO_LANGUAGES)
    arrival = {"CallSid": "CA" + "2" * 32, "From": "+15005550006", "To": "+12125550100"}
    first = client.post("/twilio/voice", data=arrival, headers=_signed(runtime, "/twilio/voice", arrival))
    page = first.get_data(as_text=True)
    assert "/twilio/voice/language?contact=" in page, page
    action = page.split('action="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    choice = {**arrival, "Digits": "²"}
    answer = client.post(action, data=choice, headers=_signed(runtime, action, choice))
    body = answer.get_data(as_text=True)
    assert_valid_voice_twiml(body)
    # A wrong key, asked again within the bound (voice/questions.py), not the backup route's
    # apology and <Dial>.
    assert "<Dial" not in body and "didn't get that" in body and "For English, press 1" in body, body


TWO_LANGUAGES = """
version: 1
lines:
  - number: "+12125550100"
    name: "Test Warmline"
    timezone: "UTC"
    languages: [en, es]
    backup_number: "+12125550188"
experiences:
  - {key: grief, label: "Grief and loss", digit: 5, keyword: GRIEF}
peers:
  - {email: sam@example.org, name: "Sam", phone: "+12125550101", experiences: [grief],
     languages: [en], channels: [voice]}
shifts:
  - {peer: sam@example.org, line: "+12125550100", start: "2026-01-01 00:00", end: "00:00",
     repeat: "FREQ=DAILY"}
"""


# --------------------------------------------------------------------------- 14. CSV formulas


def test_csv_cells_that_a_spreadsheet_would_run_are_escaped() -> None:
    for formula in ("=HYPERLINK(\"http://evil.example\",\"x\")", "+1+1", "-2+3", "@SUM(A1)",
                    "\tX", "\rX"):
        assert csv_cell(formula) == "'" + formula
    assert csv_cell("Sam") == "Sam" and csv_cell(-3) == -3 and csv_cell("a=b") == "a=b"


def test_the_report_csv_writes_a_formula_name_as_text(client: FlaskClient, runtime: Runtime) -> None:
    load_example(runtime)
    name = '=HYPERLINK("http://evil.example","Sam")'
    with runtime.sessions.begin() as session:
        line_id = session.scalars(select(Line.id).order_by(Line.id)).first()
        peer = session.scalars(select(Peer).order_by(Peer.id)).first()
        assert peer is not None and line_id is not None
        peer.name = name
        session.add(ContactEvent(event_key="k1", contact_id="c1", line_id=line_id, channel="voice",
                                 kind="bridged", peer_id=peer.id, at=datetime.now(UTC), detail={}))
    sign_in_admin(client, runtime)
    body = client.get(f"/admin/reports/report.csv?line={line_id}").get_data(as_text=True)
    cells = [cell for row in csv.reader(io.StringIO(body)) for cell in row]
    assert "'" + name in cells
    assert not [cell for cell in cells if cell.startswith(("=", "+", "@"))]
