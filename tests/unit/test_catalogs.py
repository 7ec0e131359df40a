"""The message catalogs: complete, faithful to the code, and enough on their own to add a language."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po, write_po

from tests.support.roster import errors, roster
from tests.support.twiml_schema import schema_path
from warmline import catalogs
from warmline.roster.validate import parse_roster
from warmline.routing.results import OffReason
from warmline.texts import peer_words, words
from warmline.texts.language import texter_language
from warmline.voice import prompts, questions

REPO = Path(__file__).resolve().parents[2]
NON_ENGLISH = [lang for lang in catalogs.shipped_languages() if lang != catalogs.SOURCE_LANGUAGE]
# Words that give away an untranslated English sentence (placeholders and brand names aside).
ENGLISH_GIVEAWAYS = re.compile(
    r"\b(the|you|your|please|press|peer|call back|we're|we'll|thank|reply|line)\b", re.IGNORECASE)


def _entries(language: str) -> list[tuple[str, tuple[str, ...], tuple[str, ...]]]:
    with catalogs.catalog_path(language).open("rb") as handle:
        found = read_po(handle, locale=language)
    out = []
    for m in found:
        if m.id:
            ids = m.id if isinstance(m.id, tuple) else (m.id,)
            strings = m.string if isinstance(m.string, tuple) else (m.string,)
            out.append((m.context or ids[0], tuple(ids), tuple(strings)))
    return out


def test_the_template_is_what_the_code_says(tmp_path: Path) -> None:
    """`scripts/catalogs extract` was run after the last change to a message."""
    fresh = tmp_path / "messages.pot"
    CommandLineInterface().run([
        "pybabel", "-q", "extract", "-F", str(REPO / "babel.cfg"), "-k", "message:1c,2",
        "-k", "plural:1c,2,3", "--no-location", "--sort-output", "--omit-header",
        "-o", str(fresh), str(REPO / "warmline")])
    with fresh.open("rb") as handle:
        extracted = {(m.context, m.id if isinstance(m.id, str) else tuple(m.id))
                     for m in read_po(handle) if m.id}
    shipped = {(e.key if e.key != e.english else None, e.english)
               for e in catalogs.required_messages()}
    assert {(c, i if isinstance(i, str) else i[0]) for c, i in extracted} == shipped


def test_every_key_names_one_message() -> None:
    keys = [entry.key for entry in catalogs.required_messages()]
    assert len(keys) == len(set(keys))
    assert set(prompts.PROMPTS) | set(words.TEXTS) | {prompts.LANGUAGE_CHOICE.key} <= set(keys)


def test_the_shipped_languages() -> None:
    assert catalogs.shipped_languages() == ("en", "es", "vi")


@pytest.mark.parametrize("language", NON_ENGLISH)
def test_every_message_is_translated(language: str) -> None:
    assert catalogs.missing_messages(language) == []


@pytest.mark.parametrize("language", NON_ENGLISH)
def test_no_english_is_left_and_every_placeholder_is_kept(language: str) -> None:
    for key, ids, strings in _entries(language):
        for string in strings:
            assert string not in ids, f"{language} {key}: not translated"
            bare = re.sub(r"\{\w+\}|%\(\w+\)[sd]|<[^>]*>", "", string)
            assert not ENGLISH_GIVEAWAYS.search(bare), f"{language} {key}: English left in {string!r}"
            assert catalogs.placeholders(string) == catalogs.placeholders(ids[-1]), \
                f"{language} {key}: placeholders differ"


def test_plural_forms_and_times_come_from_babel() -> None:
    assert prompts.text("en", "wait_estimate", count=1) == "The wait is about 1 minute."
    assert prompts.text("en", "wait_estimate", count=3) == "The wait is about 3 minutes."
    assert prompts.text("es", "wait_estimate", count=1) == "La espera es de 1 minuto, más o menos."
    assert prompts.text("es", "wait_estimate", count=4) == "La espera es de unos 4 minutos."
    assert prompts.text("vi", "wait_estimate", count=4) == "Thời gian chờ khoảng 4 phút."
    today = datetime(2026, 12, 3, 9, 0)  # a Thursday
    assert prompts.opening_words("en", datetime(2026, 12, 4, 18, 0), today) == \
        "We open again tomorrow at 6:00 PM."
    assert prompts.opening_words("es", datetime(2026, 12, 7, 18, 0), today) == \
        "Abrimos de nuevo el lunes a las 6:00 p.m."
    assert prompts.opening_words("es", datetime(2026, 12, 3, 18, 30), today) == \
        "Abrimos de nuevo hoy a las 6:30 p.m."
    assert prompts.opening_words("vi", datetime(2026, 12, 7, 18, 0), today) == \
        "Chúng tôi sẽ mở cửa lại vào Thứ Hai lúc 18:00."


# --------------------------------------------------------------------------- voices


def _schema_voice_pattern() -> re.Pattern[str]:
    if not schema_path().exists():
        pytest.skip("Twilio's TwiML schema (../shared/twilio) is not beside this clone")
    ns = {"xs": "http://www.w3.org/2001/XMLSchema"}
    patterns = [p.get("value", "") for p in ET.parse(schema_path()).iter(f"{{{ns['xs']}}}pattern")]
    voice = next(p for p in patterns if "Polly" in p)
    return re.compile(voice)


def test_each_language_has_one_voice_twilio_offers() -> None:
    pattern = _schema_voice_pattern()
    assert set(catalogs.shipped_languages()) <= set(prompts.VOICES)
    for language, voice in prompts.VOICES.items():
        assert pattern.fullmatch(voice.name), voice
        assert voice.locale.split("-")[0] == language


def test_the_language_menu_reads_each_option_in_its_own_language_and_voice() -> None:
    document = questions.language_menu(["es", "en", "vi"], "c1")
    says = [(say.get("voice"), say.get("language"), say.text)
            for say in ET.fromstring(document).iter("Say")]
    assert says == [
        ("Polly.Lupe-Neural", "es-US", "Para español, oprima 1."),
        ("Polly.Joanna-Neural", "en-US", "For English, press 2."),
        ("Google.vi-VN-Standard-A", "vi-VN", "Để nói tiếng Việt, xin bấm số 3."),
    ]


# --------------------------------------------------------------------------- texts


@pytest.mark.parametrize(("body", "languages", "expected"), [
    ("ESPAÑOL", ["en", "es"], "es"),
    ("  espanol ", ["en", "es"], "es"),
    ("Tieng Viet", ["en", "vi"], "vi"),
    ("Hola, necesito hablar con alguien esta noche", ["en", "es"], "es"),
    ("me siento muy sola y no puedo dormir", ["en", "es", "vi"], "es"),
    ("Xin chào, tôi cần nói chuyện với ai đó", ["en", "es", "vi"], "vi"),
    ("I just need someone to talk to tonight", ["es", "en"], "en"),
    ("hola", ["en", "es"], "en"),  # too short to tell: the line's default
    ("RECOVERY", ["en", "es"], "en"),
    ("Hola, necesito hablar con alguien esta noche", ["en"], "en"),  # not offered: the default
    ("ESPAÑOL", ["en", "vi"], "en"),
])
def test_a_texters_language(body: str, languages: list[str], expected: str) -> None:
    assert texter_language(body, languages) == expected


def test_the_spanish_first_reply() -> None:
    assert words.first_reply("Línea Cálida", ["RECOVERY", "VETERAN"], "es").split("\n") == [
        "Línea Cálida: apoyo entre pares por texto, no una línea de crisis.",
        "Responda RECOVERY, VETERAN para hablar con un compañero que lo comparta, o CUALQUIERA.",
        "¿En peligro ahora? Llame o envíe un texto al 988, o llame al 911.",
    ]


def test_keywords_in_the_texters_language_and_in_english() -> None:
    assert words.keyword_in("es", "cualquiera", "keyword_any")
    assert words.keyword_in("es", "ANY", "keyword_any")
    assert not words.keyword_in("en", "CUALQUIERA", "keyword_any")
    assert words.keyword_in("vi", "goi lai", "keyword_callback")


# --------------------------------------------------------------------------- a new language


@pytest.fixture
def haitian_creole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The shipped catalogs plus one more, made with Babel's own `init` from the template."""
    translations = tmp_path / "translations"
    shutil.copytree(catalogs.TRANSLATIONS, translations)
    CommandLineInterface().run(["pybabel", "-q", "init", "-i", str(catalogs.TEMPLATE),
                                "-d", str(translations), "-l", "ht"])
    monkeypatch.setattr(catalogs, "TRANSLATIONS", translations)
    catalogs.translations.cache_clear()
    yield translations / "ht" / "LC_MESSAGES" / "messages.po"
    catalogs.translations.cache_clear()


