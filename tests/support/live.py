"""The one end-to-end harness: the real app on a real port, real RQ jobs, real Redis and
PostgreSQL, and the Twilio stand-in as the phone network. Twilio is the only thing stood in.

`running_warmline` starts it all (tests/e2e/conftest.py's `live` and `world` fixtures, the
browser tests); `LiveWarmline` is what a test holds. The voice tests' line, peers and roster are
here too; texts add their own facade (tests/support/text_world.py)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import select
from werkzeug.serving import make_server

from tests.support.jobs import JobPump
from tests.support.services import TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, clean_database, make_test_settings
from warmline.app import create_app
from warmline.clock import utc_now
from warmline.models import Contact, ContactEvent, Line, Peer
from warmline.roster.importer import import_roster_text
from warmline.runtime import Runtime, build_runtime, set_process_runtime
from warmline.standin import Phone, Standin
from warmline.telephony.configure import configure_numbers

LINE = "+12125550100"
CRISIS = "+12125550199"
BACKUP = "+12125550188"
SAM = "+12125550101"  # recovery, voice
LEE = "+12125550103"  # veteran and recovery, voice
# Stand-in time runs this much faster than the wall clock: a 20 s ring takes one second.
SPEED = 20.0

ROSTER = f"""
version: 1
lines:
  - number: "{LINE}"
    name: "Test Warmline"
    timezone: "America/New_York"
    languages: [en]
    crisis_number: "{CRISIS}"
    backup_number: "{BACKUP}"
    max_wait_seconds: 600
    wrap_up_seconds: 2
    daily_contact_limit: 3
experiences:
  - {{key: recovery, label: "Substance use recovery", digit: 1, keyword: RECOVERY}}
  - {{key: veteran, label: "Veteran", digit: 4, keyword: VETERAN}}
  - {{key: grief, label: "Grief and loss", digit: 5, keyword: GRIEF}}
peers:
  - {{email: sam@example.org, name: "Sam", phone: "{SAM}", experiences: [recovery],
     languages: [en], channels: [voice]}}
  - {{email: lee@example.org, name: "Lee", phone: "{LEE}", experiences: [veteran, recovery],
     languages: [en], channels: [voice]}}
shifts:
  - {{peer: sam@example.org, line: "{LINE}", start: "2026-01-01 00:00", end: "00:00", repeat: "FREQ=DAILY"}}
  - {{peer: lee@example.org, line: "{LINE}", start: "2026-01-01 00:00", end: "00:00", repeat: "FREQ=DAILY"}}
