"""A caller who chooses Spanish (or Vietnamese) hears nothing else: every prompt, in its own voice.

A Spanish-first line through the stand-in: the menu, "nobody shares it", hold updates, the deadline,
the whole callback flow, closed hours and over the limit. Every <Say> after the choice is checked
for its voice and for English words left in it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from tests.support.live import BACKUP, LINE, ROSTER, SAM, LiveWarmline
from warmline.models import CallbackRequest, Contact, User
from warmline.services.callbacks import placing as callbacks
from warmline.standin import PhoneCall

CALLER = "+12125550142"
SPANISH = ("Polly.Lupe-Neural", "es-US")
VIETNAMESE = ("Google.vi-VN-Standard-A", "vi-VN")
ENGLISH_WORDS = re.compile(
    r"\b(the|you|your|please|press|peer|call|line|we|thank|sorry|wait|hold)\b", re.IGNORECASE)
# The roster's own words are the admin's, per language: Spanish labels for a Spanish line.
LABELS = ('labels: {es: "Recuperación del uso de sustancias", vi: "Phục hồi sau nghiện chất"}, ')


def _roster(languages: str, *, max_wait: int = 600, limit: int = 3, closed: bool = False) -> str:
    roster = ROSTER.replace("    languages: [en]\n", f"    languages: {languages}\n", 1)
    roster = roster.replace("max_wait_seconds: 600", f"max_wait_seconds: {max_wait}")
    roster = roster.replace("daily_contact_limit: 3", f"daily_contact_limit: {limit}")
    roster = roster.replace('digit: 1, keyword: RECOVERY}', f'digit: 1, keyword: RECOVERY, {LABELS}}}')
    roster = roster.replace('label: "Veteran", digit: 4, keyword: VETERAN}',
                            'label: "Veteran", digit: 4, keyword: VETERAN, '
                            'labels: {es: "Veteranos", vi: "Cựu chiến binh"}}')
    roster = roster.replace('label: "Grief and loss", digit: 5, keyword: GRIEF}',
                            'label: "Grief and loss", digit: 5, keyword: GRIEF, '
                            'labels: {es: "Duelo y pérdida", vi: "Mất mát và đau buồn"}}')
    # Sam speaks Spanish too; Lee does not.
    roster = roster.replace('experiences: [recovery],\n     languages: [en]',
                            'experiences: [recovery],\n     languages: [en, es, vi]')
    if closed:
        today = datetime.now(UTC).astimezone(ZoneInfo("America/New_York")).date().isoformat()
        roster = roster.replace(
            f"    languages: {languages}\n",
            f'    languages: {languages}\n    closed_dates: ["{today}"]\n    hours:\n'
            '      - {days: [mon, tue, wed, thu, fri, sat, sun], open: "00:00", close: "23:59"}\n')
    return roster


def assert_all_in(call: PhoneCall, voice: tuple[str, str], after: str | None = None) -> list[str]:
    """Every <Say> (after the one containing `after`) in `voice`, with no English left in it.

    A caller who presses during the menu cuts it short (barge-in), as on Twilio: what they heard
    after their own language's line is what counts."""
    said = call.said()
    if after is not None:
        said = said[next(i for i, (text, _, _) in enumerate(said) if after in text) + 1:]
    assert said, "nothing was said"
    for text, name, language in said:
        assert (name, language) == voice, (text, name, language)
        left = ENGLISH_WORDS.search(text.replace("Test Warmline", ""))
        assert left is None, f"English in {text!r}"
    return [text for text, _, _ in said]


def test_spanish_menu_nobody_shares_it_hold_updates_and_the_deadline(live: LiveWarmline) -> None:
    live.import_roster(_roster("[es, en]", max_wait=60))
    call = live.standin.caller(CALLER, press={"Para español, oprima 1": "1",
                                              "Para Duelo y pérdida": "5"}).dial(LINE)
    call.wait_until_heard("Nadie que comparta Duelo y pérdida está de turno ahora.", timeout=60)
    call.wait_until_heard("Para hablar en cambio con el próximo compañero disponible, oprima 0",
                          timeout=60)
    call.wait_until_heard("Lamentamos no haber podido comunicarle con un compañero a tiempo.",
                          timeout=90)
    call.wait_until_heard("Le conectamos ahora con nuestra línea asociada.", timeout=60)
    assert live.wait_for(lambda: BACKUP in call.bridged_with(), timeout=60)
    heard = assert_all_in(call, SPANISH, after="Para español, oprima 1.")
    assert any("Este es apoyo entre pares, no una línea de crisis." in h for h in heard)
    assert any("Para Recuperación del uso de sustancias, oprima 1." in h for h in heard)
    call.hang_up()
    call.wait_until_ended(timeout=60)


def test_spanish_hold_updates_say_the_place_in_line(live: LiveWarmline) -> None:
    live.import_roster(_roster("[es, en]"))
    # Silence at the menu: the next available peer.
    call = live.standin.caller(CALLER, press={"Para español, oprima 1": "1"}).dial(LINE)
    call.wait_until_heard("Le conectaremos con el próximo compañero disponible.", timeout=60)
    call.wait_until_heard("Usted es el número 1 en la fila.", timeout=60)
    call.wait_until_heard("Para que le devolvamos la llamada, oprima 1.", timeout=60)
    assert_all_in(call, SPANISH, after="Para español, oprima 1.")
    call.hang_up()
    call.wait_until_ended(timeout=60)


