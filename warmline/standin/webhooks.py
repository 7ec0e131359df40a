"""Makes the stand-in's signed HTTP requests to the app, timed and recorded."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit, urlunsplit

import requests

from warmline.standin.record import Record
from warmline.standin.signing import sign

USER_AGENT = "TwilioProxy/1.1 (warmline stand-in)"


@dataclass(frozen=True)
class Answer:
    """What the app answered: `status` 0 means no HTTP answer at all (`error` says why)."""

    url: str
    status: int
    body: str
    content_type: str
    ms: float
    error: str = ""
    error_code: int = 0  # Twilio's code for the failure, 0 when the answer arrived


def _with_query(url: str, params: Mapping[str, str]) -> str:
    parts = urlsplit(url)
    extra = urlencode(list(params.items()))
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


class Webhooks:
    """Signs each request over the URL exactly as configured, like Twilio."""

    def __init__(self, auth_token: str, record: Record) -> None:
        self._token = auth_token
        self._record = record

    def request(self, url: str, method: str, params: Mapping[str, str], deadline: float,
                *, purpose: str, call_sid: str | None = None) -> Answer:
        """One request with a wall-clock `deadline` (seconds); never raises."""
        method = (method or "POST").upper()
        if method == "GET":
            target, form = _with_query(url, params), {}
        else:
            target, form = url, dict(params)
        headers = {"X-Twilio-Signature": sign(self._token, target, form),
                   "User-Agent": USER_AGENT, "I-Twilio-Idempotency-Token": purpose}
        started = time.monotonic()
        try:
            response = requests.request(method, target, data=form or None, headers=headers,
                                        timeout=deadline, allow_redirects=False)
            answer = Answer(target, response.status_code, response.text,
                            response.headers.get("Content-Type", ""),
                            (time.monotonic() - started) * 1000)
        except requests.Timeout:
            answer = Answer(target, 0, "", "", (time.monotonic() - started) * 1000,
                            error="timeout", error_code=11205)
        except requests.RequestException as exc:
            answer = Answer(target, 0, "", "", (time.monotonic() - started) * 1000,
                            error=f"connection: {type(exc).__name__}", error_code=11205)
        self._record.add("webhook", call_sid, purpose=purpose, url=target, method=method,
                         params=dict(params), status=answer.status, body=answer.body[:4000],
                         ms=round(answer.ms, 1), error=answer.error)
        return answer
