"""Parse a roster file and validate all of it, returning a typed Roster or every error at once."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import date
from typing import Any, TypeVar

import yaml

from warmline.catalogs import catalog_path, missing_messages
from warmline.roster import fields
from warmline.roster.reading import Entry, Problems, join, read_list
from warmline.roster.schema import (
    BACK_TO_BACK_LIMIT,
    CHANNELS,
    CHAT_KEYS,
    CHAT_ORIGINS_MAX,
    DAILY_CONTACT_LIMIT,
    DAYS,
    DEFAULT_CALLBACKS,
    DEFAULT_CALLS_WHILE_TEXTING,
    DEFAULT_CHANNELS,
    DEFAULT_LANGUAGES,
    DEFAULT_ROLE,
    DEFAULT_SHARE_PEER_FIRST_NAME,
    DEFAULT_SURVEY,
    DEFAULT_SWAP_APPROVAL,
    DEFAULT_TARGET_SHARE,
    DIGIT,
    EXPERIENCE_KEYS,
    FLOOD_CALLER_LIMIT,
    FLOOD_LINE_LIMIT,
    GREETING_MAX,
    LABEL_MAX,
    LINE_INT_SETTINGS,
    LINE_KEYS,
    MAX_CALL_MINUTES,
    MAX_TEXTS,
    MAX_WAIT_SECONDS,
    NAME_MAX,
    NOTE_MAX,
    OPENING_KEYS,
    PEER_KEYS,
    RESOURCES_MAX,
    RETENTION_DAYS,
    ROLES,
    ROSTER_VERSION,
    SERVICE_TARGET_KEYS,
    SHIFT_KEYS,
    TARGET_ANSWER_SECONDS,
    TOP_KEYS,
    WRAP_UP_SECONDS,
    ExistingRows,
    IntSetting,
    InvalidRosterError,
    Opening,
    Roster,
    RosterError,
    RosterExperience,
    RosterLine,
    RosterPeer,
    RosterShift,
)
from warmline.voice.prompts import VOICES
from warmline.wording import N_

PhoneHash = Callable[[str], str]
T = TypeVar("T")


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice (plain YAML silently keeps the last one)."""


def _mapping_without_duplicates(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    seen: set[object] = set()
    for key_node, _value in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"the key {key!r} is given twice", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=True)


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates
)


def load_yaml(text: str) -> object:
    """The file's data, or InvalidRosterError with the line and column of a syntax error."""
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = exc.problem or exc.context or "not valid YAML"
        raise InvalidRosterError([RosterError("", f"{where}{problem}")]) from None
    except yaml.YAMLError as exc:
        raise InvalidRosterError([RosterError("", f"not valid YAML: {exc}")]) from None


def parse_roster(
    text: str,
    existing: ExistingRows | None = None,
    *,
    phone_hash: PhoneHash | None = None,
    prune: bool = False,
) -> Roster:
    """Read and validate a roster file's text; raise InvalidRosterError listing every problem."""
    return validate_roster(load_yaml(text), existing, phone_hash=phone_hash, prune=prune)


def validate_roster(
    data: object,
    existing: ExistingRows | None = None,
    *,
    phone_hash: PhoneHash | None = None,
    prune: bool = False,
) -> Roster:
    """Validate loaded YAML against the format and against what the database already holds.

    ``phone_hash`` (the keyed hash) lets a peer's phone be checked against other peers'
    phones in the database; ``prune`` says that experiences the file leaves out will be
    deactivated, so their digits and keywords are free.
    """
    known = existing or ExistingRows()
    if data is None:
        raise InvalidRosterError([RosterError("", "the file is empty")])
    problems = Problems()
    top = Entry(problems, "", data, TOP_KEYS)
    if not top.ok:
        raise InvalidRosterError([RosterError("", "expected a mapping with version, lines, ...")])
    version = top.required("version", fields.integer(_VERSION))
    if version is not None and version != ROSTER_VERSION:
        problems.add("version", N_("this Warmline reads version %(version)s", version=ROSTER_VERSION))
    # Each section returns every key it saw, also of entries with other errors, so that one
    # mistake is reported once and not again at every reference to it.
    lines, numbers = _read_lines(problems, top)
    experiences, experience_keys = _read_experiences(problems, top, known, prune)
    peers, emails = _read_peers(problems, top, experience_keys, known, phone_hash)
    shifts = _read_shifts(problems, top, numbers, emails | known.peer_emails)
    if problems.errors:
        raise InvalidRosterError(problems.errors)
    return Roster(lines=lines, experiences=experiences, peers=peers, shifts=shifts)