def test_the_whole_spanish_callback_flow(live: LiveWarmline) -> None:
    live.import_roster(_roster("[es, en]"))
    press = {"Para español, oprima 1": "1", "Para Recuperación del uso de sustancias, oprima 1": "1",
             "Para que le devolvamos la llamada, oprima 1": "1", "Para usarlo, oprima 1": "1",
             "en cuanto un compañero esté libre, oprima 1": "1", "Oprima 1 para sí": "2"}
    asking = live.standin.caller(CALLER, press=press).dial(LINE)
    asking.wait_until_heard("Un compañero le devolverá la llamada", timeout=60)
    asking.wait_until_ended(timeout=60)
    assert_all_in(asking, SPANISH, after="Para español, oprima 1.")
    with live.runtime.sessions() as session:
        request = session.scalars(select(CallbackRequest)).one()
        assert request.language == "es"

    caller = live.standin.phone(CALLER, answer_after=0.5,
                                press={"Oprima 1 para la llamada que pidió": "1"})
    sam = live.peer(SAM, press={"Oprima 1 para aceptar": "1"})
    live.go_available(live.peer_id("sam@example.org"))
    assert callbacks.place_due_callbacks(live.runtime, datetime.now(UTC)).started == [request.id]
    peer_call = sam.wait_for_ring(timeout=60)
    peer_call.wait_until_heard("Una persona que pidió Recuperación del uso de sustancias", timeout=60)
    call_back = live.wait_for(lambda: next(iter(caller.rang()), None), timeout=60)
    assert call_back.wait_until_bridged(timeout=60) == [SAM]
    assert_all_in(call_back, SPANISH)
    assert_all_in(peer_call, SPANISH)  # Sam speaks Spanish: the call is theirs in it
    call_back.hang_up()
    peer_call.wait_until_ended(timeout=60)


def test_closed_hours_on_a_spanish_first_line(live: LiveWarmline) -> None:
    live.import_roster(_roster("[es, en]", closed=True))
    call = live.standin.caller(CALLER, press={}).dial(LINE)
    call.wait_until_heard("Test Warmline está cerrada en este momento.", timeout=60)
    call.wait_until_heard("Abrimos de nuevo", timeout=60)
    call.wait_until_heard("Para pedir que le llamemos cuando estemos abiertos, oprima 1.", timeout=60)
    assert_all_in(call, SPANISH)
    call.hang_up()
    call.wait_until_ended(timeout=60)


def test_over_the_limit_on_a_spanish_first_line(live: LiveWarmline) -> None:
    live.import_roster(_roster("[es, en]", limit=1))
    first = live.standin.caller(CALLER, press={}).dial(LINE)
    first.wait_until_heard("Para español, oprima 1.", timeout=60)
    first.hang_up()
    live.outcome_of(first.sid)
    with live.runtime.sessions() as session:
        # An earlier call, not a reconnect (those are folded into the one contact).
        for contact in session.scalars(select(Contact)):
            contact.arrived_at -= timedelta(hours=1)
            contact.ended_at = None
        session.commit()
    again = live.standin.caller(CALLER, press={}).dial(LINE)
    again.wait_until_heard("Ha llegado al límite de llamadas de hoy a esta línea", timeout=60)
    again.wait_until_ended(timeout=60)
    assert_all_in(again, SPANISH)


def test_vietnamese_menu_and_hold(live: LiveWarmline) -> None:
    live.import_roster(_roster("[vi, en]"))
    call = live.standin.caller(CALLER, press={"Để nói tiếng Việt, xin bấm số 1.": "1"}).dial(LINE)
    call.wait_until_heard("Chúng tôi sẽ kết nối bạn với người đồng hành kế tiếp.", timeout=60)
    call.wait_until_heard("Bạn đang ở vị trí số 1 trong hàng chờ.", timeout=60)
    call.wait_until_heard("Để được gọi lại, xin bấm số 1.", timeout=60)
    heard = assert_all_in(call, VIETNAMESE, after="Để nói tiếng Việt, xin bấm số 1.")
    assert any("Đây là đường dây hỗ trợ đồng cảnh" in h for h in heard)
    call.hang_up()
    call.wait_until_ended(timeout=60)


def test_the_peer_hears_the_whisper_in_their_own_language(live: LiveWarmline) -> None:
    """An English-first caller; Sam chose Vietnamese for their pages, so their phone speaks it."""
    live.import_roster(ROSTER)
    with live.runtime.sessions.begin() as session:
        session.execute(update(User).where(User.email == "sam@example.org").values(language="vi"))
    sam = live.peer(SAM, press={"Bấm số 1 để nhận": "1"})
    live.go_available(live.peer_id("sam@example.org"))
    call = live.standin.caller(CALLER, press={"For Substance use recovery": "1"}).dial(LINE)
    ring = sam.wait_for_ring(timeout=60)
    ring.wait_until_heard("Cuộc gọi từ đường dây hỗ trợ. Bấm số 1 để nhận.", timeout=60)
    ring.wait_until_heard("Người gọi đã yêu cầu", timeout=60)
    assert call.wait_until_bridged(timeout=60) == [SAM]
    assert_all_in(ring, VIETNAMESE)
    # The caller's side stays in the caller's language.
    assert any("This is peer support" in text for text, _, _ in call.said())
    call.hang_up()
