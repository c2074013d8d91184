"""Validating client frames of the chat WebSocket protocol (docs/protocol.md)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import orjson
from django.conf import settings
from django.utils.translation import gettext as _

MAX_CLIENT_ID = 64
MAX_ATTACHMENTS = 10


class FrameError(Exception):
    def __init__(self, code: str, message: str, client_id: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.client_id = client_id


@dataclass(frozen=True)
class SendFrame:
    client_id: str
    text: str
    attachments: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class CancelFrame:
    pass


@dataclass(frozen=True)
class ResumeFrame:
    message_id: str
    after_seq: int


Frame = SendFrame | CancelFrame | ResumeFrame


def parse_frame(raw: str | bytes | None) -> Frame:
    """A typed frame, or FrameError with a stable code and a readable message."""
    if raw is None:
        raise FrameError("invalid_frame", _("Frames are JSON text."))
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise FrameError("invalid_json", _("That frame is not valid JSON.")) from None
    if not isinstance(data, dict):
        raise FrameError("invalid_frame", _("A frame is a JSON object with a type."))
    kind = data.get("type")
    if kind == "message.send":
        return _send(data)
    if kind == "generation.cancel":
        return CancelFrame()
    if kind == "stream.resume":
        return _resume(data)
    raise FrameError("unknown_type", _("Unknown frame type: %(type)s.") % {"type": str(kind)[:40]})


def _send(data: dict[str, Any]) -> SendFrame:
    client_id = data.get("client_id")
    if not isinstance(client_id, str) or not client_id or len(client_id) > MAX_CLIENT_ID:
        raise FrameError("invalid_frame", _("message.send needs a client_id (1–64 characters)."))
    text = data.get("text")
    if not isinstance(text, str) or not text.strip():
        raise FrameError("invalid_frame", _("Write a message first."), client_id)
    if len(text) > settings.SPARK_MAX_MESSAGE_CHARS:
        raise FrameError(
            "message_too_long",
            _("Messages can be at most %(max)s characters.")
            % {"max": settings.SPARK_MAX_MESSAGE_CHARS},
            client_id,
        )
    attachments = data.get("attachments", [])
    if (
        not isinstance(attachments, list)
        or len(attachments) > MAX_ATTACHMENTS
        or not all(isinstance(item, dict) for item in attachments)
    ):
        raise FrameError("invalid_frame", _("attachments must be a list of objects."), client_id)
    return SendFrame(client_id=client_id, text=text, attachments=attachments)


def _resume(data: dict[str, Any]) -> ResumeFrame:
    message_id = data.get("message_id")
    after_seq = data.get("after_seq", 0)
    try:
        uuid.UUID(str(message_id))
    except ValueError:
        raise FrameError("invalid_frame", _("stream.resume needs a message_id.")) from None
    if not isinstance(after_seq, int) or isinstance(after_seq, bool) or after_seq < 0:
        raise FrameError("invalid_frame", _("after_seq must be a whole number, 0 or more."))
    return ResumeFrame(message_id=str(message_id), after_seq=after_seq)
