"""The verbs of a call's TwiML, over twilio-python's builders: the words and URLs come from `voice`."""

from __future__ import annotations

from twilio.twiml.voice_response import Gather, VoiceResponse


class GatherTwiml:
    """A `<Gather>`: what is said (or played) while keys are taken."""

    def __init__(self, gather: Gather) -> None:
        self._gather = gather

    def say(self, words: str, *, voice: str, language: str) -> None:
        self._gather.say(words, voice=voice, language=language)

    def play(self, url: str) -> None:
        self._gather.play(url)


class VoiceTwiml:
    """One `<Response>` to Twilio for a call; `str()` is the document. Every request is POST."""

    def __init__(self) -> None:
        self._response = VoiceResponse()

    def __str__(self) -> str:
        return str(self._response)

    def say(self, words: str, *, voice: str, language: str) -> None:
        self._response.say(words, voice=voice, language=language)

    def gather(self, *, action: str, num_digits: int, timeout: int,
               finish_on_key: str | None = None) -> GatherTwiml:
        # Built as twilio's `VoiceResponse.gather` builds it (its attribute order), nested here.
        gather = Gather(action=action, timeout=timeout, finish_on_key=finish_on_key,
                        num_digits=num_digits)
        self._response.nest(gather)
        return GatherTwiml(gather)

    def redirect(self, url: str) -> None:
        self._response.redirect(url)

    def enqueue(self, queue: str, *, action: str, wait_url: str) -> None:
        self._response.enqueue(queue, action=action, method="POST", wait_url=wait_url,
                               wait_url_method="POST")

    def leave(self) -> None:
        self._response.leave()

    def hangup(self) -> None:
        self._response.hangup()

    def pause(self, seconds: int) -> None:
        self._response.pause(length=seconds)

    def dial_number(self, number: str, *, caller_id: str) -> None:
        self._response.dial(number, caller_id=caller_id)

    def dial_queue(self, queue: str, *, action: str) -> None:
        self._response.dial(action=action, method="POST").queue(queue)

    def dial_conference(self, room: str, *, action: str, status_callback: str,
                        events: str, end_on_exit: bool, hangup_on_star: bool = False) -> None:
        """Join the room named `room` as soon as this leg gets there: no beep, no wait music, the
        room's events reported to `status_callback`."""
        dial = self._response.dial(action=action, method="POST",
                                   hangup_on_star=True if hangup_on_star else None)
        dial.conference(room, beep=False, start_conference_on_enter=True,
                        end_conference_on_exit=end_on_exit, status_callback=status_callback,
                        status_callback_method="POST", status_callback_event=events)