"""


@dataclass
class LiveWarmline:
    """The app served on a port, its job pump and the stand-in, wired like a real deployment."""

    runtime: Runtime
    url: str
    standin: Standin
    pump: JobPump | None
    """Works every queue in the background; None where the test runs jobs itself."""
    app: Flask
    peers: dict[str, Phone] = field(default_factory=dict)

    def import_roster(self, text: str) -> None:
        with self.runtime.sessions() as session:
            import_roster_text(session, self.runtime.keys, text, prune=True, actor="test",
                               user_id=None, source="test", now=datetime.now(UTC))
            session.commit()
        configure_numbers(self.runtime, self.runtime.twilio)

    def peer(self, number: str, **behaviour: Any) -> Phone:
        """A peer's phone that answers and presses 1 on the whisper unless told otherwise."""
        behaviour.setdefault("mode", "answer")
        behaviour.setdefault("answer_after", 0.5)
        behaviour.setdefault("press", {"Press 1 to accept": "1"})
        phone = self.standin.peer_phone(number, **behaviour)
        self.peers[number] = phone
        return phone

    def go_available(self, *peer_ids: int) -> None:
        from warmline.domain.matching import Presence
        from warmline.services import routing
        from warmline.services.routing_sync import refresh_line_routing

        now = datetime.now(UTC)
        with self.runtime.sessions() as session:
            line_ids = list(session.scalars(select(Line.id)))
        for line_id in line_ids:
            refresh_line_routing(self.runtime, line_id, now, force=True)
        for peer_id in peer_ids:
            change = routing.set_presence(self.runtime, peer_id, Presence.AVAILABLE, now)
            assert change.presence == Presence.AVAILABLE, change

    def peer_id(self, email: str) -> int:
        with self.runtime.sessions() as session:
            return session.scalars(select(Peer.id).where(Peer.email == email)).one()

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 60.0) -> Any:
        return self.standin.wait_for(predicate, timeout)

    def never(self, happened: Callable[[], Any], within: float, why: str) -> None:
        """Wait up to `within` seconds for something that must not happen; fail if it does.

        A fixed sleep before a check passes vacuously on a slow machine; this waits on the very
        event that would have happened, re-checking it as the stand-in records anything.
        """
        try:
            self.wait_for(happened, timeout=within)
        except TimeoutError:
            return
        raise AssertionError(why)

    def contact_of_call(self, call_sid: str) -> Contact | None:
        with self.runtime.sessions() as session:
            return session.scalars(select(Contact).where(Contact.provider_sid == call_sid)).first()

    def outcome_of(self, call_sid: str, timeout: float = 60.0) -> str:
        """The outcome SQL records for the contact of this call, once the event job wrote it."""

        def recorded() -> str | None:
            contact = self.contact_of_call(call_sid)
            return contact.outcome if contact else None

        outcome: str = self.wait_for(recorded, timeout)
        return outcome

    def event_kinds(self, call_sid: str) -> list[str]:
        contact = self.contact_of_call(call_sid)
        assert contact is not None
        with self.runtime.sessions() as session:
            return list(session.scalars(select(ContactEvent.kind).where(
                ContactEvent.contact_id == contact.id).order_by(ContactEvent.at, ContactEvent.id)))

    def presence(self, peer_id: int) -> str | None:
        from warmline.services import routing

        value = routing.routing_engine(self.runtime, utc_now()).presence(peer_id)
        return value.value if value else None


def serve_app(
    runtime_for_url: Callable[[str], Runtime],
) -> tuple[str, Callable[[], None], Runtime, Flask]:
    """Serve the app on a free port; the runtime is made once the URL is known."""
    holder: dict[str, Any] = {}

    def wsgi(environ: dict[str, Any], start_response: Any) -> Any:
        return holder["app"](environ, start_response)

    server = make_server("127.0.0.1", 0, wsgi, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    runtime = runtime_for_url(url)
    holder["app"] = create_app(runtime=runtime)
    thread = threading.Thread(target=lambda: server.serve_forever(poll_interval=0.05), daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()

    return url, stop, runtime, holder["app"]


@contextmanager
def running_warmline(database_url: str, tmp_path: Path, standin_options: dict[str, Any] | None = None,
                     *, pump: bool = True, **overrides: str) -> Iterator[LiveWarmline]:
    """The whole system on this machine; `overrides` change settings (e.g. REDIS_URL). Without
    `pump`, no job runs unless the test runs it."""
    options: dict[str, Any] = {"speed": SPEED, **(standin_options or {})}
    standin = Standin(account_sid=TEST_ACCOUNT_SID, auth_token=TEST_AUTH_TOKEN, **options).start()

    def runtime_for(url: str) -> Runtime:
        settings = make_test_settings(database_url, tmp_path, TWILIO_API_URL=standin.url,
                                      WARMLINE_PUBLIC_URL=url, **overrides)
        return build_runtime(settings)

    url, stop_app, runtime, app = serve_app(runtime_for)
    clean_database(runtime)
    runtime.redis.flushdb()
    set_process_runtime(runtime)
    standin.add_number(LINE)
    warmline = LiveWarmline(runtime=runtime, url=url, standin=standin, app=app,
                            pump=JobPump(runtime.redis).start() if pump else None)
    try:
        yield warmline
    finally:
        if warmline.pump is not None:  # a test may have swapped in its own (test_voice_bounded)
            warmline.pump.stop()
        standin.stop()
        stop_app()
        set_process_runtime(None)
        with suppress(Exception):
            runtime.redis.flushdb()
        runtime.close()
    assert standin.schema_failures == 0, "the app answered TwiML that breaks Twilio's schema"
