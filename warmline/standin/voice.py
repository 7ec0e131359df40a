"""Executes voice TwiML on one call leg, verb by verb, the way Twilio does."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urljoin

from warmline.standin.config import APPLICATION_ERROR_TEXT
from warmline.standin.model import CallStatus, Heard, Leg, Source
from warmline.standin.network import LegGone, Network, Redirected
from warmline.standin.webhooks import Answer

XML_TYPES = ("xml", "text/html")


class Goto(Exception):  # noqa: N818 - a control-flow signal, not an error
    """The call moves on to another document (an `action`, a `<Redirect>`)."""

    def __init__(self, doc: Doc) -> None:
        super().__init__("goto")
        self.doc = doc


class LeaveQueue(Exception):  # noqa: N818 - a control-flow signal
    """`<Leave>` ran inside a queue's wait music."""


class Mode(StrEnum):
    """Where TwiML runs: the call itself, a queue's waitUrl, or a whisper (`url` on a noun)."""

    CALL = "call"
    WAIT = "wait"
    WHISPER = "whisper"


ALLOWED = {
    Mode.WAIT: {"Say", "Play", "Pause", "Gather", "Redirect", "Leave", "Hangup"},
    Mode.WHISPER: {"Say", "Play", "Pause", "Gather", "Redirect", "Hangup"},
}


@dataclass(frozen=True)
class Doc:
    """A parsed TwiML document and the URL it came from (relative URLs resolve against it)."""

    url: str | None
    root: ET.Element

    def resolve(self, url: str) -> str:
        return urljoin(self.url, url) if self.url else url


def error_doc() -> Doc:
    text = f"<Response><Say>{APPLICATION_ERROR_TEXT}</Say><Hangup/></Response>"
    return Doc(None, ET.fromstring(text))  # noqa: S314 - our own constant


