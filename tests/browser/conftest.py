"""Browser fixtures: the app served live in a thread, and Debian's headless Chromium via Playwright."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page
from werkzeug.serving import make_server

from tests.support.browser import PHONE_HEIGHT, PHONE_WIDTH
from warmline.runtime import Runtime


@pytest.fixture
def live_url(app: Flask, runtime: Runtime) -> Iterator[str]:
    """The app on a free port, threaded as gunicorn's gthread workers would serve it; the port
    is its public URL, as WARMLINE_PUBLIC_URL is in a deployment."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    runtime.settings = dataclasses.replace(runtime.settings, public_url=url)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield url
    server.shutdown()
    thread.join(timeout=60)


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": PHONE_WIDTH, "height": PHONE_HEIGHT})
    opened = context.new_page()
    yield opened
    context.close()


@pytest.fixture
def axe_page(browser: Browser) -> Iterator[Page]:
    """A page where axe-core may be injected: only here is the app's CSP bypassed."""
    context = browser.new_context(
        viewport={"width": PHONE_WIDTH, "height": PHONE_HEIGHT}, bypass_csp=True
    )
    opened = context.new_page()
    yield opened
    context.close()
