"""The texts pane's part of the OpenAPI document (merged by warmline.web.openapi)."""

from __future__ import annotations

from typing import Any

_NULLABLE_TEXT = {"type": "string", "nullable": True}

# The texter's language: its code and its name in itself ("español"), for the peer to see.
_LANGUAGE: dict[str, Any] = {
    "type": "object", "required": ["code", "name"],
    "properties": {"code": {"type": "string"}, "name": {"type": "string"}},
}

TEXT_SCHEMAS: dict[str, Any] = {
    "TextOffer": {
        "type": "object",
        "required": ["offer_id", "contact_id", "label", "line_name", "experience", "risk",
                     "expires_in_seconds"],
        "properties": {
            "offer_id": {"type": "string"},
            "contact_id": {"type": "string"},
            "label": {"type": "string"},
            "line_name": {"type": "string"},
            "experience": _NULLABLE_TEXT,
            "language": _LANGUAGE,
            "risk": {"type": "boolean"},
            "expires_in_seconds": {"type": "integer", "minimum": 0},
            "channel": {"type": "string", "enum": ["sms", "chat"]},
        },
    },
    "TextMessage": {
        "type": "object",
        "required": ["direction", "body", "at", "by", "status", "segments"],
        "properties": {
            "direction": {"type": "string", "enum": ["in", "out", "note"]},
            "body": {"type": "string"},
            "at": {"type": "string", "format": "date-time"},
            "by": {"type": "string", "enum": ["texter", "peer", "line"]},
            "status": {"type": "string", "nullable": True, "enum": [
                "queued", "sending", "sent", "delivered", "undelivered", "failed", "unknown",
                None]},
            "segments": {"type": "integer", "minimum": 1},
        },
    },
    "TextConversation": {
        "type": "object",
        "required": ["contact_id", "label", "line_name", "experience", "risk", "messages"],
        "properties": {
            "contact_id": {"type": "string"},
            "label": {"type": "string"},
            "line_name": {"type": "string"},
            "experience": _NULLABLE_TEXT,
            "language": _LANGUAGE,
            "risk": {"type": "boolean"},
            "messages": {"type": "array",
                         "items": {"$ref": "#/components/schemas/TextMessage"}},
            "channel": {"type": "string", "enum": ["sms", "chat"]},
        },
    },
    "Texts": {
        "type": "object",
        "required": ["offers", "conversations"],
        "properties": {
            "offers": {"type": "array", "items": {"$ref": "#/components/schemas/TextOffer"}},
            "conversations": {"type": "array",
                              "items": {"$ref": "#/components/schemas/TextConversation"}},
        },
    },
    "TextReply": {
        "type": "object",
        "required": ["body"],
        "additionalProperties": False,
        "properties": {"body": {"type": "string"}},
    },
    "TextReplyQueued": {
        "type": "object",
        "required": ["seq", "segments"],
        "properties": {"seq": {"type": "integer"}, "segments": {"type": "integer"}},
    },
    "Done": {
        "type": "object",
        "additionalProperties": {"type": "boolean"},
    },
}


def text_paths(ok: Any, error: Any, signed_in: dict[str, Any], changing: dict[str, Any], *,
               security: list[dict[str, list[str]]],
               changing_security: list[dict[str, list[str]]]) -> dict[str, Any]:
    offer = [{"name": "offer_id", "in": "path", "required": True,
              "schema": {"type": "string"}}]
    contact = [{"name": "contact_id", "in": "path", "required": True,
                "schema": {"type": "string"}}]
    missing_offer = error("No such text offer for this peer")
    missing_conversation = error("No such open conversation of this peer")
    return {
        "/api/texts": {"get": {
            "operationId": "listTexts",
            "summary": "The peer's text offers and open conversations (never a number)",
            "security": security,
            "responses": {"200": ok("Offers and conversations", "Texts"), **signed_in},
        }},
        "/api/texts/offers/{offer_id}/accept": {"post": {
            "operationId": "acceptTextOffer",
            "summary": "Take a text offered to the peer",
            "security": changing_security, "parameters": offer,
            "responses": {"200": ok("Accepted", "Done"), **changing, "404": missing_offer,
                          "409": error("Too late: the offer lapsed or the texter left")},
        }},
        "/api/texts/offers/{offer_id}/decline": {"post": {
            "operationId": "declineTextOffer",
            "summary": "Pass a text offer to the next peer",
            "security": changing_security, "parameters": offer,
            "responses": {"200": ok("Declined", "Done"), **changing, "404": missing_offer},
        }},
        "/api/texts/{contact_id}/messages": {"post": {
            "operationId": "replyToText",
            "summary": "Send a reply (at most 1,600 characters), in order, once",
            "security": changing_security, "parameters": contact,
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/TextReply"}}}},
            "responses": {"202": ok("Queued for sending", "TextReplyQueued"), **changing,
                          "404": missing_conversation,
                          "422": error("Longer than 1,600 characters")},
        }},
        "/api/texts/{contact_id}/close": {"post": {
            "operationId": "closeText",
            "summary": "Close the conversation (the texter gets a short goodbye)",
            "security": changing_security, "parameters": contact,
            "responses": {"200": ok("Closed", "Done"), **changing,
                          "404": missing_conversation},
        }},
    }
