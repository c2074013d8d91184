"""Publishing a turn's events: to the conversation's channel group and its replay buffer.

Deltas are coalesced: the pump gathers the text that arrives within
``SPARK_DELTA_FLUSH_MS`` into one ``delta`` frame, so a fast model costs a frame every
few milliseconds rather than one per token, and the provider is read without waiting
for the channel layer. An answer's first words are sent at once. Every event about a
message carries a ``seq`` (1, 2, 3 …) so a client that reconnects can resume after the
last one it saw.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings

from spark.realtime.groups import conversation_group
from spark.realtime.replay import get_replay_buffer

PersistCallback = Callable[[str, str, int], Awaitable[None]]  # (message id, content, last seq)

TERMINAL_EVENTS = frozenset({"message.done", "message.blocked"})
_FLUSH = object()
_STOP = object()
# The sink of the turn whose work is running (set in the turn's task; asgiref carries it
# into the database threads, and so into on-commit callbacks and eager tasks of the turn).
_running_turn: ContextVar[TurnEvents | None] = ContextVar("spark_running_turn", default=None)


@dataclass
class _MessageState:
    seq: int = 0
    content: str = ""
    finished: bool = False  # its final state is written: no more progress saves
    persisted_at: float = field(default_factory=time.monotonic)


class TurnEvents:
    """The event sink of one turn (one conversation, one or more assistant messages)."""

    def __init__(
        self, conversation_uuid: object, *, persist: PersistCallback | None = None
    ) -> None:
        self.group = conversation_group(conversation_uuid)
        self.layer = get_channel_layer()
        self.buffer = get_replay_buffer()
        self.persist = persist
        self.flush_interval = settings.SPARK_DELTA_FLUSH_MS / 1000
        self.persist_interval = settings.SPARK_STREAM_PERSIST_SECONDS
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._messages: dict[str, _MessageState] = {}
        self._pump: asyncio.Task[None] | None = None
        self._after: list[dict[str, Any]] | None = []  # notices this turn caused; None: released
        self._after_lock = threading.Lock()
        self._running: Token[TurnEvents | None] | None = None

    # --- producer side --------------------------------------------------------------

    def start(self) -> None:
        """Start the pump; the calling task's work counts as this turn's from now on."""
        if self._pump is None:
            self._pump = asyncio.get_running_loop().create_task(self._run())
        if self._running is None:
            self._running = _running_turn.set(self)

    def emit_after_turn(self, event: dict[str, Any]) -> bool:
        """Hold a conversation notice the turn itself caused (a lock) until its last frame,
        so a client sees the turn end, then the notice (from any thread). False: the turn
        has released its notices already; the caller sends it itself."""
        with self._after_lock:
            if self._after is None:
                return False
            self._after.append(event)
            return True

    def release_after_turn(self) -> None:
        """Queue the held notices, behind everything the turn emitted."""
        with self._after_lock:
            held, self._after = self._after or [], None
        for event in held:
            self.emit(event)

    def delta(self, message_id: str, text: str) -> None:
        """Queue streamed text for ``message_id`` (published coalesced)."""
        if text:
            self._queue.put_nowait((message_id, text))

    def emit(self, event: dict[str, Any]) -> None:
        """Queue an event; events about a message (``message_id``) get the next seq."""
        self._queue.put_nowait(event)

    async def drain(self) -> None:
        """Wait until everything queued so far is published."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((_FLUSH, done))
        await done

    async def close(self) -> None:
        if self._running is not None:
            with contextlib.suppress(ValueError):  # closed from another context
                _running_turn.reset(self._running)
            self._running = None
        if self._pump is None:
            return
        self._queue.put_nowait(_STOP)
        with contextlib.suppress(asyncio.CancelledError):
            await self._pump
        self._pump = None

    def content_of(self, message_id: str) -> str:
        state = self._messages.get(message_id)
        return state.content if state else ""

    def last_seq(self, message_id: str) -> int:
        state = self._messages.get(message_id)
        return state.seq if state else 0

    # --- the pump ------------------------------------------------------------------------

    def _started(self, message_id: str) -> bool:
        state = self._messages.get(message_id)
        return state is not None and state.seq > 0

    def _state(self, message_id: str) -> _MessageState:
        state = self._messages.get(message_id)
        if state is None:
            state = self._messages[message_id] = _MessageState()
        return state

    async def _run(self) -> None:
        pending: dict[str, list[str]] = {}
        order: list[Any] = []  # published in arrival order; deltas grouped per message
        while True:
            item = await self._queue.get()
            deadline = time.monotonic() + self.flush_interval
            if isinstance(item, tuple) and item[0] is not _FLUSH and not self._started(item[0]):
                deadline = 0.0  # an answer's first words go out at once (time to first token)
            stop = False
            waiters: list[asyncio.Future[None]] = []
            while True:
                if item is _STOP:
                    stop = True
                elif isinstance(item, tuple) and item[0] is _FLUSH:
                    waiters.append(item[1])
                elif isinstance(item, tuple):
                    message_id, text = item
                    if message_id not in pending:
                        pending[message_id] = []
                        order.append(message_id)
                    pending[message_id].append(text)
                else:
                    order.append(item)
                if stop or waiters:
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    item = await asyncio.wait_for(self._queue.get(), remaining)
                except TimeoutError:
                    break
            await self._publish(order, pending)
            order, pending = [], {}
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)
            if stop:
                return

    async def _publish(self, order: list[Any], pending: dict[str, list[str]]) -> None:
        frames: list[dict[str, Any]] = []
        for entry in order:
            if isinstance(entry, str):
                state = self._state(entry)
                text = "".join(pending[entry])
                state.seq += 1
                state.content += text
                frames.append(
                    {"type": "delta", "message_id": entry, "seq": state.seq, "text": text}
                )
            else:
                event = dict(entry)
                if event.get("message_id") and "seq" not in event:
                    state = self._state(event["message_id"])
                    state.seq += 1
                    event["seq"] = state.seq
                    if event["type"] in TERMINAL_EVENTS:
                        state.finished = True
                frames.append(event)
        if not frames:
            return
        by_message: dict[str, list[dict[str, Any]]] = {}
        for frame in frames:
            if "seq" in frame:
                by_message.setdefault(frame["message_id"], []).append(frame)
        for message_id, message_frames in by_message.items():
            await self.buffer.append(message_id, message_frames)
        await self.layer.group_send(self.group, {"type": "chat.events", "events": frames})
        await self._maybe_persist(by_message)

    async def _maybe_persist(self, by_message: dict[str, list[dict[str, Any]]]) -> None:
        if self.persist is None:
            return
        now = time.monotonic()
        for message_id in by_message:
            state = self._messages[message_id]
            if not state.finished and now - state.persisted_at >= self.persist_interval:
                state.persisted_at = now
                await self.persist(message_id, state.content, state.seq)


def conversation_notice(conversation_uuid: object, event: dict[str, Any]) -> None:
    """Tell every socket on the conversation (``event`` has no ``message_id``). Sent by the
    conversation's own running turn, it follows that turn's frames; otherwise at once."""
    turn = _running_turn.get()
    group = conversation_group(conversation_uuid)
    if turn is not None and turn.group == group and turn.emit_after_turn(event):
        return
    async_to_sync(get_channel_layer().group_send)(group, {"type": "chat.events", "events": [event]})
