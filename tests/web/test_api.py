"""The JSON API: same sign-in and CSRF rules as the pages, JSON errors, own lines only."""

from __future__ import annotations

import re
import time
import uuid
from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient

from tests.support.dashboard import api_csrf, make_admin_without_peer, make_line, make_peer, sign_in
from warmline import keys
from warmline.domain.matching import ContactView
from warmline.models import CallbackRequest
from warmline.routing.engine import RoutingEngine
from warmline.runtime import Runtime
from warmline.services.peers import dashboard as service

CALLER = "+15005550199"
PEER_PATHS = ("/api/me", "/api/presence", "/api/queue", "/api/callbacks", "/api/shifts")


def _signed_in(client: FlaskClient, runtime: Runtime, *, on_shift: bool = True) -> tuple[int, int, str]:
    line = make_line(runtime)
    peer_id, _ = make_peer(runtime, "robin@example.org", line_id=line, on_shift=on_shift)
    sign_in(client, "robin@example.org")
    return line, peer_id, api_csrf(client)


def test_every_peer_endpoint_is_401_json_without_a_session(client: FlaskClient) -> None:
    for path in PEER_PATHS:
        response = client.get(path)
        assert response.status_code == 401 and response.is_json, path
        assert response.get_json() == {"error": "sign in first"}
    for path in ("/api/heartbeat", "/api/support", "/api/callbacks/1/take"):
        assert client.post(path).status_code == 401, path
    assert client.put("/api/presence", json={"presence": "off"}).status_code == 401


def test_an_admin_without_a_peer_gets_403(client: FlaskClient, runtime: Runtime) -> None:
    make_admin_without_peer(runtime)
    sign_in(client, "admin@example.org")
    response = client.get("/api/queue")
    assert response.status_code == 403 and response.is_json


def test_me_names_the_peer_and_their_lines(client: FlaskClient, runtime: Runtime) -> None:
    line, peer_id, _ = _signed_in(client, runtime)
    body = client.get("/api/me").get_json()
    assert body["peer_id"] == peer_id and body["role"] == "peer" and body["first_name"] == "Robin"
    assert body["lines"] == [{"id": line, "name": "Main line", "timezone": "America/New_York"}]


def test_presence_round_trip(client: FlaskClient, runtime: Runtime) -> None:
    _, _, token = _signed_in(client, runtime)
    headers = {"X-CSRFToken": token}
    assert client.get("/api/presence").get_json()["presence"] == "off"
    response = client.put("/api/presence", json={"presence": "available"}, headers=headers)
    assert response.status_code == 200
    body = response.get_json()
    assert body["presence"] == "available" and body["on_shift"] is True
    assert "on shift until" in body["message"]
    assert client.put("/api/presence", json={"presence": "break"}, headers=headers).get_json()[
        "presence"] == "break"


def test_presence_errors_are_json(client: FlaskClient, runtime: Runtime) -> None:
    _, _, token = _signed_in(client, runtime, on_shift=False)
    headers = {"X-CSRFToken": token}
    refused = client.put("/api/presence", json={"presence": "available"}, headers=headers)
    assert refused.status_code == 409 and "not on shift" in refused.get_json()["error"]
    for bad in ({"presence": "busy"}, {"presence": 1}, {}, [], {"presence": "off", "x": 1}):
        response = client.put("/api/presence", json=bad, headers=headers)
        assert response.status_code == 400 and response.is_json, bad
    garbled = client.put("/api/presence", data="{not json", headers=headers,
                         content_type="application/json")
    assert garbled.status_code == 400 and garbled.is_json
    missing_token = client.put("/api/presence", json={"presence": "off"})
    assert missing_token.status_code == 400 and "CSRF" in missing_token.get_json()["error"]


def test_unknown_paths_and_methods_are_json(client: FlaskClient, runtime: Runtime) -> None:
    _signed_in(client, runtime)
    response = client.get("/api/nothing-here")
    assert response.status_code == 404 and response.is_json
    response = client.delete("/api/queue")
    assert response.status_code == 405 and response.is_json