def _translate(path: Path, keys: set[str] | None = None) -> None:
    with path.open("rb") as handle:
        found = read_po(handle, locale="ht")
    for m in found:
        if m.id and (keys is None or m.context in keys):
            ids = m.id if isinstance(m.id, tuple) else (m.id,)
            made = "[ht] " + ids[-1]
            m.string = tuple(made for _ in range(found.num_plurals)) if isinstance(m.id, tuple) \
                else made
    with path.open("wb") as handle:
        write_po(handle, found)


def test_adding_a_language_is_a_catalog_and_a_voice(
        haitian_creole: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    line = ('{number: "+12125550100", name: "Lakay", timezone: America/New_York, '
            'languages: [en, ht]}')
    assert catalogs.missing_messages("ht") == [e.key for e in catalogs.required_messages()]
    _translate(haitian_creole, {"menu_intro", "goodbye"})
    problems = errors(roster(f"lines: [{line}]"))
    assert any(p.startswith("lines[0].languages[1]: no voice for 'ht'") for p in problems), problems
    incomplete = next(p for p in problems if "message catalog is incomplete" in p)
    assert incomplete.startswith("lines[0].languages[1]: the 'ht' message catalog is incomplete: missing ")
    assert "menu_intro" not in incomplete and catalogs.missing_messages("ht")[0] in incomplete
    assert incomplete.endswith(f"and {len(catalogs.required_messages()) - 2 - 20} more")

    _translate(haitian_creole)
    catalogs.translations.cache_clear()
    monkeypatch.setitem(prompts.VOICES, "ht", prompts.Voice("Google.fr-FR-Standard-A", "fr-FR"))
    assert "ht" in catalogs.shipped_languages()
    assert parse_roster(roster(f"lines: [{line}]")).lines[0].languages == ("en", "ht")
    assert prompts.text("ht", "goodbye") == "[ht] Thank you for calling. Take care."
    assert prompts.language_choice("ht", 2) == "[ht] For English, press 2."
    assert words.reply("ht", "keyword_any") == "[ht] ANY"


def test_a_language_without_a_catalog_is_refused_at_its_path() -> None:
    line = ('{number: "+12125550100", name: "L", timezone: America/New_York, '
            'languages: [en, es, fa]}')
    problems = errors(roster(f"lines: [{line}]"))
    assert any(p.startswith("lines[0].languages[2]: no message catalog for 'fa'") for p in problems)
    assert not any(p.startswith("lines[0].languages[1]") for p in problems)


def test_every_reason_a_peer_is_set_off_has_its_notice_in_every_language() -> None:
    for reason in OffReason:
        for language in catalogs.shipped_languages():
            notice = peer_words.off_notice(language, reason.value)
            assert notice and notice.startswith("Warmline"), (reason, language)
    assert peer_words.off_notice("es", "shift_ended") == \
        "Warmline: su turno terminó, así que ya está fuera. Gracias."
