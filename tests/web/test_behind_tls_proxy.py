"""Behind a TLS-terminating proxy (WARMLINE_PROXY_HOPS=1, an https:// public URL).

Requests arrive as the proxy sends them: plain HTTP from 127.0.0.1 with X-Forwarded-*. A browser
under our `Referrer-Policy: no-referrer` sends no Referer and `Origin: null` on a same-origin
post, with `Sec-Fetch-Site: same-origin`; a plain HTTP client sends none of these. Both must
sign in and post; a request from another site must be refused even when it carries a valid token.
The real proxy and Chromium: tests/deploy/.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask, jsonify, request
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.support.dashboard import PASSWORD, form_csrf, make_line, make_peer
from tests.support.services import make_test_settings
from warmline.app import create_app
from warmline.runtime import Runtime, build_runtime, set_process_runtime

PUBLIC_HOST = "warmline.example.org"
PUBLIC_URL = f"https://{PUBLIC_HOST}"
PEER = "robin@example.org"
# What Caddy or nginx adds to every request it passes on.
FROM_PROXY = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": PUBLIC_HOST,
              "X-Forwarded-For": "203.0.113.7"}
# What Chromium adds to a same-origin form post under Referrer-Policy: no-referrer.
BROWSER_SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "navigate", "Origin": "null"}


@pytest.fixture
def proxied(database_url: str, tmp_path: Path) -> Iterator[tuple[Flask, Runtime]]:
    settings = make_test_settings(database_url, tmp_path, WARMLINE_PUBLIC_URL=PUBLIC_URL,
                                  WARMLINE_PROXY_HOPS="1")
    runtime = build_runtime(settings)
    from tests.support.services import clean_database

    clean_database(runtime)
    runtime.redis.flushdb()
    set_process_runtime(runtime)
    app = create_app(runtime=runtime)

    def whoami() -> object:
        return jsonify(remote=request.remote_addr, scheme=request.scheme, host=request.host)

    app.add_url_rule("/_whoami", view_func=whoami)
    line_id = make_line(runtime)
    make_peer(runtime, PEER, line_id=line_id)
    yield app, runtime
    set_process_runtime(None)
    runtime.redis.flushdb()
    runtime.close()


def _client(app: Flask) -> FlaskClient:
    client = app.test_client()
    client.environ_base.update({"REMOTE_ADDR": "127.0.0.1"})
    return client


def _sign_in(client: FlaskClient, extra: dict[str, str]) -> TestResponse:
    token = form_csrf(client)
    return client.post("/sign-in", headers={**FROM_PROXY, **extra},
                       data={"email": PEER, "password": PASSWORD, "csrf_token": token})


def _presence(client: FlaskClient, wanted: str, extra: dict[str, str]) -> TestResponse:
    token = form_csrf(client, "/dashboard")
    return client.post("/dashboard/presence", headers={**FROM_PROXY, **extra},
                       data={"presence": wanted, "csrf_token": token})


def _api_presence(client: FlaskClient) -> str:
    body = client.get("/api/presence", headers=FROM_PROXY).get_json()
    assert body is not None
    presence: str = body["presence"]
    return presence


def test_the_proxy_headers_are_believed_for_exactly_the_configured_hops(
    proxied: tuple[Flask, Runtime], database_url: str, tmp_path: Path,
) -> None:
    app, _ = proxied
    seen = _client(app).get("/_whoami", headers={
        **FROM_PROXY, "X-Forwarded-For": "198.51.100.66, 203.0.113.7"}).get_json()
    # The client forged the first address; the proxy appended the one it saw.
    assert seen == {"remote": "203.0.113.7", "scheme": "https", "host": PUBLIC_HOST}

    runtime = build_runtime(make_test_settings(database_url, tmp_path, WARMLINE_PUBLIC_URL=PUBLIC_URL))
    try:
        direct = create_app(runtime=runtime)
        direct.add_url_rule("/_whoami", view_func=lambda: jsonify(
            remote=request.remote_addr, scheme=request.scheme, host=request.host))
        seen = _client(direct).get("/_whoami", headers=FROM_PROXY).get_json()
        assert seen == {"remote": "127.0.0.1", "scheme": "http", "host": "localhost"}
    finally:
        runtime.close()


@pytest.mark.parametrize("sender", [BROWSER_SAME_ORIGIN, {}, {"Origin": PUBLIC_URL}],
                         ids=["browser-no-referer", "plain-client", "origin-header"])
def test_signing_in_and_posting_work_behind_the_proxy_without_a_referer(
    proxied: tuple[Flask, Runtime], sender: dict[str, str],
) -> None:
    app, _ = proxied
    client = _client(app)
    signed_in = _sign_in(client, sender)
    assert signed_in.status_code == 302, signed_in.get_data(as_text=True)[:500]
    cookie = signed_in.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert signed_in.headers["Strict-Transport-Security"].startswith("max-age=")

    changed = _presence(client, "available", sender)
    assert changed.status_code == 302, changed.get_data(as_text=True)[:500]
    assert _api_presence(client) == "available"

    token = client.get("/api/csrf", headers=FROM_PROXY).get_json()["csrf_token"]
    api_headers = {**FROM_PROXY, **sender, "X-CSRFToken": token}
    if sender is BROWSER_SAME_ORIGIN:
        api_headers["Sec-Fetch-Mode"] = "cors"
    beat = client.post("/api/heartbeat", headers=api_headers)
    assert beat.status_code < 300, beat.get_data(as_text=True)


@pytest.mark.parametrize("sender", [
    {"Sec-Fetch-Site": "cross-site", "Origin": "null"},
    {"Sec-Fetch-Site": "same-site", "Origin": "https://other.example.org"},
    {"Sec-Fetch-Site": "none"},
    {"Origin": "https://evil.example"},
    {"Origin": f"http://{PUBLIC_HOST}"},  # the same host over plain HTTP is another origin
    {"Referer": "https://evil.example/page"},
], ids=["cross-site", "same-site", "none", "origin", "http-origin", "referer"])
def test_a_post_from_another_site_is_refused_even_with_a_valid_token(
    proxied: tuple[Flask, Runtime], sender: dict[str, str],
) -> None:
    app, _ = proxied
    client = _client(app)
    assert _sign_in(client, BROWSER_SAME_ORIGIN).status_code == 302
    # The session cookie and a valid token: only where the request came from is wrong.
    refused = _presence(client, "available", sender)
    assert refused.status_code == 400
    assert "did not come from this page" in refused.get_data(as_text=True)
    assert _api_presence(client) != "available"
    token = client.get("/api/csrf", headers=FROM_PROXY).get_json()["csrf_token"]
    api = client.post("/api/heartbeat", headers={**FROM_PROXY, **sender, "X-CSRFToken": token})
    assert api.status_code == 400
    assert "another site" in api.get_json()["error"]


def test_a_post_without_the_token_is_still_refused_from_our_own_origin(
    proxied: tuple[Flask, Runtime],
) -> None:
    app, _ = proxied
    client = _client(app)
    assert _sign_in(client, BROWSER_SAME_ORIGIN).status_code == 302
    refused = client.post("/dashboard/presence", headers={**FROM_PROXY, **BROWSER_SAME_ORIGIN},
                          data={"presence": "available"})
    assert refused.status_code == 400
    assert _api_presence(client) != "available"
