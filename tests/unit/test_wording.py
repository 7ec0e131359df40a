"""Words made before anyone knows the reader: a message with its values, and days and times that
are written again in each reader's language."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

from warmline.wording import (
    N_,
    LocalMoment,
    LocalSpan,
    Wording,
    said_in,
    values_from_json,
    values_to_json,
)

CHICAGO = ZoneInfo("America/Chicago")
THURSDAY_9 = datetime(2026, 12, 3, 9, 0, tzinfo=CHICAGO)
THURSDAY_13 = datetime(2026, 12, 3, 13, 0, tzinfo=CHICAGO)
FRIDAY_0 = datetime(2026, 12, 4, 0, 0, tzinfo=CHICAGO)


def test_a_span_is_english_as_a_string_and_the_readers_language_when_asked() -> None:
    span = LocalSpan(THURSDAY_9, THURSDAY_13)
    assert span == "Thu 3 Dec, 09:00–13:00"
    spanish = span.in_language("es")
    assert spanish.startswith(("jue 3 dic", "jue. 3 dic")) and spanish.endswith("09:00–13:00")
    assert "Thu" not in span.in_language("vi")


def test_a_span_ending_at_midnight_says_midnight_in_the_readers_language() -> None:
    assert LocalSpan(THURSDAY_13, FRIDAY_0).endswith("13:00–midnight")
    assert LocalSpan(THURSDAY_13, FRIDAY_0).in_language("es").endswith("13:00–medianoche")


def test_a_moment_inside_a_wording_is_said_in_the_wordings_language() -> None:
    wording = N_("You can't go available: you're not on shift right now. "
                 "Your next shift starts %(start)s.", start=LocalMoment(THURSDAY_9, "EEE HH:mm"))
    assert wording.endswith("starts Thu 09:00.")
    spanish = str(said_in("es", wording))
    assert "Su próximo turno empieza el jue" in spanish and spanish.endswith("09:00.")


def test_times_survive_a_round_trip_through_json_as_times() -> None:
    values = {"line": "Peer line", "shift": LocalSpan(THURSDAY_9, THURSDAY_13),
              "start": LocalMoment(THURSDAY_9, "EEE HH:mm"), "count": 3}
    saved = json.loads(json.dumps(values_to_json(values)))
    back = values_from_json(saved)
    assert back == values
    assert isinstance(back["shift"], LocalSpan) and isinstance(back["start"], LocalMoment)
    again = Wording("%(line)s, %(shift)s", back)
    assert str(said_in("es", again)).startswith("Peer line, jue")
