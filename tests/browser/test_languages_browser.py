"""The dashboard in the peer's language, in headless Chromium: the browser's before sign-in, then
their own choice, which holds on any browser."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support.dashboard import PASSWORD, make_line, make_peer
from tests.support.screenshots import SCREENSHOTS
from warmline.runtime import Runtime

pytestmark = pytest.mark.browser
EMAIL = "robin@example.org"


@pytest.fixture
def spanish_page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="es-US", viewport={"width": 1024, "height": 900})
    opened = context.new_page()
    yield opened
    context.close()


def test_a_peer_reads_the_dashboard_in_spanish(
        spanish_page: Page, page: Page, live_url: str, runtime: Runtime) -> None:
    line = make_line(runtime)
    make_peer(runtime, EMAIL, line_id=line)
    # Before sign-in: the browser asks for Spanish.
    spanish_page.goto(f"{live_url}/sign-in")
    expect(spanish_page.locator("html")).to_have_attribute("lang", "es")
    spanish_page.get_by_label("Correo electrónico").fill(EMAIL)
    spanish_page.get_by_label("Contraseña").fill(PASSWORD)
    spanish_page.get_by_role("button", name="Iniciar sesión").click()
    spanish_page.wait_for_url(f"{live_url}/dashboard")
    expect(spanish_page.locator("#presence-status")).to_have_text("Está fuera")
    # The peer's own choice, saved: it holds on a browser that asks for English.
    spanish_page.get_by_label("Idioma de estas páginas").select_option("es")
    spanish_page.locator("#page-language-save").click()
    spanish_page.wait_for_url(f"{live_url}/dashboard")
    spanish_page.locator("#presence-available").click()
    expect(spanish_page.locator("#presence-status")).to_have_text("Está disponible")
    expect(spanish_page.get_by_role("heading", name="Su estado")).to_be_visible()
    expect(spanish_page.get_by_role("button", name="Necesito apoyo")).to_be_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    spanish_page.screenshot(path=str(SCREENSHOTS / "peer-view-es.png"), full_page=True)

    page.goto(f"{live_url}/sign-in")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_url}/dashboard")
    expect(page.locator("#presence-status")).to_have_text("Está disponible")
    expect(page.locator("html")).to_have_attribute("lang", "es")
