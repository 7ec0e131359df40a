"""`python -m warmline.standin` as a process, driven through its JSON control API."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.support.processes import tied_to_this_run
from tests.support.twiml_app import CALLER, LINE, PEER, TwimlApp

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def served(twiml: TwimlApp) -> Iterator[str]:
    port = free_port()
    token = twiml.validator.token.decode()
    process = subprocess.Popen(
        tied_to_this_run([sys.executable, "-m", "warmline.standin", "--port", str(port), "--speed", "10",
                          "--auth-token", token, "--number", LINE, "--public-url", twiml.url]),
        cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            requests.get(url + "/_standin/", timeout=1)
            break
        except requests.ConnectionError:
            time.sleep(0.05)
    yield url
    process.terminate()
    process.wait(5)


def test_control_api_dials_answers_and_bridges(served: str, twiml: TwimlApp) -> None:
    twiml.on("/twilio/voice", f"<Response><Say>Connecting</Say><Dial><Number url='/w'>{PEER}"
                              "</Number></Dial></Response>")
    twiml.on("/w", "<Response><Gather numDigits='1' action='/ok'><Say>Press 1</Say></Gather>"
                   "<Hangup/></Response>")
    twiml.on("/ok", "<Response/>")
    summary = requests.get(served + "/_standin/", timeout=60).json()
    assert summary["numbers"][0]["voice_url"] == twiml.url + "/twilio/voice"
    assert requests.post(served + "/_standin/phones", json={"number": PEER, "mode": "manual"},
                         timeout=60).status_code == 201
    caller = requests.post(f"{served}/_standin/phones/{CALLER}/dial", json={"to": LINE},
                           timeout=60).json()
    ring = None
    deadline = time.monotonic() + 5
    while ring is None and time.monotonic() < deadline:
        rings = requests.get(served + "/_standin/events", params={"kind": "ring"},
                             timeout=60).json()["events"]
        ring = rings[0]["call_sid"] if rings else None
        time.sleep(0.05)
    assert ring is not None
    requests.post(f"{served}/_standin/calls/{ring}/answer", timeout=60)
    # Press only once the peer hears the whisper's prompt: a key pressed before the gather
    # starts is lost, as on a real phone, and a fixed sleep is too short on a busy machine.
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        peer_call = requests.get(f"{served}/_standin/calls/{ring}", timeout=60).json()
        if peer_call["transcript"]:
            break
        time.sleep(0.05)
    requests.post(f"{served}/_standin/calls/{ring}/press", json={"digits": "1"}, timeout=60)
    deadline = time.monotonic() + 5
    state: dict[str, object] = {}
    while time.monotonic() < deadline:
        state = requests.get(f"{served}/_standin/calls/{caller['sid']}", timeout=60).json()
        if state["bridged_with"]:
            break
        time.sleep(0.05)
    assert state["bridged_with"] == [PEER]
    assert state["transcript"][0]["text"] == "Connecting"  # type: ignore[index]
    requests.post(f"{served}/_standin/calls/{caller['sid']}/hangup", timeout=60)
    text = requests.post(f"{served}/_standin/phones/{CALLER}/texts",
                         json={"to": LINE, "body": "hi"}, timeout=60)
    assert text.status_code == 201 and text.json()["body"] == "hi"


def test_main_is_importable_with_argv() -> None:
    from warmline.standin.__main__ import parse

    args = parse(["--port", "6000", "--speed", "2", "--number", LINE, "--number", PEER])
    assert (args.port, args.speed, args.number) == (6000, 2.0, [LINE, PEER])
