"""A peer's open dashboard while Redis goes away and comes back, in headless Chromium.

The live region's polls answer 503 during the outage: the page says plainly that it is not up to
date (never a page that looks live but is not), and the notice goes once Redis answers again. A
page loaded during the outage is our own styled "we can't reach our data right now" page.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from werkzeug.serving import make_server

from tests.support.dashboard import PASSWORD, make_line, make_peer
from tests.support.redis_servers import free_port, own_redis
from tests.support.screenshots import SCREENSHOTS
from tests.support.services import clean_database, make_test_settings
from warmline.app import create_app
from warmline.runtime import build_runtime, set_process_runtime

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")]

PEER = "robin@example.org"
OUTAGE_HEADLINE = "We can't reach our data right now"
POLL_WAIT_MS = 20_000  # a few of the dashboard's 4 s polls


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[tuple[str, int]]:
    """The app on a free port, on a Redis of its own that the test may stop and start."""
    redis_port = free_port()
    settings = make_test_settings(database_url, tmp_path, REDIS_URL=f"redis://127.0.0.1:{redis_port}/0")
    with own_redis(redis_port):
        runtime = build_runtime(settings)
        clean_database(runtime)
        set_process_runtime(runtime)
        make_peer(runtime, PEER, line_id=make_line(runtime))
        server = make_server("127.0.0.1", 0, create_app(runtime=runtime), threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_port}", redis_port
        finally:
            server.shutdown()
            thread.join(timeout=5)
            set_process_runtime(None)
            runtime.close()


def test_an_open_dashboard_says_when_it_cannot_reach_the_data_and_recovers(
    page: Page, served: tuple[str, int],
) -> None:
    url, redis_port = served
    page.goto(f"{url}/sign-in")
    page.get_by_label("Email").fill(PEER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{url}/dashboard")
    notice = page.locator("#outage-notice")
    expect(notice).to_be_hidden()

    # Redis stops: the next poll answers 503 and the page says it is not up to date.
    from redis import Redis

    Redis(port=redis_port).shutdown(nosave=True)
    expect(notice).to_be_visible(timeout=POLL_WAIT_MS)
    expect(notice).to_contain_text(OUTAGE_HEADLINE)
    page.screenshot(path=str(SCREENSHOTS / "outage-notice.png"))

    # Back: the next good poll takes the notice away, without a reload.
    with own_redis(redis_port):
        expect(notice).to_be_hidden(timeout=POLL_WAIT_MS)
        Redis(port=redis_port).shutdown(nosave=True)
        # Loading a page during the outage: our own page, styled, with a 503.
        answer = page.goto(f"{url}/dashboard")
        assert answer is not None and answer.status == 503
        expect(page.locator("h1")).to_have_text(OUTAGE_HEADLINE)
        expect(page.locator("link[rel=stylesheet]")).to_have_count(1)
        assert "Traceback" not in page.content()
        page.screenshot(path=str(SCREENSHOTS / "outage-page.png"))
