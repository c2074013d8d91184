"""The chat WebSocket: ``/ws/chat/<conversation_uuid>/`` (protocol in docs/protocol.md).

Thin: authenticates, joins the conversation's group, validates frames and hands them to
the runner; events published by a turn reach every socket watching the conversation.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import orjson
from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.http import Http404

from chat import selectors
from chat.frames import CancelFrame, FrameError, ResumeFrame, SendFrame, parse_frame
from chat.models import Conversation, Message
from chat.pipeline import Turn
from chat.runner import generation_cancel, turn_start
from chat.streams import TERMINAL
from spark.common.asyncdb import db
from spark.common.net import client_ip_from_scope
from spark.realtime.groups import conversation_group
from spark.realtime.replay import get_replay_buffer
from spark.tenancy.asgi import TenantConsumerMixin

CLOSE_UNAUTHENTICATED = 4401
CLOSE_NOT_FOUND = 4404


class ChatConsumer(TenantConsumerMixin, AsyncWebsocketConsumer):
    conversation: Conversation
    group: str

    async def connect(self) -> None:
        await self.accept()
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        try:
            with self.tenant_scope():
                self.conversation = await db(selectors.conversation_get_for_user)(
                    user=user, uuid=self.scope["url_route"]["kwargs"]["conversation_uuid"]
                )
        except Http404:
            await self.close(code=CLOSE_NOT_FOUND)
            return
        # Messages this socket follows, with the last seq it sent for each.
        self.following: dict[str, int] = {}
        self.finished: set[str] = set()
        self.heard_at: dict[str, float] = {}
        self.sending = asyncio.Lock()
        self.group = conversation_group(self.conversation.uuid)
        await self.channel_layer.group_add(self.group, self.channel_name)
        self.catch_up_task = asyncio.ensure_future(self.catch_up())

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Channels' dispatch, without its database housekeeping before every message.

        Channels closes stale database connections before each handler, on the one
        thread-sensitive worker thread: with every streamed frame of every socket going
        through it, that thread becomes the bottleneck. This consumer's ORM calls go
        through ``spark.common.asyncdb.db``, which does that housekeeping itself.
        """
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def disconnect(self, code: int) -> None:
        task = getattr(self, "catch_up_task", None)
        if task is not None:
            task.cancel()
        if getattr(self, "group", None):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def send_frame(self, frame: dict[str, Any]) -> None:
        await self.send(text_data=orjson.dumps(frame).decode())

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if not getattr(self, "group", None):
            return
        try:
            frame = parse_frame(text_data if text_data is not None else bytes_data)
        except FrameError as error:
            body = {"type": "error", "code": error.code, "message": error.message}
            if error.client_id:
                body["client_id"] = error.client_id
            await self.send_frame(body)
            return
        if isinstance(frame, SendFrame):
            await self.start_turn(frame)
        elif isinstance(frame, CancelFrame):
            await generation_cancel(conversation_uuid=self.conversation.uuid)
        elif isinstance(frame, ResumeFrame):
            await self.resume(frame)

    async def start_turn(self, frame: SendFrame) -> None:
        turn = Turn(
            tenant=self.tenant,
            user=self.scope["user"],
            conversation=self.conversation,
            channel="websocket",
            text=frame.text,
            client_id=frame.client_id,
            attachments=frame.attachments,
            client_ip=client_ip_from_scope(self.scope),
        )
        with self.tenant_scope():
            turn_start(turn)

    async def resume(self, frame: ResumeFrame) -> None:
        try:
            with self.tenant_scope():
                message = await db(selectors.message_get_in_conversation)(
                    conversation=self.conversation, uuid=frame.message_id
                )
        except Http404:
            await self.send_frame(
                {
                    "type": "error",
                    "code": "not_found",
                    "message": "No such message in this conversation.",
                    "message_id": frame.message_id,
                }
            )
            return
        message_id = str(message.uuid)
        events = await get_replay_buffer().read_after(message_id, frame.after_seq)
        if not events and message.status != Message.Status.STREAMING:
            if message.last_seq > frame.after_seq:
                await self.send_frame(
                    {
                        "type": "error",
                        "code": "resume_expired",
                        "message": "Reload the conversation to see this answer.",
                        "message_id": message_id,
                    }
                )
            return
        self.following[message_id] = frame.after_seq
        await self.forward(events, replaying=True)

    async def forward(self, frames: list[dict[str, Any]], *, replaying: bool = False) -> None:
        """Send events in seq order, each once, for the messages this socket follows.

        A socket follows a message it saw accepted, or one it asked to resume; live events
        of other messages wait in the replay buffer until the client resumes them.
        """
        async with self.sending:
            await self._forward(frames, replaying=replaying)

    async def _forward(self, frames: list[dict[str, Any]], *, replaying: bool) -> None:
        for frame in frames:
            if frame["type"] == "message.accepted":
                self.following.setdefault(frame["assistant_message_id"], 0)
            message_id = frame.get("message_id")
            seq = frame.get("seq")
            if message_id and isinstance(seq, int):
                last = self.following.get(message_id)
                if last is None or seq <= last:
                    continue
                if seq > last + 1 and not replaying:
                    await self.fill_gap(message_id, last, seq)
                self.following[message_id] = seq
                self.heard_at[message_id] = time.monotonic()
                if frame["type"] in TERMINAL:
                    self.finished.add(message_id)
            await self.send_frame(frame)

    async def fill_gap(self, message_id: str, last: int, upto: int) -> None:
        """Live events skipped ahead (a resume raced with them): send the missing ones."""
        for frame in await get_replay_buffer().read_after(message_id, last):
            if frame["seq"] >= upto:
                break
            self.following[message_id] = frame["seq"]
            await self.send_frame(frame)

    async def catch_up(self) -> None:
        """Fetch from the replay buffer what a followed answer should have sent by now.

        The channel layer may drop a message (channels_redis can, when a receiver is
        cancelled mid-read); an answer that falls silent is completed from its buffer.
        """
        interval = settings.SPARK_CATCH_UP_SECONDS
        while True:
            await asyncio.sleep(interval)
            now = time.monotonic()
            for message_id, last in list(self.following.items()):
                if message_id in self.finished or now - self.heard_at.get(message_id, 0) < interval:
                    continue
                missing = await get_replay_buffer().read_after(message_id, last)
                if missing:
                    await self.forward(missing, replaying=True)

    async def chat_events(self, event: dict[str, Any]) -> None:
        """Events published by a turn (channel-layer type ``chat.events``)."""
        await self.forward(event["events"])
