"""Parallel test workers share one Redis: none of them hears another's channel-layer events.

(Issue 11, part 6: a staff socket, which listens to every tenant's watchdog events, got
another worker's ``block`` event: Redis pub/sub ignores the database number, so a
database per worker did not keep the channel layers apart.)
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from channels_redis.pubsub import RedisPubSubChannelLayer
from django.conf import settings

from spark.realtime.replay import MemoryReplayBuffer, RedisReplayBuffer, get_replay_buffer
from spark.settings.test import worker_redis
from watchdog.realtime import ADMIN_GROUP


def _this_worker() -> int:
    return int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or "0")


def test_each_test_worker_has_its_own_redis_database_and_channel_prefix() -> None:
    offset = 7
    workers = [worker_redis("redis://127.0.0.1:6379/0", worker=n, offset=offset) for n in range(3)]

    assert workers == [
        ("redis://127.0.0.1:6379/7", "spark-test-7"),
        ("redis://127.0.0.1:6379/8", "spark-test-8"),
        ("redis://127.0.0.1:6379/9", "spark-test-9"),
    ]


MARKERS = {"this worker's", "its own"}


async def _next_marker(layer: RedisPubSubChannelLayer, channel: str) -> str:
    """The next of this test's two events on ``channel`` (anything else is skipped)."""
    while True:
        message = await asyncio.wait_for(layer.receive(channel), 5)
        if message.get("event") in MARKERS:
            return str(message["event"])


async def test_a_test_worker_does_not_hear_another_workers_group_events() -> None:
    layer: dict[str, Any] = settings.CHANNEL_LAYERS["default"]
    redis_url = os.environ.get("REDIS_URL", "")
    if not redis_url:
        # In-memory layers live in their worker's process: nothing to share.
        assert layer["BACKEND"] == "channels.layers.InMemoryChannelLayer"
        return
    config = layer["CONFIG"]
    offset = int(os.environ.get("SPARK_TEST_REDIS_DB_OFFSET", "1"))
    other_url, other_prefix = worker_redis(redis_url, worker=_this_worker() + 5, offset=offset)
    ours = RedisPubSubChannelLayer(**config)
    other_hosts = [{**config["hosts"][0], "address": other_url}]
    theirs = RedisPubSubChannelLayer(**{**config, "hosts": other_hosts, "prefix": other_prefix})
    try:
        # Given another worker's staff socket, listening to the admin group.
        channel = await theirs.new_channel()
        await theirs.group_add(ADMIN_GROUP, channel)
        await theirs.group_send(ADMIN_GROUP, {"type": "watchdog.event", "event": "ready"})
        assert (await asyncio.wait_for(theirs.receive(channel), 5))["event"] == "ready"

        # When this worker publishes an event, then the other worker one of its own,
        await ours.group_send(ADMIN_GROUP, {"type": "watchdog.event", "event": "this worker's"})
        await theirs.group_send(ADMIN_GROUP, {"type": "watchdog.event", "event": "its own"})

        # then the other worker's socket gets its own event next, never this worker's.
        assert await _next_marker(theirs, channel) == "its own"
    finally:
        await ours.flush()
        await theirs.flush()


async def test_a_test_workers_resumable_streams_live_in_its_own_redis_database() -> None:
    # (Replay buffers on the shared base database were lost when a worker whose own
    # database was that one cleared its cache: a resumed answer missed its first frames.)
    buffer = get_replay_buffer()
    redis_url = os.environ.get("REDIS_URL", "")
    if not redis_url:
        assert isinstance(buffer, MemoryReplayBuffer)  # in-process: nothing to share
        return
    offset = int(os.environ.get("SPARK_TEST_REDIS_DB_OFFSET", "1"))
    ours, _prefix = worker_redis(redis_url, worker=_this_worker(), offset=offset)
    assert isinstance(buffer, RedisReplayBuffer)
    database = buffer.redis.connection_pool.connection_kwargs["db"]
    assert f"/{database}" == ours[ours.rindex("/") :]
    assert settings.CACHES["default"]["LOCATION"] == ours