_VERSION = IntSetting("version", ROSTER_VERSION, ROSTER_VERSION, ROSTER_VERSION)


def _entries(problems: Problems, top: Entry, key: str) -> list[tuple[str, object]]:
    raw = top.raw(key)
    if raw is None:
        return []
    if not isinstance(raw, list):
        problems.add(key, N_("expected a list, got %(got)s", got=fields.describe(raw)))
        return []
    return [(join(key, index), item) for index, item in enumerate(raw)]


def _texts(
    problems: Problems, entry: Entry, key: str, max_length: int, languages: Collection[str] | None
) -> dict[str, str]:
    """A mapping of language code to text (a greeting, an experience's labels)."""
    raw = entry.raw(key)
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        problems.add(entry.at(key), N_("expected a mapping of language to text, got %(got)s",
                                       got=fields.describe(raw)))
        return {}
    found: dict[str, str] = {}
    check = fields.text(max_length)
    for code, value in raw.items():
        path = join(entry.at(key), str(code))
        try:
            language = fields.language(code)
            found[language] = check(value)
        except fields.FieldError as exc:
            problems.add(path, exc.args[0])
            continue
        if languages is not None and language not in languages:
            problems.add(path, N_("%(language)s is not one of the line's languages", language=language))
    return found


# --------------------------------------------------------------------------- lines


def _read_lines(problems: Problems, top: Entry) -> tuple[tuple[RosterLine, ...], set[str]]:
    lines: list[RosterLine] = []
    numbers: dict[str, str] = {}
    for path, raw in _entries(problems, top, "lines"):
        entry = Entry(problems, path, raw, LINE_KEYS)
        if not entry.ok:
            continue
        number = entry.required("number", fields.phone)
        if number in numbers:
            problems.add(entry.at("number"), N_("%(number)s is already the number of %(other)s",
                                                number=number, other=numbers[number]))
            continue
        if number is not None:
            numbers[number] = path
        line = _read_line(problems, entry, number)
        if line is not None:
            lines.append(line)
    return tuple(lines), set(numbers)


# A partial catalog's missing keys are listed up to this many, then counted.
MISSING_KEYS_SHOWN = 20


def _check_catalogs(problems: Problems, entry: Entry, languages: Sequence[str]) -> None:
    """Every word a caller hears or a texter reads exists in each of the line's languages."""
    if not isinstance(entry.data.get("languages"), list):
        return  # the default, English, is the code's own
    for index, language in enumerate(languages):
        path = f"{entry.at('languages')}[{index}]"
        if language not in VOICES:
            problems.add(path, N_("no voice for %(language)s: add a row to VOICES in "
                                  "warmline/voice/prompts.py (README \"Adding a language\")",
                                  language=repr(language)))
        missing = missing_messages(language)
        if not missing:
            continue
        if not catalog_path(language).exists():
            problems.add(path, N_("no message catalog for %(language)s: add %(file)s (README "
                                  "\"Adding a language\")", language=repr(language),
                                  file=f"warmline/translations/{language}/LC_MESSAGES/messages.po"))
            continue
        shown = ", ".join(missing[:MISSING_KEYS_SHOWN])
        if len(missing) > MISSING_KEYS_SHOWN:
            shown = N_("%(shown)s and %(more)s more", shown=shown,
                       more=len(missing) - MISSING_KEYS_SHOWN)
        problems.add(path, N_("the %(language)s message catalog is incomplete: missing %(keys)s",
                              language=repr(language), keys=shown))


