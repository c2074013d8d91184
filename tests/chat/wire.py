"""Helpers to drive the chat WebSocket in tests: send frames, read until an event."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from channels.testing import WebsocketCommunicator

Frame = dict[str, Any]


async def send(communicator: WebsocketCommunicator, frame: Frame | str) -> None:
    await communicator.send_to(text_data=frame if isinstance(frame, str) else json.dumps(frame))


async def receive(communicator: WebsocketCommunicator, timeout: float = 30) -> Frame:
    return json.loads(await communicator.receive_from(timeout=timeout))  # type: ignore[no-any-return]


async def receive_until(
    communicator: WebsocketCommunicator, done: Callable[[Frame], bool], timeout: float = 30
) -> list[Frame]:
    """Frames up to and including the first one for which ``done`` is true."""
    frames = []
    while True:
        frame = await receive(communicator, timeout)
        frames.append(frame)
        if done(frame):
            return frames


def is_terminal(frame: Frame) -> bool:
    return frame["type"] in ("message.done", "message.blocked")


def text_of(frames: list[Frame], message_id: str) -> str:
    return "".join(
        f["text"] for f in frames if f["type"] == "delta" and f["message_id"] == message_id
    )


def send_frame(text: str = "Hello there", client_id: str = "c1") -> Frame:
    return {"type": "message.send", "client_id": client_id, "text": text}
