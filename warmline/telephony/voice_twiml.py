"""The verbs of a call's TwiML: the words and URLs come from `voice`.

Every voice webhook answers one of these documents, so they are written as text directly
rather than through twilio-python's builders, which make an ElementTree and serialize it (a
tenth of a call's first webhook, bench/profile_voice.py). The text is the same, byte for byte:
attributes in sorted order, booleans as `true`/`false`, ElementTree's escaping and its
`<Verb />` for an empty one (tests/unit/test_voice_twiml.py checks it against twilio-python's
builders).
"""

from __future__ import annotations

DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'
Attribute = str | int | bool | None


# ElementTree's escaping: of element text, and of an attribute's value (which also writes
# quotes, line breaks and tabs as references). "&" first, so no reference is escaped again.
_TEXT_ESCAPES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"))
_ATTRIBUTE_ESCAPES = (*_TEXT_ESCAPES, ('"', "&quot;"), ("\r", "&#13;"), ("\n", "&#10;"),
                      ("\t", "&#09;"))


def _escaped(value: str, escapes: tuple[tuple[str, str], ...]) -> str:
    for character, reference in escapes:
        if character in value:
            value = value.replace(character, reference)
    return value


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


class _Verb:
    """One element: its attributes (snake_case, None left out), its text, its nested verbs."""

    __slots__ = ("attributes", "children", "name", "text")

    def __init__(self, name: str, text: str | None = None, **attributes: Attribute) -> None:
        self.name = name
        self.text = text
        self.attributes = {_camel(key): value for key, value in attributes.items()
                           if value is not None}
        self.children: list[_Verb] = []

    def nest(self, verb: _Verb) -> _Verb:
        self.children.append(verb)
        return verb

    def write(self, out: list[str]) -> None:
        out.append("<" + self.name)
        for key in sorted(self.attributes):
            value = self.attributes[key]
            shown = str(value).lower() if isinstance(value, bool) else str(value)
            out.append(f' {key}="{_escaped(shown, _ATTRIBUTE_ESCAPES)}"')
        if not self.text and not self.children:
            out.append(" />")
            return
        out.append(">")
        if self.text:
            out.append(_escaped(self.text, _TEXT_ESCAPES))
        for child in self.children:
            child.write(out)
        out.append(f"</{self.name}>")


class GatherTwiml:
    """A `<Gather>`: what is said (or played) while keys are taken."""

    def __init__(self, gather: _Verb) -> None:
        self._gather = gather

    def say(self, words: str, *, voice: str, language: str) -> None:
        self._gather.nest(_Verb("Say", words, language=language, voice=voice))

    def play(self, url: str) -> None:
        self._gather.nest(_Verb("Play", url))


class VoiceTwiml:
    """One `<Response>` to Twilio for a call; `str()` is the document. Every request is POST."""

    def __init__(self) -> None:
        self._response = _Verb("Response")

    def __str__(self) -> str:
        out = [DECLARATION]
        self._response.write(out)
        return "".join(out)

    def say(self, words: str, *, voice: str, language: str) -> None:
        self._response.nest(_Verb("Say", words, language=language, voice=voice))

    def gather(self, *, action: str, num_digits: int, timeout: int,
               finish_on_key: str | None = None) -> GatherTwiml:
        return GatherTwiml(self._response.nest(_Verb(
            "Gather", action=action, timeout=timeout, finish_on_key=finish_on_key,
            num_digits=num_digits)))

    def redirect(self, url: str) -> None:
        self._response.nest(_Verb("Redirect", url))

    def enqueue(self, queue: str, *, action: str, wait_url: str) -> None:
        self._response.nest(_Verb("Enqueue", queue, action=action, method="POST",
                                  wait_url=wait_url, wait_url_method="POST"))

    def leave(self) -> None:
        self._response.nest(_Verb("Leave"))

    def hangup(self) -> None:
        self._response.nest(_Verb("Hangup"))

    def pause(self, seconds: int) -> None:
        self._response.nest(_Verb("Pause", length=seconds))

    def dial_number(self, number: str, *, caller_id: str) -> None:
        self._response.nest(_Verb("Dial", number, caller_id=caller_id))

    def dial_queue(self, queue: str, *, action: str) -> None:
        dial = self._response.nest(_Verb("Dial", action=action, method="POST"))
        dial.nest(_Verb("Queue", queue))

    def dial_conference(self, room: str, *, action: str, status_callback: str,
                        events: str, end_on_exit: bool, hangup_on_star: bool = False) -> None:
        """Join the room named `room` as soon as this leg gets there: no beep, no wait music, the
        room's events reported to `status_callback`."""
        dial = self._response.nest(_Verb("Dial", action=action, method="POST",
                                         hangup_on_star=True if hangup_on_star else None))
        dial.nest(_Verb("Conference", room, beep=False, start_conference_on_enter=True,
                        end_conference_on_exit=end_on_exit, status_callback=status_callback,
                        status_callback_method="POST", status_callback_event=events))