def _read_line(problems: Problems, entry: Entry, number: str | None) -> RosterLine | None:
    name = entry.required("name", fields.text(NAME_MAX))
    zone = entry.required("timezone", fields.timezone)
    languages = entry.items("languages", fields.language, DEFAULT_LANGUAGES, allow_empty=False)
    _check_catalogs(problems, entry, languages)
    hours = _read_hours(problems, entry)
    closed = tuple(sorted(entry.items("closed_dates", fields.iso_date)))
    crisis = entry.optional("crisis_number", fields.phone, None)
    backup = entry.optional("backup_number", fields.phone, None)
    for key, other in (("crisis_number", crisis), ("backup_number", backup)):
        if other is not None and other == number:
            problems.add(entry.at(key), N_("must not be the line's own number"))
    greeting = _texts(problems, entry, "greeting", GREETING_MAX, languages)
    target_seconds, target_share = _read_service_target(problems, entry)
    chat_origins = _read_chat(problems, entry)
    resources = _texts(problems, entry, "resources", RESOURCES_MAX, languages)

    settings = {
        spec.name: entry.optional(spec.name, fields.integer(spec), spec.default)
        for spec in LINE_INT_SETTINGS
    }
    flags = {
        key: entry.optional(key, fields.boolean, default)
        for key, default in (
            ("active", True),
            ("callbacks", DEFAULT_CALLBACKS),
            ("share_peer_first_name", DEFAULT_SHARE_PEER_FIRST_NAME),
            ("calls_while_texting", DEFAULT_CALLS_WHILE_TEXTING),
            ("swap_approval", DEFAULT_SWAP_APPROVAL),
            ("survey", DEFAULT_SURVEY),
        )
    }
    if number is None or name is None or zone is None:
        return None
    return RosterLine(
        number=number,
        name=name,
        timezone=zone,
        active=flags["active"],
        languages=languages,
        hours=hours,
        closed_dates=closed,
        crisis_number=crisis,
        backup_number=backup,
        max_wait_seconds=settings[MAX_WAIT_SECONDS.name],
        max_call_minutes=settings[MAX_CALL_MINUTES.name],
        daily_contact_limit=settings[DAILY_CONTACT_LIMIT.name],
        wrap_up_seconds=settings[WRAP_UP_SECONDS.name],
        callbacks=flags["callbacks"],
        share_peer_first_name=flags["share_peer_first_name"],
        calls_while_texting=flags["calls_while_texting"],
        retention_days=settings[RETENTION_DAYS.name],
        greeting=greeting,
        back_to_back_limit=settings[BACK_TO_BACK_LIMIT.name],
        flood_caller_limit=settings[FLOOD_CALLER_LIMIT.name],
        flood_line_limit=settings[FLOOD_LINE_LIMIT.name],
        swap_approval=flags["swap_approval"],
        target_answer_seconds=target_seconds,
        target_share=target_share,
        chat_origins=chat_origins,
        survey=flags["survey"],
        resources=resources,
    )


