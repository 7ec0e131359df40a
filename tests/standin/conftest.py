"""Fixtures: a stand-in on a free port and a small Flask app of TwiML fixtures beside it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.serving import make_server

from tests.support.twiml_app import SPEED, TwimlApp
from warmline.standin import Standin


@pytest.fixture
def standin() -> Iterator[Standin]:
    stand = Standin(speed=SPEED).start()
    yield stand
    stand.stop()


@pytest.fixture
def twiml(standin: Standin) -> Iterator[TwimlApp]:
    fixtures = TwimlApp(standin.config.auth_token)
    server = make_server("127.0.0.1", 0, fixtures.app, threaded=True)
    fixtures.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=lambda: server.serve_forever(poll_interval=0.05),
                              daemon=True)
    thread.start()
    yield fixtures
    server.shutdown()
    server.server_close()
    assert all(s.valid for s in fixtures.seen), [s for s in fixtures.seen if not s.valid]


@pytest.fixture
def client(standin: Standin) -> Any:
    return standin.client()
