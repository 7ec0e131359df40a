"""schemathesis against the served OpenAPI document, as a signed-in peer: no 5xx, answers conform.

The operations are driven through schemathesis's Python API with hypothesis directly (not its
pytest plugin, which does not load under this pytest version).
"""

from __future__ import annotations

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings

from tests.support.dashboard import api_csrf, make_line, make_peer, sign_in
from warmline.runtime import Runtime
from warmline.web.auth import SESSION_COOKIE_NAME

EXAMPLES_PER_OPERATION = 40


@pytest.fixture
def peer_headers(app: Flask, runtime: Runtime) -> dict[str, str]:
    """A peer on shift, signed in: their cookie and CSRF token as headers."""
    line = make_line(runtime)
    make_peer(runtime, "robin@example.org", line_id=line)
    client = app.test_client()
    sign_in(client, "robin@example.org")
    token = api_csrf(client)
    cookie = client.get_cookie(SESSION_COOKIE_NAME)
    assert cookie is not None
    return {"Cookie": f"{SESSION_COOKIE_NAME}={cookie.value}", "X-CSRFToken": token}


def test_the_api_honours_its_document(app: Flask, peer_headers: dict[str, str]) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    _, session_value = peer_headers["Cookie"].split("=", 1)

    @schema.auth()
    class PeerSession:
        """Tells schemathesis what our auth is, so its ignored-auth check can take it away."""

        def get(self, case: schemathesis.Case, context: schemathesis.AuthContext) -> str:
            return session_value

        def set(self, case: schemathesis.Case, data: str, context: schemathesis.AuthContext) -> None:
            case.cookies = {**(case.cookies or {}), SESSION_COOKIE_NAME: data}
            case.headers = {**(case.headers or {}), "X-CSRFToken": peer_headers["X-CSRFToken"]}

    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 12
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def honours(case: schemathesis.Case) -> None:
            case.call_and_validate()

        honours()