def _share(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise fields.FieldError(N_("expected a share such as 0.8, got %(got)s",
                                   got=fields.describe(value)))
    if not 0 < value < 1:
        raise fields.FieldError(N_("must be above 0 and below 1, got %(value)s", value=value))
    return float(value)


def _read_service_target(problems: Problems, line: Entry) -> tuple[int, float]:
    """`service_target: {answer_within_seconds: 60, share: 0.8}`: what the planner plans for."""
    default = (TARGET_ANSWER_SECONDS.default, DEFAULT_TARGET_SHARE)
    raw = line.raw("service_target")
    if raw is None:
        return default
    entry = Entry(problems, line.at("service_target"), raw, SERVICE_TARGET_KEYS)
    if not entry.ok:
        return default
    return (entry.optional("answer_within_seconds", fields.integer(TARGET_ANSWER_SECONDS),
                           TARGET_ANSWER_SECONDS.default),
            entry.optional("share", _share, DEFAULT_TARGET_SHARE))


def _read_chat(problems: Problems, line: Entry) -> tuple[str, ...]:
    """`chat: {origins: [...]}`: the line takes web chats from pages on these origins."""
    raw = line.raw("chat")
    if raw is None:
        return ()
    entry = Entry(problems, line.at("chat"), raw, CHAT_KEYS)
    if not entry.ok:
        return ()
    origins = entry.items("origins", fields.origin, (), allow_empty=False)
    if entry.raw("origins") is None:
        problems.add(entry.at("origins"), N_("required: the origins allowed to embed the widget"))
    if len(origins) > CHAT_ORIGINS_MAX:
        problems.add(entry.at("origins"), N_("at most %(most)s origins", most=CHAT_ORIGINS_MAX))
    return tuple(origins)


def _read_hours(problems: Problems, line: Entry) -> tuple[Opening, ...]:
    raw = line.raw("hours")
    if raw is None:
        return ()
    if raw == []:
        problems.add(line.at("hours"), N_("empty: leave the key out for a line open 24/7"))
        return ()
    openings: list[Opening] = []
    items = raw if isinstance(raw, list) else None
    if items is None:
        problems.add(line.at("hours"), N_("expected a list, got %(got)s", got=fields.describe(raw)))
        return ()
    for index, item in enumerate(items):
        entry = Entry(problems, join(line.at("hours"), index), item, OPENING_KEYS)
        if not entry.ok:
            continue
        if not entry.has("days"):
            problems.add(entry.at("days"), N_("required"))
        days = entry.items("days", fields.choice(DAYS), allow_empty=False)
        opens = entry.required("open", fields.clock_time)
        closes = entry.required("close", fields.clock_time)
        if days and opens is not None and closes is not None:
            openings.append(Opening(days=days, open=opens, close=closes))
    return tuple(openings)


# --------------------------------------------------------------------------- experiences


def _read_experiences(
    problems: Problems, top: Entry, known: ExistingRows, prune: bool
) -> tuple[tuple[RosterExperience, ...], set[str]]:
    found: list[RosterExperience] = []
    keys: dict[str, str] = {}
    digits: dict[int, str] = {}
    keywords: dict[str, str] = {}
    for path, raw in _entries(problems, top, "experiences"):
        entry = Entry(problems, path, raw, EXPERIENCE_KEYS)
        if not entry.ok:
            continue
        key = entry.required("key", fields.experience_key)
        label = entry.required("label", fields.text(LABEL_MAX))
        digit = entry.required("digit", fields.integer(DIGIT))
        keyword = entry.required("keyword", fields.keyword)
        labels = _texts(problems, entry, "labels", LABEL_MAX, None)
        active = entry.optional("active", fields.boolean, True)
        _claim(problems, keys, key, entry.at("key"), path)
        if active:  # an inactive experience is in no menu, so it may keep a digit in reserve
            _claim(problems, digits, digit, entry.at("digit"), path)
            _claim(problems, keywords, keyword, entry.at("keyword"), path)
        if key is None or label is None or digit is None or keyword is None:
            continue
        found.append(RosterExperience(key, label, digit, keyword, labels, active))
    if not prune:
        _check_against_database(problems, found, keys, known)
    return tuple(found), set(keys)


def _claim(
    problems: Problems, seen: dict[T, str], value: T | None, at: str, owner: str
) -> None:
    """Record that ``owner`` uses ``value``, or report who already does."""
    if value is None:
        return
    if value in seen:
        problems.add(at, N_("%(value)s is already used by %(other)s", value=value, other=seen[value]))
    else:
        seen[value] = owner


def _check_against_database(
    problems: Problems, found: list[RosterExperience], paths: dict[str, str], known: ExistingRows
) -> None:
    """Active experiences the file leaves alone keep their digit and keyword (unless pruned)."""
    others = {
        key: row for key, row in known.experiences.items() if row.active and key not in paths
    }
    for experience in found:
        if not experience.active:
            continue
        for key, row in others.items():
            if row.digit == experience.digit:
                problems.add(join(paths[experience.key], "digit"),
                             N_("%(value)s is already used by experience %(key)s in the database "
                                "(deactivate it, or import with --prune)", value=row.digit,
                                key=repr(key)))
            if row.keyword == experience.keyword:
                problems.add(join(paths[experience.key], "keyword"),
                             N_("%(value)s is already used by experience %(key)s in the database "
                                "(deactivate it, or import with --prune)", value=row.keyword,
                                key=repr(key)))


# --------------------------------------------------------------------------- peers


def _read_peers(
    problems: Problems,
    top: Entry,
    experience_keys: set[str],
    known: ExistingRows,
    phone_hash: PhoneHash | None,
) -> tuple[tuple[RosterPeer, ...], set[str]]:
    peers: list[RosterPeer] = []
    emails: dict[str, str] = {}
    phones: dict[str, str] = {}
    entries = _entries(problems, top, "peers")
    # A phone may move between two peers of the same file (a swap); the importer allows for it.
    file_emails = {str(raw.get("email", "")).strip().lower() for _, raw in entries
                   if isinstance(raw, dict)}
    for path, raw in entries:
        entry = Entry(problems, path, raw, PEER_KEYS)
        if not entry.ok:
            continue
        email = entry.required("email", fields.email)
        name = entry.required("name", fields.text(NAME_MAX))
        phone = entry.required("phone", fields.phone)
        experiences = entry.items("experiences", fields.experience_key)
        for index, key in enumerate(experiences):
            if key not in experience_keys and key not in known.experiences:
                problems.add(
                    join(entry.at("experiences"), index),
                    N_("unknown experience %(key)s (not in this file's experiences nor the "
                       "database)", key=repr(key)),
                )
        languages = entry.items("languages", fields.language, DEFAULT_LANGUAGES, allow_empty=False)
        channels = entry.items("channels", fields.choice(CHANNELS), DEFAULT_CHANNELS, allow_empty=False)
        max_texts = entry.optional("max_texts", fields.integer(MAX_TEXTS), MAX_TEXTS.default)
        role = entry.optional("role", fields.choice(ROLES), DEFAULT_ROLE)
        active = entry.optional("active", fields.boolean, True)
        mentor = entry.optional("mentor", fields.boolean, False)
        if email in emails:
            problems.add(entry.at("email"), N_("%(email)s is already %(other)s", email=email,
                                               other=emails[email]))
        elif email is not None:
            emails[email] = path
        if phone is not None:
            if phone in phones:
                problems.add(entry.at("phone"), N_("already the phone of %(other)s", other=phones[phone]))
            phones.setdefault(phone, path)
            owner = known.peer_phone_hashes.get(phone_hash(phone)) if phone_hash else None
            if owner is not None and owner != email and owner not in file_emails:
                problems.add(entry.at("phone"), N_("already the phone of %(other)s in the database",
                                                   other=owner))
        if email is None or name is None or phone is None:
            continue
        peers.append(RosterPeer(email, name, phone, experiences, languages, channels,
                                max_texts, role, active, mentor))
    return tuple(peers), set(emails)


# --------------------------------------------------------------------------- shifts


def _read_shifts(
    problems: Problems, top: Entry, line_numbers: set[str], peer_emails: Collection[str]
) -> tuple[RosterShift, ...]:
    shifts: list[RosterShift] = []
    seen: dict[RosterShift, str] = {}
    for path, raw in _entries(problems, top, "shifts"):
        errors_before = len(problems.errors)
        entry = Entry(problems, path, raw, SHIFT_KEYS)
        if not entry.ok:
            continue
        peer = entry.required("peer", fields.email)
        if peer is not None and peer not in peer_emails:
            problems.add(
                entry.at("peer"),
                N_("unknown peer %(peer)s (not in this file's peers nor the database)",
                   peer=repr(peer)),
            )
        line = entry.required("line", fields.phone)
        if line is not None and line not in line_numbers:
            problems.add(
                entry.at("line"),
                N_("%(line)s is not one of this file's lines (a line's shifts are imported with "
                   "the line)", line=line),
            )
        start = entry.required("start", fields.local_start)
        end = entry.required("end", fields.clock_time)
        repeat = entry.optional("repeat", fields.repeat_rule, None)
        skip = _skip_dates(problems, entry)
        if skip and repeat is None and not entry.has("repeat"):
            problems.add(entry.at("skip"), N_("only a repeating shift has dates to skip"))
        if start is not None:
            for index, day in enumerate(skip):
                if day < start.date():
                    problems.add(join(entry.at("skip"), index),
                                 N_("%(day)s is before the shift's start", day=str(day)))
        skip = tuple(sorted(skip))
        note = entry.optional("note", fields.text(NOTE_MAX), None)
        if len(problems.errors) > errors_before or peer is None or line is None or start is None \
                or end is None:
            continue  # an entry with errors is not compared: its fields may be placeholders
        shift = RosterShift(peer, line, start, end, repeat, skip, note)
        if shift in seen:
            problems.add(path, f"the same shift as {seen[shift]}")
            continue
        seen[shift] = path
        shifts.append(shift)
    return tuple(shifts)


def _skip_dates(problems: Problems, entry: Entry) -> tuple[date, ...]:
    raw = entry.raw("skip")
    if raw is None:
        return ()
    return read_list(problems, entry.at("skip"), raw, fields.iso_date)
