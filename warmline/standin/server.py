"""`Standin`: the whole fake Twilio in one object, served in a thread or as a process."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from typing import Any

from flask import Flask
from twilio.rest import Client
from werkzeug.serving import BaseWSGIServer, make_server

from warmline.standin.config import CallbackPolicy, RestFault, StandinConfig
from warmline.standin.control import make_control
from warmline.standin.model import IncomingNumber, Leg, Source
from warmline.standin.network import Network
from warmline.standin.outbound import run_outbound
from warmline.standin.people import Behaviour, Phone
from warmline.standin.phone_page import make_phone_page
from warmline.standin.record import Event, Record
from warmline.standin.rest import InjectedFailure, make_rest, net_add_number
from warmline.standin.rest_conferences import add_conference_routes


class Standin:
    """A local Twilio: REST API, voice and messaging, simulated people, and a record.

    `Standin(speed=10).start()` serves it on a free port (`.url`); `.stop()` ends it.
    """

    def __init__(self, config: StandinConfig | None = None, **changes: Any) -> None:
        self.config = dataclasses.replace(config or StandinConfig(), **changes)
        self.net = Network(self.config)
        # Names the phone page shows beside numbers ("Sam (peer)").
        self.labels: dict[str, str] = {}
        self.app = self.create_app()
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    # -- serving -------------------------------------------------------------------------------

    def create_app(self) -> Flask:
        app = Flask("warmline.standin")
        rest = make_rest(self.net, self.start_call)
        add_conference_routes(rest, self.net, self.start_call)
        app.register_blueprint(rest)
        app.register_blueprint(make_control(self))
        app.register_blueprint(make_phone_page(self))  # a phone on the screen
        return app

    def start(self, host: str = "127.0.0.1", port: int = 0) -> Standin:
        """Serve on `host:port` (0: any free port) in a background thread."""
        self._server = make_server(host, port, self.app, threaded=True)
        self.url = f"http://{host}:{self._server.server_port}"
        server = self._server
        # A short poll keeps stop() quick; the default half second adds up across tests.
        self._thread = threading.Thread(target=lambda: server.serve_forever(poll_interval=0.05),
                                        name="standin-http", daemon=True)
        self._thread.start()
        self.record.add("started", None, url=self.url)
        return self

    def serve_forever(self, host: str, port: int) -> None:
        """Serve in this thread until interrupted (the command line uses this)."""
        self._server = make_server(host, port, self.app, threaded=True)
        self.url = f"http://{host}:{self._server.server_port}"
        try:
            self._server.serve_forever()
        finally:
            self.stop()

    def stop(self, wait: float = 2.0) -> None:
        """Hang up every live call and stop serving; threads get `wait` seconds to end."""
        with self.net.cond:
            self.net.closed = True
            for leg in self.net.legs.values():
                if not leg.final:
                    leg.hung_up = True
                    if leg.bridge is not None:
                        leg.bridge.ended = True
            self.net.cond.notify_all()
        if self._server is not None and self._thread is not None:
            self._server.shutdown()
            self._server.server_close()
        deadline = time.monotonic() + wait
        for thread in self.net.threads():
            thread.join(max(0.0, deadline - time.monotonic()))

    def __enter__(self) -> Standin:
        return self.start() if not self.url else self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def misbehave(self, *, callbacks: CallbackPolicy | None = None,
                  rest_fault: RestFault | None = None) -> None:
        """Change, while running, how callbacks are delivered and whether REST fails (a soak's
        faults); what is not given stays as it is."""
        changes: dict[str, Any] = {}
        if callbacks is not None:
            changes["callbacks"] = callbacks
        if rest_fault is not None:
            changes["rest_fault"] = rest_fault
        self.config = dataclasses.replace(self.config, **changes)
        self.net.config = self.config
        self.record.add("misbehave", None, **{k: str(v) for k, v in changes.items()})

    # -- the world -----------------------------------------------------------------------------

    @property
    def record(self) -> Record:
        return self.net.record

    def start_call(self, leg: Leg, source: Source) -> None:
        self.net.spawn(lambda: run_outbound(self.net, leg, source), f"leg-{leg.sid}")

    def add_number(self, phone_number: str, *, voice_url: str | None = None,
                   sms_url: str | None = None, voice_fallback_url: str | None = None,
                   sms_fallback_url: str | None = None,
                   status_callback: str | None = None) -> IncomingNumber:
        """Give the account a phone number (an IncomingPhoneNumber) and set its URLs."""
        return net_add_number(self.net, phone_number, voice_url=voice_url, sms_url=sms_url,
                              voice_fallback_url=voice_fallback_url,
                              sms_fallback_url=sms_fallback_url, status_callback=status_callback)

    def phone(self, number: str, mode: str = "answer", **behaviour: Any) -> Phone:
        """A simulated phone at `number` (replacing any earlier one); see `Behaviour`."""
        phone = Phone(self.net, number, Behaviour(mode=mode, **behaviour))
        with self.net.cond:
            self.net.phones[number] = phone
        self.record.add("phone_created", None, number=number, mode=mode)
        return phone

    caller = phone
    texter = phone

    def peer_phone(self, number: str, mode: str = "manual", **behaviour: Any) -> Phone:
        """A peer's mobile: by default it rings until the test answers it."""
        return self.phone(number, mode, **behaviour)

    def fail_rest(self, resource: str, *, status: int, code: int, message: str,
                  times: int = 1) -> None:
        """Answer the next `times` REST creations of `resource` ("Calls", "Messages") with a
        Twilio error; `message` may quote the request ("{To}"), as Twilio's messages do."""
        with self.net.cond:
            self.net.rest_failures.append(InjectedFailure(resource, status, code, message, times))

    def label_phone(self, number: str, label: str) -> None:
        """Show `label` beside `number` on the phone page."""
        self.labels[number] = label

    def client(self) -> Any:
        """A twilio-python `Client` pointed at this stand-in."""
        client = Client(self.config.account_sid, self.config.auth_token)
        client.api.base_url = self.url
        return client

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 60.0) -> Any:
        """Block (wall seconds) until `predicate()` is truthy; re-checked on every change."""
        return self.record.wait_for(predicate, timeout)

    def events(self, kind: str | None = None, call_sid: str | None = None) -> list[Event]:
        return self.record.events(kind, call_sid)

    def legs(self) -> list[Leg]:
        with self.net.cond:
            return list(self.net.legs.values())

    @property
    def schema_failures(self) -> int:
        return self.record.counters.get("schema_failures", 0)
