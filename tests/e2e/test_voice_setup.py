"""Setting a line up: `twilio configure` points its number here; a bilingual line asks first."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.support.live import LINE, ROSTER, SAM, LiveWarmline
from tests.support.services import TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, TEST_DATA_KEY, TEST_SECRET_KEY


def _cli(live: LiveWarmline, *args: str) -> subprocess.CompletedProcess[str]:
    settings = live.runtime.settings
    env = {**os.environ, "DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url,
           "TWILIO_API_URL": live.standin.url, "TWILIO_ACCOUNT_SID": TEST_ACCOUNT_SID,
           "TWILIO_AUTH_TOKEN": TEST_AUTH_TOKEN, "WARMLINE_PUBLIC_URL": "https://warmline.example.org",
           "WARMLINE_DATA_KEY": TEST_DATA_KEY, "WARMLINE_SECRET_KEY": TEST_SECRET_KEY,
           "WARMLINE_INSTANCE_DIR": str(settings.instance_dir), "WARMLINE_ENV": "test"}
    return subprocess.run([sys.executable, "-m", "warmline", *args], env=env, capture_output=True,
                          text=True, timeout=60, check=False)


def test_twilio_configure_points_each_line_number_at_the_app_and_reports_it(live: LiveWarmline) -> None:
    live.import_roster(ROSTER)
    client = live.standin.client()
    dry = _cli(live, "twilio", "configure", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert f"{LINE}: would update" in dry.stdout
    number = client.incoming_phone_numbers.list(phone_number=LINE)[0]
    assert number.voice_url.startswith(live.url)  # the dry run changed nothing

    done = _cli(live, "twilio", "configure")
    assert done.returncode == 0, done.stderr
    assert f"{LINE}: updated (voice_url, sms_url, status_callback, voice_fallback_url)" in done.stdout
    number = client.incoming_phone_numbers.list(phone_number=LINE)[0]
    assert number.voice_url == "https://warmline.example.org/twilio/voice"
    assert number.sms_url == "https://warmline.example.org/twilio/sms"
    assert number.status_callback == "https://warmline.example.org/twilio/voice/status"
    assert number.voice_fallback_url == "https://warmline.example.org/twilio/voice/fallback"

    again = _cli(live, "twilio", "configure")
    assert f"{LINE}: unchanged" in again.stdout


def test_a_line_number_missing_from_the_account_is_named_and_fails(live: LiveWarmline) -> None:
    live.import_roster(ROSTER.replace(LINE, "+12125550177"))
    result = _cli(live, "twilio", "configure")
    assert result.returncode == 1
    assert "+12125550177: missing" in result.stdout
    assert "not in this Twilio account" in result.stderr


def test_a_bilingual_line_asks_for_the_language_first_and_then_speaks_it(live: LiveWarmline) -> None:
    live.import_roster(ROSTER.replace("    languages: [en]\n", "    languages: [en, es]\n"))
    live.peer(SAM)
    call = live.standin.caller("+15005550006", press={"Para español, oprima 2": "2"}).dial(LINE)
    call.wait_until_heard("For English, press 1", timeout=60)
    call.wait_until_heard("Este es apoyo entre pares", timeout=60)
    call.wait_until_heard("Para hablar con el próximo compañero disponible, oprima 0", timeout=60)
    contact = live.contact_of_call(call.sid)
    assert contact is not None and contact.language == "es"
