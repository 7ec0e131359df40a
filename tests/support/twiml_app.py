"""The stand-in's own tests: their numbers and speed, a small Flask app of TwiML fixtures (every
request recorded and its signature checked), a wait for state outside the stand-in, and the
app's REST gateway pointed at a stand-in."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, request
from twilio.request_validator import RequestValidator

from config import Settings
from warmline.standin import Standin
from warmline.telephony.gateway import RestTwilioGateway

SPEED = 10.0  # stand-in seconds run ten times faster than wall seconds in these tests
LINE = "+15550001000"
PEER = "+15550002000"
CALLER = "+15550003000"

Answer = str | tuple[str, int] | tuple[str, int, str]
Handler = Callable[[dict[str, str]], Answer]


@dataclass
class Seen:
    """One request the fixture app received."""

    path: str
    method: str
    url: str
    form: dict[str, str]
    signature: str
    valid: bool


class TwimlApp:
    """Answers each path with the handler a test set; records and checks every request."""

    def __init__(self, auth_token: str) -> None:
        self.handlers: dict[str, Handler] = {}
        self.seen: list[Seen] = []
        self.lock = threading.Lock()
        self.validator = RequestValidator(auth_token)
        self.url = ""
        self.app = Flask("twiml-fixtures")
        self.app.add_url_rule("/<path:path>", "any", self.answer, methods=["GET", "POST"])

    def on(self, path: str, answer: Answer | Handler) -> str:
        """Serve `answer` (TwiML text or a function of the request's params) at `path`."""
        self.handlers[path] = answer if callable(answer) else (lambda _form: answer)
        return self.url + path

    def answer(self, path: str) -> Response:
        path = "/" + path
        full_url = self.url + request.full_path.rstrip("?")
        form = request.form.to_dict() if request.method == "POST" else {}
        params = form if request.method == "POST" else request.args.to_dict()
        signature = request.headers.get("X-Twilio-Signature", "")
        valid = self.validator.validate(full_url, form, signature)
        with self.lock:
            self.seen.append(Seen(path, request.method, full_url, params, signature, valid))
        handler = self.handlers.get(path)
        if handler is None:
            return Response("<Response/>", content_type="text/xml")
        result = handler(params)
        if isinstance(result, tuple):
            body, status, *kind = result
            return Response(body, status=status, content_type=kind[0] if kind else "text/xml")
        return Response(result, content_type="text/xml")

    def requests(self, path: str) -> list[Seen]:
        with self.lock:
            return [s for s in self.seen if s.path == path]

    def wait_for(self, path: str, count: int = 1, timeout: float = 60.0) -> list[Seen]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.requests(path)
            if len(found) >= count:
                return found
            time.sleep(0.01)
        raise TimeoutError(f"{path}: {len(self.requests(path))} of {count} requests")


def wait(predicate: Callable[[], Any], timeout: float = 60.0) -> Any:
    """Poll `predicate` until truthy (for state outside the stand-in's record)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.01)
    raise TimeoutError("condition not met")


def standin_gateway(standin: Standin, settings: Settings) -> RestTwilioGateway:
    """The app's REST gateway, pointed at this stand-in with its account and token."""
    return RestTwilioGateway(dataclasses.replace(
        settings, twilio_api_url=standin.url, twilio_account_sid=standin.config.account_sid,
        twilio_auth_tokens=(standin.config.auth_token,)))