def test_queue_counts_only_the_peers_lines_and_no_identity(client: FlaskClient, runtime: Runtime) -> None:
    line, _, _ = _signed_in(client, runtime)
    other = make_line(runtime, number="+15005550002", name="Other line")
    engine = RoutingEngine(runtime.redis)
    now = time.time()
    for line_id in (line, other):
        engine.arrive(ContactView(uuid.uuid4().hex, line_id, "sms", None, "en", 0, now - 42), now)
    body = client.get("/api/queue").get_json()
    assert body == {"waiting": [{
        "line_id": line, "line_name": "Main line", "experience_key": None, "experience": "Anyone",
        "channel": "sms", "waiting": 1, "longest_wait_seconds": body["waiting"][0]["longest_wait_seconds"],
    }]}
    assert body["waiting"][0]["longest_wait_seconds"] >= 42


def test_callbacks_list_and_take(client: FlaskClient, runtime: Runtime) -> None:
    line, peer_id, token = _signed_in(client, runtime)
    now = datetime.now(UTC)
    with runtime.sessions.begin() as session:
        row = CallbackRequest(
            contact_id=uuid.uuid4().hex, line_id=line, caller_hash=runtime.keys.keyed_hash(CALLER),
            number_encrypted=runtime.keys.encrypt(CALLER), window_start=now,
            window_end=now + timedelta(hours=1), expires_at=now + timedelta(days=1),
        )
        session.add(row)
        session.flush()
        callback_id = row.id
    listed = client.get("/api/callbacks")
    assert CALLER not in listed.get_data(as_text=True)
    assert [c["id"] for c in listed.get_json()["callbacks"]] == [callback_id]
    headers = {"X-CSRFToken": token}
    taken = client.post(f"/api/callbacks/{callback_id}/take", headers=headers)
    assert taken.status_code == 200 and taken.get_json()["taken_by_me"] is True
    assert client.post(f"/api/callbacks/{callback_id}/take", headers=headers).status_code == 200
    with runtime.sessions.begin() as session:
        stored = session.get(CallbackRequest, callback_id)
        assert stored is not None
        stored.peer_id = None
        stored.status = "connected"
    assert client.post(f"/api/callbacks/{callback_id}/take", headers=headers).status_code == 409
    assert client.post("/api/callbacks/999999/take", headers=headers).status_code == 404
    assert client.post(f"/api/callbacks/{2**40}/take", headers=headers).status_code == 404
    assert peer_id


def test_shifts_heartbeat_and_support(client: FlaskClient, runtime: Runtime) -> None:
    line, peer_id, token = _signed_in(client, runtime)
    shifts = client.get("/api/shifts").get_json()["shifts"]
    assert len(shifts) == 1 and shifts[0]["line_id"] == line
    assert datetime.fromisoformat(shifts[0]["start"]) < datetime.now(UTC)
    headers = {"X-CSRFToken": token}
    assert client.post("/api/heartbeat", headers=headers).get_json() == {
        "open": True, "ttl_seconds": keys.HEARTBEAT_TTL_SECONDS}
    assert service.dashboard_is_open(runtime.redis, peer_id)
    raised = client.post("/api/support", headers=headers)
    assert raised.status_code == 201 and raised.get_json()["admins_on_shift"] == 0


def test_wrap_up_and_abuse_answer_409_when_not_applicable(client: FlaskClient, runtime: Runtime) -> None:
    _, _, token = _signed_in(client, runtime)
    headers = {"X-CSRFToken": token}
    assert client.post("/api/wrap-up/extend", headers=headers).status_code == 409
    assert client.post("/api/report-abuse", headers=headers).status_code == 409


def test_the_openapi_document_lists_every_api_route(client: FlaskClient) -> None:
    document = client.get("/api/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    documented = set(document["paths"])
    served = {
        re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", str(rule.rule))
        for rule in client.application.url_map.iter_rules()
        if str(rule.rule).startswith("/api/") and rule.rule != "/api/openapi.json"
    }
    assert served == documented, served ^ documented
