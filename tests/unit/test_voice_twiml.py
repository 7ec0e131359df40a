"""Our TwiML writer says what twilio-python's builders say, byte for byte, for every verb.

`warmline.telephony.voice_twiml` writes documents as text (a webhook's hot path); the oracle
here is twilio-python's `VoiceResponse`, driven through the same calls.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from twilio.twiml.voice_response import Gather, VoiceResponse

from warmline.telephony.voice_twiml import VoiceTwiml

# Any text an XML document can carry (the writer's callers strip what it cannot: xml_text.py).
xml_chars = st.characters(codec="utf-8", exclude_categories=("Cs",),
                          exclude_characters=[chr(c) for c in range(32) if c not in (9, 10, 13)])
words = st.text(xml_chars, max_size=30)
urls = st.sampled_from(["/twilio/voice/menu?contact=abc&none=1", "https://x.example/a?b=\"c\"&d=<e>",
                        "/twilio/voice/wait?contact=a%20b", ""])


def _twilio_say(target: Any, text: str) -> None:
    target.say(text, voice="Polly.Joanna-Neural", language="en-US")


Step = tuple[str, tuple[Any, ...]]
steps = st.lists(st.one_of(
    st.tuples(st.just("say"), st.tuples(words)),
    st.tuples(st.just("gather"), st.tuples(urls, st.integers(1, 15), st.integers(1, 10),
                                           st.sampled_from([None, "#"]), st.lists(words, max_size=3),
                                           st.lists(urls, max_size=2))),
    st.tuples(st.just("redirect"), st.tuples(urls)),
    st.tuples(st.just("enqueue"), st.tuples(words, urls, urls)),
    st.tuples(st.just("leave"), st.tuples()),
    st.tuples(st.just("hangup"), st.tuples()),
    st.tuples(st.just("pause"), st.tuples(st.integers(0, 60))),
    st.tuples(st.just("dial_number"), st.tuples(words, words)),
    st.tuples(st.just("dial_queue"), st.tuples(words, urls)),
    st.tuples(st.just("dial_conference"), st.tuples(words, urls, urls, words, st.booleans(),
                                                    st.booleans())),
), max_size=6)


def _ours(script: list[Step]) -> str:
    response = VoiceTwiml()
    for verb, args in script:
        if verb == "say":
            _twilio_say(response, args[0])
        elif verb == "gather":
            action, digits, timeout, finish, said, played = args
            gather = response.gather(action=action, num_digits=digits, timeout=timeout,
                                     finish_on_key=finish)
            for text in said:
                _twilio_say(gather, text)
            for url in played:
                gather.play(url)
        elif verb == "enqueue":
            response.enqueue(args[0], action=args[1], wait_url=args[2])
        elif verb == "dial_number":
            response.dial_number(args[0], caller_id=args[1])
        elif verb == "dial_queue":
            response.dial_queue(args[0], action=args[1])
        elif verb == "dial_conference":
            room, action, callback, events, end, star = args
            response.dial_conference(room, action=action, status_callback=callback, events=events,
                                     end_on_exit=end, hangup_on_star=star)
        else:
            getattr(response, verb)(*args)
    return str(response)


def _twilios(script: list[Step]) -> str:
    """The same document through twilio-python's builders (the adapter this writer replaced)."""
    response = VoiceResponse()
    for verb, args in script:
        if verb == "say":
            _twilio_say(response, args[0])
        elif verb == "gather":
            action, digits, timeout, finish, said, played = args
            gather = response.nest(Gather(action=action, timeout=timeout, finish_on_key=finish,
                                          num_digits=digits))
            for text in said:
                _twilio_say(gather, text)
            for url in played:
                gather.play(url)
        elif verb == "redirect":
            response.redirect(args[0])
        elif verb == "enqueue":
            response.enqueue(args[0], action=args[1], method="POST", wait_url=args[2],
                             wait_url_method="POST")
        elif verb == "pause":
            response.pause(length=args[0])
        elif verb == "dial_number":
            response.dial(args[0], caller_id=args[1])
        elif verb == "dial_queue":
            response.dial(action=args[1], method="POST").queue(args[0])
        elif verb == "dial_conference":
            room, action, callback, events, end, star = args
            dial = response.dial(action=action, method="POST", hangup_on_star=True if star else None)
            dial.conference(room, beep=False, start_conference_on_enter=True,
                            end_conference_on_exit=end, status_callback=callback,
                            status_callback_method="POST", status_callback_event=events)
        else:
            getattr(response, verb)()
    return str(response)


@settings(max_examples=400, deadline=None)
@given(script=steps)
def test_every_document_is_twilio_pythons_byte_for_byte(script: list[Step]) -> None:
    assert _ours(script) == _twilios(script)


def test_a_menu_reads_as_twilio_python_writes_it() -> None:
    script: list[Step] = [
        ("gather", ("/twilio/voice/menu?contact=c1", 1, 6, None,
                    ["Welcome & hello", 'Press "1" <now>'], [])),
        ("redirect", ("/twilio/voice/menu?contact=c1&none=1",)),
    ]
    document = _ours(script)
    assert document == _twilios(script)
    assert document.startswith('<?xml version="1.0" encoding="UTF-8"?><Response><Gather '
                               'action="/twilio/voice/menu?contact=c1" numDigits="1" '
                               'timeout="6"><Say language="en-US" voice="Polly.Joanna-Neural">'
                               "Welcome &amp; hello</Say>")
    assert "<Redirect>/twilio/voice/menu?contact=c1&amp;none=1</Redirect></Response>" in document
    assert str(VoiceTwiml()) == '<?xml version="1.0" encoding="UTF-8"?><Response />'
