"""Access to the process runtime from inside a request."""

from __future__ import annotations

from flask import current_app

from warmline.runtime import Runtime

RUNTIME_EXTENSION = "warmline.runtime"


def current_runtime() -> Runtime:
    runtime: Runtime = current_app.extensions[RUNTIME_EXTENSION]
    return runtime
