"""Everything a caller or peer hears, per language; English is the fallback for any missing text."""

from __future__ import annotations

from typing import Final

# Twilio voices per language (TwiML <Say voice=... language=...>).
VOICES: Final[dict[str, tuple[str, str]]] = {
    "en": ("Polly.Joanna-Neural", "en-US"),
    "es": ("Polly.Lupe-Neural", "es-US"),
}

LANGUAGE_NAMES: Final[dict[str, str]] = {"en": "For English, press {digit}.",
                                         "es": "Para español, oprima {digit}."}

_TEXTS: Final[dict[str, dict[str, str]]] = {
    "en": {
        "default_greeting": "You've reached {line}. We're people with lived experience, here to listen.",
        "not_crisis": (
            "This is peer support, not a crisis line. If you are in danger, hang up and call 9 1 1, "
            "or call or text 9 8 8. To talk with a crisis counselor now, press 9."
        ),
        "menu_intro": "To talk with a peer who shares an experience, choose:",
        "menu_item": "For {label}, press {digit}.",
        "menu_anyone": "To talk with the next available peer, press 0.",
        "no_input_anyone": "We'll connect you with the next available peer.",
        "unknown_line": (
            "Sorry, this number is not set up to take calls right now. If you are in danger, "
            "call 9 1 1, or call or text 9 8 8. Goodbye."
        ),
        "blocked": (
            "We're not able to take your call on this line. If you need support now, you can "
            "call or text 9 8 8 any time. Take care."
        ),
        "over_limit": (
            "You've reached today's limit of calls to this line, so we can't connect you now. "
            "You're welcome to call again tomorrow. If you need someone now, you can call or "
            "text 9 8 8, or call 2 1 1 for local services. Take care of yourself."
        ),
        "flood_caller": (
            "We've had a lot of calls from this phone in the last few minutes, so we can't "
            "connect this one. Please wait a little and call again. If you need someone now, "
            "you can call or text 9 8 8 any time. Take care."
        ),
        "flood_line": (
            "Our line is getting an unusual number of calls right now and can't take yours. "
            "Please try again in a few minutes. If you need someone now, you can call or text "
            "9 8 8 any time. In an emergency, call 9 1 1."
        ),
        "flood_line_backup": (
            "Our line is getting an unusual number of calls right now, so we're connecting you "
            "with a partner line. Please hold."
        ),
        "closed": "{line} is closed right now.",
        "closed_next": "We open again {when}.",
        "closed_resources": (
            "If you need someone now, you can call or text 9 8 8 any time. "
            "In an emergency, call 9 1 1."
        ),
        "closed_callback": "To ask for a call back when we're open, press 1.",
        "goodbye": "Thank you for calling. Take care.",
        # Hold updates say only what is true: "talking with callers" only when every
        # peer who could take the call is on one; otherwise "as soon as one is free".
        "wait_match_none": "Nobody who shares {experience} is on shift right now.",
        "wait_match_all_talking": (
            "Everyone who shares {experience} is talking with a caller right now."
        ),
        "wait_match_free_soon": (
            "A peer who shares {experience} will be with you as soon as one is free."
        ),
        "wait_all_talking": "All of our peers are talking with callers right now.",
        "wait_free_soon": "A peer will be with you as soon as one is free.",
        "wait_position": "You are number {position} in line.",
        "wait_estimate": "The wait is about {minutes} minutes.",
        "wait_choices_match": (
            "Stay on the line to wait for them. To talk with the next available peer instead, press 0."
        ),
        "wait_choices": "Stay on the line to keep your place.",
        "wait_callback": "To be called back instead, press 1.",
        "wait_crisis": "To talk with a crisis counselor now, press 9.",
        "wait_connecting": "Connecting you with a peer now.",
        "wait_any_ok": "Okay. We'll connect you with the next available peer.",
        "max_wait": "We're sorry we couldn't reach a peer in time.",
        "max_wait_backup": "Or stay on the line, and we'll connect you with our partner line.",
        "max_wait_no_backup": "Please call back later, or call or text 9 8 8 any time.",
        "transfer_crisis": "Connecting you with a crisis counselor now. Please stay on the line.",
        "transfer_backup": "Connecting you with our partner line now. Please stay on the line.",
        "no_crisis_number": "Please hang up and call or text 9 8 8, or call 9 1 1 in an emergency.",
        "degraded": "We're having trouble connecting your call.",
        "degraded_backup": "We'll connect you with our partner line now.",
        "degraded_no_backup": (
            "Please try again in a few minutes. If you need someone now, call or text 9 8 8, "
            "or call 9 1 1 in an emergency."
        ),
        "callback_confirm_number": (
            "We can call you back at the number you're calling from. To use it, press 1. "
            "To enter a different number, press 2."
        ),
        "callback_enter_number": (
            "Please enter the number to call, with the area code, then press pound."
        ),
        "callback_bad_number": "Sorry, that doesn't look like a phone number we can call.",
        "callback_number_not_callable": (
            "Sorry, we can only call back a home, work or mobile number in this country, "
            "not an international, premium-rate or toll-free number."
        ),
        "callback_window": (
            "To be called back as soon as a peer is free, press 1. "
            "To be called back later today, press 2."
        ),
        "callback_later_hours": "To be called in about {hours} hours, press {digit}.",
        "callback_message": (
            "If we call and nobody answers, may we leave a short message that says only "
            "'this is the warmline returning your call'? Press 1 for yes, 2 for no."
        ),
        "callback_done": (
            "Thank you. A peer will call you back from this line's number. Take care until then."
        ),
        "callback_unavailable": "Sorry, call backs aren't available on this line.",
        "invalid_choice": "Sorry, I didn't get that.",
        "no_key_heard": "Sorry, I didn't hear anything.",
        # When a question's bound is reached, the call moves on and says how.
        "language_default": "We'll continue in English.",
        "hold_place_kept": "You keep your place in line.",
        "callback_not_set": "We couldn't set up a call back this time.",
        "back_in_line": "You're back in line, and you keep your place.",
        "callback_window_default": "We'll call you back as soon as a peer is free.",
        "callback_no_message": "We won't leave a message.",
        # What a peer hears. Nothing about the caller before they press 1: it might be voicemail.
        "peer_whisper": "Warmline call. Press 1 to accept.",
        "peer_connecting": "Connecting you now. {line}. The caller asked for {experience}.",
        "peer_anyone": "anyone",
        "peer_already_helped": "This caller has already been helped. Thank you.",
        "peer_declined": "Okay. Thank you.",
        "peer_call_ended": "The call has ended. Thank you. Take a moment for yourself.",
        "peer_callback_whisper": "Warmline call back. Press 1 to accept.",
        "peer_callback_connecting": (
            "A caller who asked for {experience} would like a call back. We're calling them now; "
            "please stay on the line."
        ),
        "callback_caller_prompt": "Hello. Press 1 for the call back you asked for.",
        "callback_voicemail": "This is the warmline returning your call.",
        # Callbacks, after the peer's 1.
        "peer_callback_waiting": "We're still calling them. Please stay on the line.",
        "peer_callback_missed": (
            "They didn't answer this time. We'll try them again later. Thank you."
        ),
        "peer_callback_ended": "The call back has ended. Thank you. Take a moment for yourself.",
        "callback_caller_sorry": (
            "Sorry, the peer who was calling you had to step away. We'll call you again soon."
        ),
    },
    "es": {
        "default_greeting": (
            "Ha llamado a {line}. Somos personas con experiencia vivida, aquí para escuchar."
        ),
        "not_crisis": (
            "Este es apoyo entre pares, no una línea de crisis. Si está en peligro, cuelgue y llame "
            "al 9 1 1, o llame o envíe un texto al 9 8 8. "
            "Para hablar ahora con un consejero de crisis, oprima 9."
        ),
        "menu_intro": "Para hablar con alguien que comparte una experiencia, elija:",
        "menu_item": "Para {label}, oprima {digit}.",
        "menu_anyone": "Para hablar con el próximo compañero disponible, oprima 0.",
        "wait_all_talking": "Todos nuestros compañeros están hablando con otras personas ahora.",
        "wait_free_soon": "Un compañero le atenderá en cuanto uno esté libre.",
        "wait_match_none": "Nadie que comparta {experience} está de turno ahora.",
        "wait_match_all_talking": (
            "Todas las personas que comparten {experience} están hablando con alguien ahora."
        ),
        "wait_match_free_soon": (
            "Un compañero que comparte {experience} le atenderá en cuanto uno esté libre."
        ),
        "wait_position": "Usted es el número {position} en la fila.",
        "wait_choices": "Permanezca en la línea para conservar su lugar.",
        "invalid_choice": "Perdón, no entendí.",
        "no_key_heard": "Perdón, no escuché ninguna opción.",
        "language_default": "Continuaremos en español.",
        "hold_place_kept": "Conserva su lugar en la fila.",
        "wait_callback": "Para que le devolvamos la llamada, oprima 1.",
        "wait_crisis": "Para hablar ahora con un consejero de crisis, oprima 9.",
        "goodbye": "Gracias por llamar. Cuídese.",
        "flood_caller": (
            "Hemos recibido muchas llamadas de este teléfono en los últimos minutos, así que no "
            "podemos conectar esta. Espere un poco y vuelva a llamar. Si necesita a alguien ahora, "
            "puede llamar o enviar un texto al 9 8 8 a cualquier hora. Cuídese."
        ),
        "flood_line": (
            "Nuestra línea está recibiendo un número inusual de llamadas y no puede tomar la suya. "
            "Intente de nuevo en unos minutos. Si necesita a alguien ahora, puede llamar o enviar "
            "un texto al 9 8 8 a cualquier hora. En una emergencia, llame al 9 1 1."
        ),
        "flood_line_backup": (
            "Nuestra línea está recibiendo un número inusual de llamadas, así que le conectamos "
            "con una línea asociada. Espere, por favor."
        ),
    },
}


def text(language: str, key: str, **values: object) -> str:
    """The prompt `key` in `language`, falling back to English, with values filled in."""
    template = _TEXTS.get(language, {}).get(key) or _TEXTS["en"][key]
    return template.format(**values)


def voice_for(language: str) -> tuple[str, str]:
    return VOICES.get(language, VOICES["en"])
