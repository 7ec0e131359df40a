"""The roster validator on its own: every rule reports at its path (no database needed)."""

from __future__ import annotations

import pytest

from tests.support.roster import LINE, errors, roster
from warmline.domain.schedule import validate_rrule
from warmline.roster.schema import ExistingExperience, ExistingRows, Roster
from warmline.roster.validate import parse_roster

PEER = '{email: a@example.org, name: "A", phone: "+12125550101"}'


def test_minimal_roster_takes_every_default() -> None:
    parsed = parse_roster(roster(f"lines: [{LINE}]", f"peers: [{PEER}]"))
    assert parsed.lines[0].max_wait_seconds == 600 and parsed.lines[0].hours == ()
    assert parsed.peers[0].channels == ("voice", "sms") and parsed.peers[0].max_texts == 2
    assert parse_roster("version: 1") == Roster()


@pytest.mark.parametrize(("text", "expected"), [
    ("", "the file is empty"),
    ("[1, 2]", "expected a mapping with version, lines, ..."),
    ("version: 2", "version: must be from 1 to 1, got 2"),
    ("lines: []", "version: required"),
    ("version: 1\nline: []", "line: unknown key (did you mean 'lines'?)"),
    ("version: 1\npeers: {}", "peers: expected a list, got a mapping"),
    ("version: 1\nversion: 1", "line 2, column 1: the key 'version' is given twice"),
    ("version: 1\nlines: [\n", "line 3, column 1: expected the node content, but found"),
])
def test_file_level_errors(text: str, expected: str) -> None:
    assert any(e.startswith(expected) for e in errors(text)), errors(text)


@pytest.mark.parametrize(("setting", "value", "expected"), [
    ("max_wait_seconds", "10", "must be from 30 to 3600, got 10"),
    ("max_call_minutes", "241", "must be from 5 to 240, got 241"),
    ("daily_contact_limit", "-1", "must be from 0 to 50, got -1"),
    ("wrap_up_seconds", "1801", "must be from 0 to 1800, got 1801"),
    ("retention_days", "0", "must be from 1 to 3650, got 0"),
    ("retention_days", "true", "expected a whole number, got the boolean true"),
    ("callbacks", "1", "expected true or false, got the number 1"),
    ("crisis_number", '"911"', "not a valid phone number"),
    ("crisis_number", '"+12125550100"', "must not be the line's own number"),
    ("backup_number", "+12125550188", "expected a phone number in quotes"),
    ("backup_number", '"(212) 555-0188"', "write the number in E.164 form, '+12125550188'"),
    ("timezone", '"Mars/Olympus"', "unknown time zone 'Mars/Olympus'"),
    ("languages", "[en, english]", "expected a 2 or 3 letter lower-case language code"),
    ("languages", "[en, en]", "'en' is already listed at lines[0].languages[0]"),
    ("languages", "[]", "must not be empty"),
    ("closed_dates", '["2026-02-30"]', "not a date"),
    ("hours", "[]", "empty: leave the key out for a line open 24/7"),
    ("hours", '[{days: [mon, funday], open: "08:00", close: "17:00"}]', "expected one of mon, tue"),
    # YAML 1.1 reads an unquoted 9:00 as the number 540 (08:00, with its zero, stays text).
    ("hours", "[{days: [mon], open: 9:00, close: '17:00'}]", "expected a time HH:MM in quotes"),
    ("hours", '[{days: [mon], open: "8am", close: "17:00"}]', "expected a time HH:MM (00:00 to 23:59)"),
    ("hours", '[{open: "08:00", close: "17:00"}]', "required"),
    ("greeting", '{fr: "Bonjour"}', "fr is not one of the line's languages"),
])
def test_line_settings(setting: str, value: str, expected: str) -> None:
    line = (LINE.replace('"UTC"', value) if setting == "timezone"
            else LINE[:-1] + f", {setting}: {value}}}")
    found = errors(roster(f"lines: [{line}]"))
    assert len(found) == 1 and found[0].startswith("lines[0].") and expected in found[0], found


