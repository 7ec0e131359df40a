"""The health endpoints, and the app factory itself."""

from __future__ import annotations

from pathlib import Path

from flask.testing import FlaskClient

from tests.support.services import make_test_settings
from warmline.app import create_app


def test_healthz_answers_without_touching_services(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_readyz_is_200_when_database_and_redis_answer(client: FlaskClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200, response.json


def test_readyz_is_503_with_the_reason_when_redis_is_down(database_url: str, tmp_path: Path) -> None:
    settings = make_test_settings(database_url, tmp_path, REDIS_URL="redis://127.0.0.1:1/0")
    response = create_app(settings).test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json is not None
    assert set(response.json["problems"]) == {"redis"}


def test_readyz_is_503_when_the_database_is_down(tmp_path: Path) -> None:
    settings = make_test_settings(
        "postgresql+psycopg://postgres@127.0.0.1:1/nowhere", tmp_path
    )
    response = create_app(settings).test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json is not None
    assert "database" in response.json["problems"]
