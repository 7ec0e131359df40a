"""The wait step's answer when the app cannot serve it: valid TwiML that takes the caller out
of the queue (the <Enqueue action> then routes them on), never a bare <Leave/> (found by the
soak: Twilio refuses a document whose root is not <Response>)."""

from __future__ import annotations

import socket
from pathlib import Path
from xml.etree import ElementTree

from tests.support.services import make_test_settings
from tests.support.twiml_schema import assert_valid_voice_twiml
from warmline.app import create_app
from warmline.runtime import build_runtime
from warmline.telephony.signature import compute_signature


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # nothing listens there once the socket is closed


def test_the_wait_step_answers_a_response_that_leaves_the_queue_when_the_database_is_down(
    tmp_path: Path,
) -> None:
    unreachable = f"postgresql://postgres@127.0.0.1:{_closed_port()}/warmline"
    settings = make_test_settings(unreachable, tmp_path, TWILIO_AUTH_TOKEN="token")
    runtime = build_runtime(settings)
    client = create_app(runtime=runtime).test_client()
    path = "/twilio/voice/wait?contact=0123456789abcdef0123456789abcdef"
    form = {"CallSid": "CA" + "1" * 32, "From": "+15005550006", "To": "+12125550100",
            "QueueTime": "30", "QueuePosition": "1", "CurrentQueueSize": "1"}
    signature = compute_signature("token", "http://localhost" + path, form)
    answer = client.post(path, data=form, headers={"X-Twilio-Signature": signature})
    body = answer.get_data(as_text=True)
    assert answer.status_code == 200
    root = ElementTree.fromstring(body)
    assert root.tag == "Response"  # Twilio's root; the schema alone accepts any of its elements
    assert [child.tag for child in root] == ["Leave"]
    assert_valid_voice_twiml(body)
    runtime.close()
