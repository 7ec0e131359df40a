"""The OpenAPI 3 document of the JSON API, served at /api/openapi.json (schemathesis checks it)."""

from __future__ import annotations

from typing import Any

OPENAPI_VERSION = "3.0.3"


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _ok(description: str, schema: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


_SIGNED_IN = {
    "401": _error("Not signed in"),
    "403": _error("Signed in, but not as a peer on the roster"),
    "503": _error("Redis or the database cannot be reached right now; retry after Retry-After seconds"),
}
# State-changing calls also answer 400 when the CSRF token is missing or wrong, or the request
# came from another site (Sec-Fetch-Site, Origin or Referer).
_CHANGING = {**_SIGNED_IN, "400": _error("Missing or wrong CSRF token, a request from another site, "
                                         "or a malformed body")}

_NULLABLE_TIME = {"type": "string", "format": "date-time", "nullable": True}
_TIME = {"type": "string", "format": "date-time"}

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {"error": {"type": "string"}},
    },
    "CsrfToken": {
        "type": "object",
        "required": ["csrf_token"],
        "properties": {"csrf_token": {"type": "string"}},
    },
    "Me": {
        "type": "object",
        "required": ["id", "email", "role", "peer_id", "first_name", "lines"],
        "properties": {
            "id": {"type": "integer"},
            "email": {"type": "string"},
            "role": {"type": "string", "enum": ["peer", "admin"]},
            "peer_id": {"type": "integer"},
            "first_name": {"type": "string"},
            "lines": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["id", "name", "timezone"],
                    "properties": {
                        "id": {"type": "integer"},
                        "name": {"type": "string"},
                        "timezone": {"type": "string"},
                    },
                },
            },
        },
    },
    "Presence": {
        "type": "object",
        "required": [
            "presence", "on_shift", "on_shift_until", "on_shift_line_ids", "next_shift_start",
            "wrap_up_until", "in_contact", "message",
        ],
        "properties": {
            "presence": {
                "type": "string",
                "enum": ["off", "available", "break", "wrap_up", "offered", "busy"],
            },
            "on_shift": {"type": "boolean"},
            "on_shift_until": _NULLABLE_TIME,
            "on_shift_line_ids": {"type": "array", "items": {"type": "integer"}},
            "next_shift_start": _NULLABLE_TIME,
            "wrap_up_until": _NULLABLE_TIME,
            "in_contact": {"type": "boolean"},
            "message": {"type": "string"},
        },
    },
    "PresenceChange": {
        "type": "object",
        "required": ["presence"],
        "additionalProperties": False,
        "properties": {"presence": {"type": "string", "enum": ["available", "break", "off"]}},
    },
    "Queue": {
        "type": "object",
        "required": ["waiting"],
        "properties": {
            "waiting": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": [
                        "line_id", "line_name", "experience_key", "experience", "channel",
                        "waiting", "longest_wait_seconds",
                    ],
                    "properties": {
                        "line_id": {"type": "integer"},
                        "line_name": {"type": "string"},
                        "experience_key": {"type": "string", "nullable": True},
                        "experience": {"type": "string"},
                        "channel": {"type": "string", "enum": ["voice", "sms", "chat"]},
                        "waiting": {"type": "integer", "minimum": 0},
                        "longest_wait_seconds": {"type": "integer", "minimum": 0},
                    },
                },
            }
        },
    },
    "Callback": {
        "type": "object",
        "required": [
            "id", "line_id", "line_name", "experience", "window_start", "window_end",
            "taken_by_me",
        ],
        "properties": {
            "id": {"type": "integer"},
            "line_id": {"type": "integer"},
            "line_name": {"type": "string"},
            "experience": {"type": "string", "nullable": True},
            "window_start": _TIME,
            "window_end": _TIME,
            "taken_by_me": {"type": "boolean"},
        },
    },
    "Callbacks": {
        "type": "object",
        "required": ["callbacks"],
        "properties": {
            "callbacks": {"type": "array", "items": {"$ref": "#/components/schemas/Callback"}}
        },
    },
    "Shifts": {
        "type": "object",
        "required": ["shifts"],
        "properties": {
            "shifts": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["line_id", "line_name", "timezone", "start", "end"],
                    "properties": {
                        "line_id": {"type": "integer"},
                        "line_name": {"type": "string"},
                        "timezone": {"type": "string"},
                        "start": _TIME,
                        "end": _TIME,
                    },
                },
            }
        },
    },
    "Heartbeat": {
        "type": "object",
        "required": ["open", "ttl_seconds"],
        "properties": {"open": {"type": "boolean"}, "ttl_seconds": {"type": "integer"}},
    },
    "SupportAlert": {
        "type": "object",
        "required": ["id", "at", "admins_on_shift"],
        "properties": {
            "id": {"type": "string"},
            "at": _TIME,
            "admins_on_shift": {"type": "integer", "minimum": 0},
        },
    },
    "AbuseReport": {
        "type": "object",
        "required": ["blocked_days"],
        "properties": {"blocked_days": {
            "type": "integer",
            "description": "0 when the caller withheld their number: only the call ends"}},
    },
}


