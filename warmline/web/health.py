"""Liveness (`/healthz`) and readiness (`/readyz`: the database and Redis answer)."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import text

from warmline.web.context import current_runtime

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> ResponseReturnValue:
    runtime = current_runtime()
    problems: dict[str, str] = {}
    try:
        with runtime.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready", with its reason
        problems["database"] = type(exc).__name__
    try:
        runtime.redis.ping()
    except Exception as exc:  # noqa: BLE001
        problems["redis"] = type(exc).__name__
    if problems:
        return jsonify(status="unavailable", problems=problems), 503
    return jsonify(status="ok")
