"""Replay buffers: the events of each streamed message, kept so a client can resume.

A client that reconnects sends ``stream.resume {message_id, after_seq}`` and receives
the buffered events with a larger ``seq``, then the live ones. Redis lists in
production (shared by every web instance), a process-local dict in the embedded default.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections import OrderedDict
from typing import Any, Protocol

import orjson
from django.conf import settings


class ReplayBuffer(Protocol):
    async def append(self, message_id: str, events: list[dict[str, Any]]) -> None: ...

    async def read_after(self, message_id: str, after_seq: int) -> list[dict[str, Any]]: ...

    async def close(self, message_id: str) -> None:
        """The stream is over: keep the events a while longer, then forget them."""


class MemoryReplayBuffer:
    """For one process (the embedded default). Bounded in messages and age."""

    def __init__(self, *, ttl: float, max_messages: int = 5000) -> None:
        self.ttl = ttl
        self.max_messages = max_messages
        self._events: OrderedDict[str, tuple[float, list[dict[str, Any]]]] = OrderedDict()

    def _evict(self) -> None:
        now = time.monotonic()
        while self._events:
            key, (expires, _events) = next(iter(self._events.items()))
            if expires > now and len(self._events) <= self.max_messages:
                break
            self._events.pop(key)

    async def append(self, message_id: str, events: list[dict[str, Any]]) -> None:
        _expires, stored = self._events.pop(message_id, (0.0, []))
        stored.extend(events)
        self._events[message_id] = (time.monotonic() + self.ttl, stored)
        self._evict()

    async def read_after(self, message_id: str, after_seq: int) -> list[dict[str, Any]]:
        _expires, stored = self._events.get(message_id, (0.0, []))
        return [event for event in stored if event.get("seq", 0) > after_seq]

    async def close(self, message_id: str) -> None:
        if message_id in self._events:
            _expires, stored = self._events[message_id]
            self._events[message_id] = (time.monotonic() + self.ttl, stored)


class RedisReplayBuffer:
    """A Redis list per message; every web instance reads the same buffer."""

    def __init__(self, url: str, *, ttl: int, prefix: str = "spark:replay:") -> None:
        import redis.asyncio as redis_asyncio

        self.ttl = int(ttl)
        self.prefix = prefix
        self.redis = redis_asyncio.Redis.from_url(url, socket_timeout=5, max_connections=200)

    async def append(self, message_id: str, events: list[dict[str, Any]]) -> None:
        key = self.prefix + message_id
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.rpush(key, *[orjson.dumps(event) for event in events])
            pipe.expire(key, self.ttl)
            await pipe.execute()

    async def read_after(self, message_id: str, after_seq: int) -> list[dict[str, Any]]:
        raw: list[bytes] = await self.redis.lrange(self.prefix + message_id, 0, -1)  # type: ignore[misc]
        events = [orjson.loads(item) for item in raw]
        return [event for event in events if event.get("seq", 0) > after_seq]

    async def close(self, message_id: str) -> None:
        await self.redis.expire(self.prefix + message_id, self.ttl)


_redis_buffers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, RedisReplayBuffer] = (
    weakref.WeakKeyDictionary()
)
_memory_buffer: MemoryReplayBuffer | None = None


def get_replay_buffer() -> ReplayBuffer:
    """The buffer for the running event loop (Redis clients are bound to their loop)."""
    global _memory_buffer
    ttl = settings.SPARK_REPLAY_TTL_SECONDS
    url = settings.SPARK_REPLAY_REDIS_URL
    if not url:
        if _memory_buffer is None:
            _memory_buffer = MemoryReplayBuffer(ttl=ttl)
        return _memory_buffer
    loop = asyncio.get_running_loop()
    buffer = _redis_buffers.get(loop)
    if buffer is None:
        buffer = _redis_buffers[loop] = RedisReplayBuffer(url, ttl=ttl)
    return buffer