def openapi_document() -> dict[str, Any]:
    """The whole document; a function so tests and the route always see a fresh copy."""
    security: list[dict[str, list[str]]] = [{"session": []}]
    changing_security: list[dict[str, list[str]]] = [{"session": [], "csrf": []}]
    document = _base_document(security, changing_security)
    # Texts: the conversation pane's endpoints, kept in their own module.
    from warmline.web.texts_openapi import TEXT_SCHEMAS, text_paths  # noqa: PLC0415

    document["components"]["schemas"] = {**SCHEMAS, **TEXT_SCHEMAS}
    document["paths"].update(text_paths(_ok, _error, _SIGNED_IN, _CHANGING, security=security,
                                        changing_security=changing_security))
    return document


def _base_document(security: list[dict[str, list[str]]],
                   changing_security: list[dict[str, list[str]]]) -> dict[str, Any]:
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Warmline peer API",
            "version": "1",
            "description": (
                "What the peer dashboard does, as JSON. Sign in at /sign-in (the session cookie"
                " authenticates); state-changing calls send the token from GET /api/csrf in the"
                " X-CSRFToken header. No answer ever holds a caller's or texter's number."
            ),
        },
        "components": {
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "warmline_session"},
                "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRFToken"},
            },
            "schemas": SCHEMAS,
        },
        "paths": {
            "/api/csrf": {
                "get": {
                    "operationId": "getCsrfToken",
                    "summary": "A CSRF token for this session",
                    "security": [],
                    "responses": {"200": _ok("The token", "CsrfToken")},
                }
            },
            "/api/me": {
                "get": {
                    "operationId": "getMe",
                    "summary": "The signed-in peer and the lines they work",
                    "security": security,
                    "responses": {"200": _ok("The peer", "Me"), **_SIGNED_IN},
                }
            },
            "/api/presence": {
                "get": {
                    "operationId": "getPresence",
                    "summary": "The peer's presence and what it means now",
                    "security": security,
                    "responses": {"200": _ok("Presence", "Presence"), **_SIGNED_IN},
                },
                "put": {
                    "operationId": "setPresence",
                    "summary": "Go available, on break, or off",
                    "security": changing_security,
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/PresenceChange"}
                            }
                        },
                    },
                    "responses": {
                        "200": _ok("The new presence", "Presence"),
                        **_CHANGING,
                        "409": _error(
                            "Not possible now: available outside a shift, or during a contact"
                        ),
                    },
                },
            },
            "/api/wrap-up/extend": {
                "post": {
                    "operationId": "extendWrapUp",
                    "summary": "I need more time: lengthen the wrap-up after a contact",
                    "security": changing_security,
                    "responses": {
                        "200": _ok("The presence after extending", "Presence"),
                        **_CHANGING,
                        "409": _error("Not in wrap-up"),
                    },
                }
            },
            "/api/report-abuse": {
                "post": {
                    "operationId": "reportAbuse",
                    "summary": "End the current contact and block its caller for 30 days",
                    "security": changing_security,
                    "responses": {
                        "201": _ok("Blocked", "AbuseReport"),
                        **_CHANGING,
                        "409": _error("Not in a contact"),
                    },
                }
            },
            "/api/queue": {
                "get": {
                    "operationId": "getQueue",
                    "summary": "Waiting contacts on the peer's lines by experience and channel",
                    "security": security,
                    "responses": {"200": _ok("Counts and waits", "Queue"), **_SIGNED_IN},
                }
            },
            "/api/callbacks": {
                "get": {
                    "operationId": "listCallbacks",
                    "summary": "Pending callbacks of the peer's lines (never a number)",
                    "security": security,
                    "responses": {"200": _ok("Callbacks", "Callbacks"), **_SIGNED_IN},
                }
            },
            "/api/callbacks/{callback_id}/take": {
                "post": {
                    "operationId": "takeCallback",
                    "summary": "Take a pending callback: the peer is rung first, then the caller",
                    "security": changing_security,
                    "parameters": [
                        {
                            "name": "callback_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "integer", "minimum": 0},
                        }
                    ],
                    "responses": {
                        "200": _ok("Taken", "Callback"),
                        **_CHANGING,
                        "404": _error("No such callback on the peer's lines"),
                        "409": _error("Taken by someone else, or no longer pending"),
                    },
                }
            },
            "/api/shifts": {
                "get": {
                    "operationId": "listShifts",
                    "summary": "The peer's shifts in the next 14 days (UTC instants)",
                    "security": security,
                    "responses": {"200": _ok("Shifts", "Shifts"), **_SIGNED_IN},
                }
            },
            "/api/heartbeat": {
                "post": {
                    "operationId": "heartbeat",
                    "summary": "The dashboard is open (send every 20 s; lapses after 60 s)",
                    "security": changing_security,
                    "responses": {"200": _ok("Recorded", "Heartbeat"), **_CHANGING},
                }
            },
            "/api/support": {
                "post": {
                    "operationId": "needSupport",
                    "summary": "Alert the admins on shift at once (or text the line's admins)",
                    "security": changing_security,
                    "responses": {
                        "201": _ok("Alert raised", "SupportAlert"),
                        "429": _error("Already asked within 5 minutes: the admins know "
                                      "(Retry-After says when another alert is taken)"),
                        **_CHANGING,
                    },
                }
            },
        },
    }