def test_experiences_unique_digits_keywords_and_reserved_words() -> None:
    found = errors(roster("""experiences:
  - {key: a, label: "A", digit: 1, keyword: ALPHA}
  - {key: a, label: "B", digit: 1, keyword: ALPHA}
  - {key: c, label: "C", digit: 9, keyword: STOP}
  - {key: D, label: "D", digit: 3, keyword: delta}
  - {key: e, label: "E", digit: 1, keyword: ALPHA, active: false}
  - {key: f, label: "F", digit: 4, keyword: HELP, labels: {es: ""}}"""))
    assert found == [
        "experiences[1].key: a is already used by experiences[0]",
        "experiences[1].digit: 1 is already used by experiences[0]",
        "experiences[1].keyword: ALPHA is already used by experiences[0]",
        "experiences[2].digit: must be from 1 to 8, got 9",
        "experiences[2].keyword: STOP is reserved for texters' and peers' commands",
        "experiences[3].key: expected lower-case letters, digits, '-' or '_' (at most 40), got 'D'",
        "experiences[3].keyword: expected upper-case letters and digits, starting with a letter"
        " (at most 20), got 'delta'",
        "experiences[5].keyword: HELP is reserved for texters' and peers' commands",
        "experiences[5].labels.es: must not be empty",
    ]


def test_peers() -> None:
    found = errors(roster("""peers:
  - {email: A@Example.org, name: "A", phone: "+12125550101", experiences: [ghost], role: boss}
  - {email: a@example.org, name: "B", phone: "+12125550101"}
  - {email: not-an-email, name: "", phone: "+12125550102", channels: [fax], max_texts: 11}
  - {email: c@example.org, name: "C", phone: "+12125550103", languages: [en, no]}"""))
    assert found == [
        "peers[0].experiences[0]: unknown experience 'ghost' (not in this file's experiences"
        " nor the database)",
        "peers[0].role: expected one of peer, admin, got 'boss'",
        "peers[1].email: a@example.org is already peers[0]",
        "peers[1].phone: already the phone of peers[0]",
        "peers[2].email: not a valid email address: 'not-an-email'",
        "peers[2].name: must not be empty",
        "peers[2].channels[0]: expected one of voice, sms, got 'fax'",
        "peers[2].max_texts: must be from 1 to 10, got 11",
        "peers[3].languages[1]: expected a language code in quotes, e.g. 'no'; YAML read the"
        " boolean false",
    ]


def test_shifts() -> None:
    found = errors(roster(f"lines: [{LINE}]", f"peers: [{PEER}]", """shifts:
  - {peer: ghost@example.org, line: "+12125550199", start: "2026-12-01 09:00", end: "13:00"}
  - {peer: a@example.org, line: "+12125550100", start: "2026-12-01", end: "25:00"}
  - {peer: a@example.org, line: "+12125550100", start: "2026-12-01 09:00", end: "13:00",
     repeat: "FREQ=HOURLY"}
  - {peer: a@example.org, line: "+12125550100", start: "2026-12-01 09:00", end: "13:00",
     repeat: "DTSTART:20261201T090000\\nRRULE:FREQ=DAILY"}
  - {peer: a@example.org, line: "+12125550100", start: "2026-12-01 09:00", end: "13:00",
     repeat: "FREQ=DAILY;BYHOUR=9"}
  - {peer: a@example.org, line: "+12125550100", start: "2026-12-01 09:00", end: "13:00",
     repeat: "FREQ=WEEKLY;BYDAY=XX"}
  - {peer: a@example.org, line: "+12125550100", start: "2026-12-01 09:00", end: "13:00",
     skip: ["2026-12-02"]}
  - {peer: a@example.org, line: "+12125550100", start: "2026-12-01 09:00", end: "13:00",
     repeat: "FREQ=DAILY", skip: ["2026-11-30", "2026-12-05"], shift: 1}"""))
    assert found[0] == (
        "shifts[0].peer: unknown peer 'ghost@example.org' (not in this file's peers nor the database)"
    )
    assert found[1].startswith("shifts[0].line: +12125550199 is not one of this file's lines")
    assert found[2:4] == [
        "shifts[1].start: expected a local start 'YYYY-MM-DD HH:MM', got '2026-12-01'",
        "shifts[1].end: expected a time HH:MM (00:00 to 23:59), got '25:00'",
    ]
    assert found[4].startswith("shifts[2].repeat: FREQ=HOURLY is not supported")
    assert found[5].startswith("shifts[3].repeat: one RRULE only")
    assert found[6].startswith("shifts[4].repeat: BYHOUR not supported")
    assert found[7].startswith("shifts[5].repeat: not a valid RRULE")
    assert found[8] == "shifts[6].skip: only a repeating shift has dates to skip"
    assert found[9:] == [
        "shifts[7].shift: unknown key",
        "shifts[7].skip[0]: 2026-11-30 is before the shift's start",
    ]


