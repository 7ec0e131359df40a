"""Texts end to end: a texting line and its peers over the one harness (tests/support/live.py),
with jobs run when the test says (`run_jobs`, `settle`)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask
from flask.testing import FlaskClient

from tests.support.dashboard import PASSWORD, api_csrf, sign_in
from tests.support.jobs import run_jobs
from tests.support.live import LiveWarmline
from warmline.models import Experience, Line, Peer, Shift, User
from warmline.routing.engine import RoutingEngine
from warmline.runtime import Runtime
from warmline.services.accounts.users import hash_password
from warmline.standin import Phone, Standin

LINE_NUMBER = "+15550001000"
LINE_NAME = "Peer Warmline NYC"
ZONE = "America/New_York"


@dataclass
class TextWorld:
    runtime: Runtime
    app: Flask
    standin: Standin
    url: str
    line_id: int
    peers: dict[str, int] = field(default_factory=dict)
    clients: dict[str, FlaskClient] = field(default_factory=dict)

    # -- jobs -------------------------------------------------------------------------------

    def run_jobs(self) -> None:
        """Work every queue until empty, moving due scheduled jobs (retries, idle checks) in."""
        run_jobs(self.runtime.redis)

    def settle(self, check: Callable[[], Any], timeout: float = 60.0, what: str = "") -> Any:
        deadline = time.monotonic() + timeout
        while True:
            self.run_jobs()
            found = check()
            if found:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"not settled: {what or check}")
            time.sleep(0.05)

    # -- people -----------------------------------------------------------------------------

    def add_peer(self, key: str, *, phone: str, experiences: tuple[str, ...] = (),
                 max_texts: int = 2, on_shift: bool = True, name: str | None = None,
                 languages: tuple[str, ...] = ("en",)) -> int:
        with self.runtime.sessions.begin() as session:
            found = [e for e in session.query(Experience).all() if e.key in experiences]
            peer = Peer(email=f"{key}@example.org", name=name or f"{key.title()} Peer",
                        phone_encrypted=self.runtime.keys.encrypt(phone),
                        phone_hash=self.runtime.keys.keyed_hash(phone),
                        channels=["voice", "sms"], max_texts=max_texts, experiences=found,
                        languages=list(languages))
            session.add(peer)
            session.flush()
            local_now = datetime.now(UTC).astimezone(ZoneInfo(ZONE)).replace(tzinfo=None)
            start = (local_now - timedelta(hours=1) if on_shift
                     else local_now + timedelta(days=2)).replace(second=0, microsecond=0)
            session.add(Shift(peer_id=peer.id, line_id=self.line_id, start_local=start,
                              end_local=(start + timedelta(hours=4)).time()))
            session.add(User(email=peer.email, role="peer", peer_id=peer.id,
                             password_hash=hash_password(PASSWORD), session_version=1,
                             failed_sign_ins=0, active=True))
            session.flush()
            self.peers[key] = peer.id
        client = self.app.test_client()
        sign_in(client, f"{key}@example.org")
        self.clients[key] = client
        return self.peers[key]

    def api(self, key: str, method: str, path: str, json: Any = None) -> tuple[int, Any]:
        client = self.clients[key]
        headers = {"X-CSRFToken": api_csrf(client)}
        response = client.open(path, method=method, json=json, headers=headers)
        return response.status_code, response.get_json()

    def go_available(self, key: str) -> None:
        self.api(key, "POST", "/api/heartbeat")
        status, body = self.api(key, "PUT", "/api/presence", {"presence": "available"})
        assert status == 200, body

    def texts(self, key: str) -> dict[str, Any]:
        self.api(key, "POST", "/api/heartbeat")
        status, body = self.api(key, "GET", "/api/texts")
        assert status == 200, body
        result: dict[str, Any] = body
        return result

    def wait_offer(self, key: str, timeout: float = 60.0) -> dict[str, Any]:
        found: dict[str, Any] = self.settle(lambda: (self.texts(key)["offers"] or [None])[0],
                                            timeout, f"an offer for {key}")
        return found

    def accept_next(self, key: str) -> str:
        offer = self.wait_offer(key)
        status, body = self.api(key, "POST", f"/api/texts/offers/{offer['offer_id']}/accept")
        assert status == 200, body
        contact_id: str = offer["contact_id"]
        return contact_id

    def conversation(self, key: str, contact_id: str) -> dict[str, Any] | None:
        return next((c for c in self.texts(key)["conversations"]
                     if c["contact_id"] == contact_id), None)

    def texter(self, number: str) -> Phone:
        return self.standin.texter(number)

    def wait_text(self, phone: Phone, contains: str, timeout: float = 60.0) -> str:
        def found() -> str | None:
            return next((b for b in self.bodies(phone) if contains in b), None)
        body: str = self.settle(found, timeout, f"a text with {contains!r}")
        return body

    def bodies(self, phone: Phone) -> list[str]:
        """What reached the phone, from the stand-in's record (a redacted body stays readable)."""
        return [str(e.data["body"]) for e in self.standin.events("text_received")
                if e.data.get("number") == phone.number]


def text_world(live: LiveWarmline) -> TextWorld:
    """A texting line with two experiences on the running system, its number pointed at the app."""
    runtime = live.runtime
    # A complete (empty) routing state, as the `runtime` fixture makes for the other tests.
    RoutingEngine(runtime.redis).mark_state_built("test")
    live.app.config["TESTING"] = True
    with runtime.sessions.begin() as session:
        session.add_all([
            Experience(key="recovery", label="recovery", digit=1, keyword="RECOVERY"),
            Experience(key="veteran", label="veterans", digit=2, keyword="VETERAN"),
        ])
        line = Line(number=LINE_NUMBER, name=LINE_NAME, timezone=ZONE, languages=["en"],
                    crisis_number="+15550009988", callbacks=True, daily_contact_limit=20,
                    wrap_up_seconds=60)
        session.add(line)
        session.flush()
        line_id = line.id
    live.standin.add_number(LINE_NUMBER, sms_url=live.url + "/twilio/sms")
    return TextWorld(runtime, live.app, live.standin, live.url, line_id)


def new_number() -> str:
    return "+1555" + str(uuid.uuid4().int)[:7]