class Interpreter:
    """Runs TwiML on `leg`; `also` is a second leg whose hang-up also stops it (whispers)."""

    def __init__(self, net: Network, leg: Leg, *, also: Leg | None = None) -> None:
        self.net = net
        self.leg = leg
        self.also = also
        self.bridged = False  # set once a queued leg has been bridged
        self.last_problem = 0  # Twilio's error code for the last refused answer

    # -- the loop ----------------------------------------------------------------------------

    def run(self, source: Source) -> None:
        """Own the leg: execute from `source` until the call ends, then finish it."""
        try:
            self.follow(source, Mode.CALL)
        except LegGone:
            pass
        finally:
            self.net.finish(self.leg)

    def follow(self, source: Source, mode: Mode) -> None:
        """Execute documents from `source` on (actions, redirects) until one runs to its end."""
        doc = self.fetch(source)
        while True:
            try:
                self.execute(doc, mode)
                return
            except Goto as goto:
                doc = goto.doc
            except Redirected:
                if mode != Mode.CALL:
                    raise
                with self.net.cond:
                    target, self.leg.redirect = self.leg.redirect, None
                if target is None:
                    continue
                self.net.record.add("redirected", self.leg.sid, url=target.url)
                doc = self.fetch(target)

    def execute(self, doc: Doc, mode: Mode) -> None:
        for element in list(doc.root):
            self.verb(element, doc, mode)

    def verb(self, el: ET.Element, doc: Doc, mode: Mode) -> None:
        name = el.tag
        allowed = ALLOWED.get(mode)
        if allowed is not None and name not in allowed:
            self.net.record.add("verb_not_allowed", self.leg.sid, verb=name, mode=str(mode))
            return
        self.net.check(self.leg, also=self.also)
        if name != "Reject":
            self.ensure_answered()
        if name == "Dial":
            from warmline.standin.dial import run_dial  # noqa: PLC0415 - dial imports voice
            run_dial(self, el, doc)
        elif name == "Enqueue":
            from warmline.standin.queueing import run_enqueue  # noqa: PLC0415 - cycle
            run_enqueue(self, el, doc)
        else:
            handler = getattr(self, f"do_{name.lower()}", None)
            if handler is None:
                self.net.record.add("verb_unsupported", self.leg.sid, verb=name)
                return
            handler(el, doc, mode)

    def ensure_answered(self) -> None:
        """Twilio answers an inbound call at the first verb that is not `<Reject>`."""
        if self.leg.direction == "inbound" and self.leg.status == CallStatus.RINGING:
            self.net.answer(self.leg)

    # -- fetching ----------------------------------------------------------------------------

    def params(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        params = self.net.call_params(self.leg)
        params.update(extra or {})
        return params

    def fetch(self, source: Source) -> Doc:
        """Request (or parse) TwiML; on failure the fallback URL, then Twilio's error message."""
        if source.twiml is not None:
            return self.parse(source.twiml, None, "inline") or error_doc()
        assert source.url is not None
        params = self.params(dict(source.params))
        answer = self.request(source.url, source.method, params, "voice")
        doc = self.accept(answer)
        if doc is not None:
            return doc
        fallback = self.leg.fallback
        if fallback is not None and fallback.url and fallback.url != source.url:
            params.update({"ErrorCode": str(self.last_problem), "ErrorUrl": source.url})
            again = self.request(fallback.url, fallback.method, params, "voice_fallback")
            doc = self.accept(again)
            if doc is not None:
                self.net.record.add("fallback_used", self.leg.sid, url=fallback.url,
                                    failed_url=source.url)
                return doc
        self.net.record.add("application_error", self.leg.sid, url=source.url)
        self.net.record.count("application_errors")
        return error_doc()

    def request(self, url: str, method: str, params: dict[str, str], purpose: str) -> Answer:
        deadline = self.net.config.webhook_deadline
        answer = self.net.webhooks.request(url, method, params, deadline, purpose=purpose,
                                           call_sid=self.leg.sid)
        self.net.check(self.leg, also=self.also)
        return answer

    def accept(self, answer: Answer) -> Doc | None:
        """A document from a good answer; None (recorded) for anything Twilio would refuse."""
        if answer.status != 200:
            self.refused(answer.url, answer.error_code or 11200,
                         answer.error or f"HTTP {answer.status}")
            return None
        if not any(kind in answer.content_type for kind in XML_TYPES):
            self.refused(answer.url, 12300, f"content type {answer.content_type!r}")
            return None
        return self.parse(answer.body, answer.url, answer.url)

    def refused(self, url: str, code: int, problem: str) -> None:
        self.last_problem = code
        self.net.record.add("webhook_failed", self.leg.sid, url=url, code=code, problem=problem)

    def parse(self, text: str, url: str | None, where: str) -> Doc | None:
        try:
            root = ET.fromstring(text)  # noqa: S314 - TwiML from the app under test
        except ET.ParseError as exc:
            self.refused(where, 12100, f"not XML: {exc}")
            return None
        if root.tag != "Response":
            self.refused(where, 12100, f"root is <{root.tag}>")
            return None
        verdict = self.net.schema.check(text)
        if not verdict.checked:
            self.net.record.count("schema_unchecked")
        elif not verdict.valid:
            self.net.record.add("schema_failure", self.leg.sid, url=where, reason=verdict.reason,
                                body=text[:2000])
            self.net.record.count("schema_failures")
        return Doc(url, root)

    def goto(self, url: str, method: str, params: dict[str, str]) -> None:
        raise Goto(self.fetch(Source(url, method or "POST", params=tuple(params.items()))))

    def notify_ended(self, url: str, method: str, params: dict[str, str]) -> None:
        """An `action` Twilio still requests after the caller hung up; its answer is ignored."""
        full = self.params(params)
        full["CallStatus"] = "completed"
        deadline = self.net.config.webhook_deadline
        self.net.webhooks.request(url, method or "POST", full, deadline,
                                  purpose="action_after_hangup", call_sid=self.leg.sid)

    # -- hearing and waiting -----------------------------------------------------------------

    def hear(self, kind: str, text: str, *, voice: str = "", language: str = "") -> None:
        heard = Heard(kind, text, self.net.clock.elapsed(), voice, language)
        with self.net.cond:
            self.leg.heard.append(heard)
            self.net.cond.notify_all()
        number = self.leg.phone.number if self.leg.phone else None
        self.net.record.add("heard", self.leg.sid, number=number, what=kind, text=text)
        if self.leg.phone is not None:
            self.leg.phone.on_heard(self.leg, heard)

    def pause_for(self, seconds: float, *, barge: bool) -> bool:
        """Wait; with `barge`, a key press cuts it short (True)."""
        def pressed() -> bool:
            return bool(self.leg.digits)

        return self.net.wait(self.leg, seconds, pressed if barge else None, also=self.also)

    def loops(self, el: ET.Element) -> int:
        count = int(el.get("loop", "1") or "1")
        return self.net.config.max_loop if count <= 0 else count

    # -- verbs -------------------------------------------------------------------------------

    def do_say(self, el: ET.Element, doc: Doc, mode: Mode, *, barge: bool = False) -> None:
        text = " ".join("".join(el.itertext()).split())
        seconds = max(0.2, len(text) / self.net.config.speech_chars_per_second)
        for _ in range(self.loops(el)):
            self.hear("say", text, voice=el.get("voice", ""), language=el.get("language", ""))
            if self.pause_for(seconds, barge=barge):
                return

    def do_play(self, el: ET.Element, doc: Doc, mode: Mode, *, barge: bool = False) -> None:
        digits = el.get("digits")
        if digits:
            self.hear("tone", digits)
            return
        url = doc.resolve((el.text or "").strip())
        for _ in range(self.loops(el)):
            self.hear("play", url)
            if self.pause_for(self.net.config.play_seconds, barge=barge):
                return

    def do_pause(self, el: ET.Element, doc: Doc, mode: Mode, *, barge: bool = False) -> None:
        self.pause_for(float(el.get("length", "1")), barge=barge)

    def do_hangup(self, el: ET.Element, doc: Doc, mode: Mode) -> None:
        self.net.hang_up(self.leg, "twiml")
        raise LegGone

    def do_reject(self, el: ET.Element, doc: Doc, mode: Mode) -> None:
        reason = el.get("reason", "rejected")
        status = CallStatus.BUSY if reason == "busy" else CallStatus.NO_ANSWER
        answered = self.leg.answered_mono is not None
        self.net.record.add("rejected", self.leg.sid, reason=reason)
        self.net.hang_up(self.leg, "twiml", None if answered else status)
        raise LegGone

    def do_redirect(self, el: ET.Element, doc: Doc, mode: Mode) -> None:
        self.goto(doc.resolve((el.text or "").strip()), el.get("method", "POST"), {})

    def do_leave(self, el: ET.Element, doc: Doc, mode: Mode) -> None:
        if mode == Mode.WAIT:
            raise LeaveQueue
        self.net.record.add("leave_outside_queue", self.leg.sid)

    def do_gather(self, el: ET.Element, doc: Doc, mode: Mode) -> None:
        num_digits = int(el.get("numDigits", "0") or "0")
        finish_key = el.get("finishOnKey", "#")
        timeout = float(el.get("timeout", "5"))
        action = doc.resolve(el.get("action") or (doc.url or ""))
        leg = self.leg
        with self.net.cond:
            leg.digits.clear()
            leg.gathering = True
        if leg.phone is not None:
            leg.phone.on_gather(leg)
        collected, finished_on = "", ""
        try:
            for child in list(el):
                handler = {"Say": self.do_say, "Play": self.do_play,
                           "Pause": self.do_pause}.get(child.tag)
                if handler is None:
                    continue
                handler(child, doc, mode, barge=True)
                if leg.digits:
                    break
            while True:
                if not self.pause_for(timeout, barge=True):
                    break
                with self.net.cond:
                    key = leg.digits.popleft()
                if finish_key and key in finish_key:
                    finished_on = key
                    break
                collected += key
                if num_digits and len(collected) >= num_digits:
                    break
        finally:
            with self.net.cond:
                leg.gathering = False
        self.net.record.add("gathered", leg.sid, digits=collected, finished_on=finished_on)
        if collected or (el.get("actionOnEmptyResult") == "true"):
            if not action:
                return
            self.goto(action, el.get("method", "POST"),
                      {"Digits": collected, "FinishedOnKey": finished_on})