@pytest.mark.parametrize(("rule", "problem"), [
    ("FREQ=WEEKLY;BYDAY=TU,TH", None),
    ("RRULE:FREQ=MONTHLY;BYDAY=1MO", None),
    ("FREQ=WEEKLY;INTERVAL=2;UNTIL=20261231", None),
    ("FREQ=DAILY;UNTIL=20261231T235900Z", None),
    ("FREQ=DAILY;COUNT=5", None),
    ("FREQ=DAILY;UNTIL=2026-12-31", "not a valid RRULE: UNTIL=2026-12-31 is not a date"),
    ("FREQ=DAILY;COUNT=5;UNTIL=20261231", "COUNT and UNTIL cannot both be set"),
    ("FREQ=MINUTELY", "FREQ=MINUTELY is not supported"),
    ("FREQ=DAILY;DTSTART=20260101T000000", "DTSTART, RDATE, EXDATE and EXRULE do not belong"),
    ("FREQ=DAILY;INTERVAL=x", "INTERVAL=X is not a positive whole number"),
    ("BYDAY=MO", "not a valid RRULE: FREQ is missing"),
    ("FREQ=DAILY;BYDAY", "not a valid RRULE: 'BYDAY' is not NAME=VALUE"),
    ("FREQ=FOO", "not a valid RRULE: invalid 'FREQ': FOO"),
])
def test_rrules_are_checked_by_the_schedule_domain(rule: str, problem: str | None) -> None:
    found = validate_rrule(rule)
    assert found == problem if problem is None else (found or "").startswith(problem), found


def test_shift_of_24_hours_and_a_duplicate_shift() -> None:
    one = '{peer: a@example.org, line: "+12125550100", start: "2026-12-01 09:00", end: "09:00"}'
    parsed = parse_roster(roster(f"lines: [{LINE}]", f"peers: [{PEER}]", f"shifts: [{one}]"))
    assert parsed.shifts[0].end == parsed.shifts[0].start.time()  # 24 hours, by definition
    assert errors(roster(f"lines: [{LINE}]", f"peers: [{PEER}]", f"shifts: [{one}, {one}]")) == [
        "shifts[1]: the same shift as shifts[0]"
    ]


def test_database_rows_resolve_references() -> None:
    existing = ExistingRows(
        experiences={"veteran": ExistingExperience(4, "VETERAN", True)},
        peer_emails=frozenset({"lee@example.org"}),
    )
    text = roster(
        f"lines: [{LINE}]",
        'peers: [{email: b@example.org, name: "B", phone: "+12125550102", experiences: [veteran]}]',
        'shifts: [{peer: lee@example.org, line: "+12125550100", start: "2026-12-01 09:00",'
        ' end: "17:00"}]',
    )
    assert parse_roster(text, existing).shifts[0].peer == "lee@example.org"
    assert errors(text)[0].startswith("peers[0].experiences[0]: unknown experience 'veteran'")


@pytest.mark.parametrize(("chat", "expected"), [
    ("{}", "lines[0].chat.origins: required"),
    ("{origins: []}", "lines[0].chat.origins: must not be empty"),
    ('{origins: ["https://example.org/page"]}', "lines[0].chat.origins[0]: expected an origin"),
    ('{origins: ["http://example.org"]}', "lines[0].chat.origins[0]: must be https://"),
    ('{origins: ["https://a.example", "https://a.example"]}', "lines[0].chat.origins[1]: "),
    ("{origin: x}", "lines[0].chat.origin: unknown key (did you mean 'origins'?)"),
    ("yes", "lines[0].chat: expected a mapping of keys"),
])
def test_chat_origins_are_checked_at_their_path(chat: str, expected: str) -> None:
    line = LINE.replace("}", f", chat: {chat}}}")
    found = errors(roster(f"lines: [{line}]"))
    assert any(e.startswith(expected) for e in found), found


def test_chat_origins_are_read_lower_case_and_local_http_is_allowed() -> None:
    line = LINE.replace("}", ', chat: {origins: ["HTTPS://Example.org:8443", "http://127.0.0.1:8000"]}}')
    parsed = parse_roster(roster(f"lines: [{line}]"))
    assert parsed.lines[0].chat_origins == ("https://example.org:8443", "http://127.0.0.1:8000")
    assert parse_roster(roster(f"lines: [{LINE}]")).lines[0].chat_origins == ()
