"""The OpenAPI description of the chat's server-sent events (docs/protocol.md).

In OpenAPI 3.1 (before 3.2's ``itemSchema``) the schema of a ``text/event-stream``
response describes one event: its ``event`` name, its ``data`` (a JSON document, described
with ``contentMediaType`` and ``contentSchema``) and its ``id`` (``<message_id>:<seq>``,
on events about an answer).
Each event name goes with its own data shape, so a client (and the fuzz test) can check
every event it receives.
"""

from __future__ import annotations

from typing import Any

UUID = {"type": "string", "format": "uuid"}
SEQ = {"type": "integer", "minimum": 1, "description": "1, 2, 3 … per answer."}
EVENT_ID = {
    "type": "string",
    "pattern": "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}:[0-9]+$",
    "description": "`<message_id>:<seq>`: send it back as `Last-Event-ID` to resume.",
}
ANSWER_STATUSES = ["complete", "interrupted", "cancelled", "failed"]


def _data(event_type: str, properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {"type": {"type": "string", "enum": [event_type]}, **properties},
        "required": ["type", *required],
        "additionalProperties": False,
    }


COST_USD = {"type": "string", "pattern": "^[0-9]+\\.[0-9]{6}$"}
COST_BREAKDOWN: dict[str, Any] = {
    "type": "array",
    "description": "What the cost is made of when it is more than the answer's tokens "
    "(an image, web searches, supervision), equal uses summed; empty otherwise.",
    "items": {
        "type": "object",
        "properties": {
            "label": {"type": "string", "example": "Image (1024x1024, medium)"},
            "cost_usd": COST_USD,
        },
        "required": ["label", "cost_usd"],
        "additionalProperties": False,
    },
}
# What an answer used and cost (message.done, and message.blocked at the output stage).
ANSWER_COST: dict[str, Any] = {
    "usage": {
        "type": "object",
        "properties": {
            "input_tokens": {"type": "integer", "minimum": 0},
            "output_tokens": {"type": "integer", "minimum": 0},
        },
        "required": ["input_tokens", "output_tokens"],
        "additionalProperties": False,
    },
    "cost_usd": COST_USD,
    "cost_breakdown": COST_BREAKDOWN,
}

EVENT_DATA: dict[str, dict[str, Any]] = {
    "message.accepted": _data(
        "message.accepted",
        {"client_id": {"type": "string"}, "user_message_id": UUID, "assistant_message_id": UUID},
        ["client_id", "user_message_id", "assistant_message_id"],
    ),
    "delta": _data(
        "delta",
        {"message_id": UUID, "seq": SEQ, "text": {"type": "string"}},
        ["message_id", "seq", "text"],
    ),
    "tool.call": _data(
        "tool.call",
        {
            "message_id": UUID,
            "seq": SEQ,
            "call_id": {"type": "string"},
            "name": {"type": "string"},
            "arguments": {"type": "string", "description": "The arguments, as JSON text."},
        },
        ["message_id", "seq", "call_id", "name", "arguments"],
    ),
    "tool.result": _data(
        "tool.result",
        {
            "message_id": UUID,
            "seq": SEQ,
            "call_id": {"type": "string"},
            "name": {"type": "string"},
            "display": {"type": "object", "description": "What to show of the result."},
            "is_error": {"type": "boolean"},
        },
        ["message_id", "seq", "call_id", "name", "display", "is_error"],
    ),
    "message.done": _data(
        "message.done",
        {
            "message_id": UUID,
            "seq": SEQ,
            "status": {"type": "string", "enum": ANSWER_STATUSES},
            **ANSWER_COST,
        },
        ["message_id", "seq", "status", "usage", "cost_usd"],
    ),
    "message.blocked": _data(
        "message.blocked",
        {
            "message_id": {**UUID, "type": ["string", "null"]},
            "seq": SEQ,
            "stage": {"type": "string", "enum": ["pre", "output"]},
            "category": {"type": "string"},
            "reason": {"type": "string", "description": "A polite refusal to show."},
            **ANSWER_COST,
        },
        ["category", "reason"],
    ),
    "error": _data(
        "error",
        {
            "code": {"type": "string"},
            "message": {"type": "string"},
            "client_id": {"type": "string"},
            "message_id": {**UUID, "type": ["string", "null"]},
            "seq": SEQ,
            "details": {"description": "Extra data about the error (varies by code)."},
        },
        ["code", "message"],
    ),
}


def _event(event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "event": {"type": "string", "enum": [event_type]},
            "data": {
                "type": "string",
                "contentMediaType": "application/json",
                "contentSchema": data,
            },
            "id": EVENT_ID,
        },
        "required": ["event", "data"],
    }


SSE_EVENT_SCHEMA: dict[str, Any] = {
    "description": "One server-sent event: `event: <type>`, `data: <the JSON event>` and, on "
    "events about an answer, `id: <message_id>:<seq>` (docs/protocol.md).",
    "oneOf": [_event(event_type, data) for event_type, data in EVENT_DATA.items()],
}
