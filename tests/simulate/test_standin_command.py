"""`python -m warmline standin --configure-lines`: the demo line and peer phones, as scripts/run has them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from tests.support.processes import tied_to_this_run
from tests.support.redis_servers import free_port
from tests.support.services import TEST_REDIS_URL

REPO = Path(__file__).resolve().parents[2]


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=60) as response:
        return json.load(response) if "json" in response.headers["content-type"] else response.read()


def test_configure_lines_provisions_the_demo_line_and_rings_peers_on_the_page(tmp_path: Path) -> None:
    app_port, port = free_port(), free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO), "WARMLINE_ENV": "development",
           "WARMLINE_INSTANCE_DIR": str(tmp_path / "instance"), "REDIS_URL": TEST_REDIS_URL,
           "WARMLINE_PUBLIC_URL": f"http://127.0.0.1:{app_port}",
           "TWILIO_API_URL": f"http://127.0.0.1:{port}"}
    env.pop("DATABASE_URL", None)
    env.pop("TWILIO_AUTH_TOKEN", None)
    env.pop("TWILIO_ACCOUNT_SID", None)
    for args in (["db", "upgrade"], ["roster", "import", "demo/roster.yaml"]):
        subprocess.run([sys.executable, "-m", "warmline", *args], cwd=REPO, env=env, check=True,
                       capture_output=True, timeout=60)
    process = subprocess.Popen(tied_to_this_run([sys.executable, "-m", "warmline", "standin", "--port",
                                                 str(port), "--configure-lines"]),
                               cwd=REPO, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        summary: dict[str, Any] = {}
        while time.monotonic() < deadline:
            try:
                summary = _get(base + "/_standin/")
                if summary["phones"]:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        # The app's own development account and token: signatures agree without settings.
        secrets = json.loads((tmp_path / "instance" / "dev-secrets.json").read_text())
        assert summary["account_sid"] == "AC" + "0" * 30 + "de"
        (number,) = summary["numbers"]
        assert number["phone_number"] == "+12125550100"
        assert number["voice_url"] == f"http://127.0.0.1:{app_port}/twilio/voice"
        assert number["sms_url"] == f"http://127.0.0.1:{app_port}/twilio/sms"
        assert number["voice_fallback_url"] == f"http://127.0.0.1:{app_port}/twilio/voice/fallback"
        assert {p["number"] for p in summary["phones"]} == {
            "+12125550101", "+12125550102", "+12125550103", "+12125550104"}
        assert all(p["mode"] == "manual" for p in summary["phones"])
        state = _get(base + "/_standin/page/state")
        assert {p["label"] for p in state["peers"]} == {
            "Sam (peer)", "Ana (peer)", "Lee (peer)", "Kim (peer)"}
        assert b"Phones on the screen" in _get(base + "/")
        assert secrets["TWILIO_AUTH_TOKEN"]  # made once; the stand-in signed with it
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert "phone page:" in out and "line +12125550100: updated" in out
    assert secrets["TWILIO_AUTH_TOKEN"] not in out + err
