"""The runtime's one REST gateway, shared by threads, against the stand-in's REST API."""

from __future__ import annotations

import threading

from config import Settings
from tests.support.twiml_app import LINE, standin_gateway
from warmline.runtime import build_runtime
from warmline.standin import Standin
from warmline.telephony.gateway import RestTwilioGateway, TwilioGateway

THREADS = 8
TEXTS_EACH = 5


def test_the_runtime_holds_one_gateway_and_takes_a_handed_in_one(settings: Settings) -> None:
    runtime = build_runtime(settings)
    try:
        made: list[TwilioGateway] = []
        readers = [threading.Thread(target=lambda: made.append(runtime.twilio))
                   for _ in range(THREADS)]
        for reader in readers:
            reader.start()
        for reader in readers:
            reader.join()
        assert isinstance(runtime.twilio, RestTwilioGateway)
        assert all(gateway is runtime.twilio for gateway in made)
        assert len(made) == THREADS
    finally:
        runtime.close()
    handed_in = RestTwilioGateway(runtime.settings)
    other = build_runtime(settings)
    other.twilio_gateway = handed_in
    assert other.twilio is handed_in
    other.close()


def test_threads_sharing_the_gateway_each_get_their_own_answers(settings: Settings) -> None:
    standin = Standin(account_sid="AC" + "0" * 32, auth_token="t" * 32).start()
    try:
        standin.add_number(LINE)
        gateway = standin_gateway(standin, settings)
        numbers = [f"+1555004{n:04d}" for n in range(THREADS)]
        for number in numbers:
            standin.texter(number)
        sent: dict[str, list[str]] = {number: [] for number in numbers}

        def send_all(to: str) -> None:
            for n in range(TEXTS_EACH):
                sent[to].append(gateway.send_message(to=to, from_=LINE, body=f"text {n}",
                                                     status_callback=""))

        senders = [threading.Thread(target=send_all, args=(to,)) for to in numbers]
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join()
        client = standin.client()
        for to, sids in sent.items():
            assert len(sids) == TEXTS_EACH == len(set(sids))
            assert {str(client.messages(sid).fetch().to) for sid in sids} == {to}
    finally:
        standin.stop()
