"""Server-sent events for chat: the wire protocol's events over HTTP, with resume.

Each event is ``event: <type>`` and ``data: <json>``; events about an answer also carry
``id: <message_id>:<seq>``, so a client (or ``EventSource``, through ``Last-Event-ID``)
resumes after the last one it saw. ``AnswerFeed`` listens to a conversation's channel
group (subscribed before the turn starts, so nothing is missed) and yields the events of
the answers it follows, each once and in seq order, filling gaps from the replay buffer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import orjson
from channels.layers import get_channel_layer

from chat.events import TERMINAL_EVENTS
from spark.realtime.groups import conversation_group
from spark.realtime.replay import get_replay_buffer

logger = logging.getLogger(__name__)

KEEPALIVE_SECONDS = 15.0
RETRY_MS = 2000

SSE_HEADERS = {
    "Cache-Control": "no-cache, no-transform",
    "X-Accel-Buffering": "no",  # nginx: do not buffer the stream
}


def sse_frame(event: dict[str, Any]) -> bytes:
    """One event in the text/event-stream format."""
    lines = [f"event: {event['type']}"]
    if event.get("message_id") and isinstance(event.get("seq"), int):
        lines.append(f"id: {event['message_id']}:{event['seq']}")
    lines.append("data: " + orjson.dumps(event).decode())
    return ("\n".join(lines) + "\n\n").encode()


def sse_comment(text: str = "") -> bytes:
    return f": {text}\n\n".encode()


def sse_retry() -> bytes:
    return f"retry: {RETRY_MS}\n\n".encode()


def parse_last_event_id(value: str | None) -> tuple[str, int] | None:
    """``<message_id>:<seq>`` from a Last-Event-ID header, or None."""
    if not value or ":" not in value:
        return None
    message_id, _sep, seq = value.strip().rpartition(":")
    if not message_id or not seq.isdigit():
        return None
    return message_id, int(seq)


def is_terminal(event: dict[str, Any]) -> bool:
    return event.get("type") in TERMINAL_EVENTS


class AnswerFeed:
    """One HTTP response's subscription to a conversation's events."""

    def __init__(self, conversation_uuid: object) -> None:
        self.layer = get_channel_layer()
        self.group = conversation_group(conversation_uuid)
        self.channel = ""
        self.following: dict[str, int] = {}  # message id -> last seq yielded
        self.client_id: str | None = None  # follow the answer accepted for this client id

    async def subscribe(self) -> None:
        self.channel = await self.layer.new_channel()
        await self.layer.group_add(self.group, self.channel)

    async def unsubscribe(self) -> None:
        if self.channel:
            try:
                await self.layer.group_discard(self.group, self.channel)
            except Exception:  # the layer expires the membership; the answer is unaffected
                logger.exception(
                    "SSE channel %s could not leave group %s", self.channel, self.group
                )
            self.channel = ""

    async def receive(self, timeout: float) -> list[dict[str, Any]] | None:
        """The next batch of published events, or None after ``timeout`` seconds."""
        try:
            message = await asyncio.wait_for(self.layer.receive(self.channel), timeout)
        except TimeoutError:
            return None
        if message.get("type") != "chat.events":
            return []
        return list(message.get("events", []))

    async def select(
        self, frames: list[dict[str, Any]], *, replaying: bool = False
    ) -> list[dict[str, Any]]:
        """The frames this response should send: its answers' events, once, in order."""
        out: list[dict[str, Any]] = []
        for frame in frames:
            kind = frame.get("type")
            if kind == "message.accepted":
                if self.client_id is None or frame.get("client_id") != self.client_id:
                    continue
                self.following.setdefault(frame["assistant_message_id"], 0)
                out.append(frame)
                continue
            message_id, seq = frame.get("message_id"), frame.get("seq")
            if message_id and isinstance(seq, int):
                last = self.following.get(message_id)
                if last is None or seq <= last:
                    continue
                if seq > last + 1 and not replaying:
                    out.extend(await self._gap(message_id, last, seq))
                self.following[message_id] = seq
                out.append(frame)
            elif (
                kind == "error"
                and self.client_id is not None
                and frame.get("client_id") == self.client_id
                and not message_id
            ):
                out.append(frame)  # a refusal before the answer existed names the client id
        return out

    async def _gap(self, message_id: str, last: int, upto: int) -> list[dict[str, Any]]:
        missing = []
        for frame in await get_replay_buffer().read_after(message_id, last):
            if frame["seq"] >= upto:
                break
            missing.append(frame)
            self.following[message_id] = frame["seq"]
        return missing

    async def replay(self, message_id: str, after_seq: int) -> list[dict[str, Any]]:
        """Buffered events of ``message_id`` after ``after_seq``; then it is followed live."""
        self.following[message_id] = after_seq
        return await self.select(
            await get_replay_buffer().read_after(message_id, after_seq), replaying=True
        )


async def stream_frames(
    feed: AnswerFeed, first: list[dict[str, Any]], *, until_idle: Any = None
) -> AsyncIterator[bytes]:
    """SSE bytes: ``first``, then live events, until the followed answer's terminal event.

    ``until_idle`` (an async callable) is consulted at each keep-alive: it returns extra
    frames to send and whether to stop (an answer whose process died never ends by itself).
    """
    try:
        yield sse_retry()
        for frame in first:
            yield sse_frame(frame)
            if _ends(feed, frame):
                return
        while True:
            frames = await feed.receive(KEEPALIVE_SECONDS)
            if frames is None:
                if until_idle is not None:
                    extra, stop = await until_idle()
                    for frame in extra:
                        yield sse_frame(frame)
                    if stop:
                        return
                yield sse_comment("keep-alive")
                continue
            for frame in await feed.select(frames):
                yield sse_frame(frame)
                if _ends(feed, frame):
                    return
    finally:
        await feed.unsubscribe()


def _ends(feed: AnswerFeed, frame: dict[str, Any]) -> bool:
    if is_terminal(frame):
        return True
    # A refusal before any answer was accepted: nothing more will come.
    return frame.get("type") == "error" and not frame.get("message_id") and not feed.following
