"""Calling the ORM from async code (the send pipeline, consumers), and streaming without
holding a database connection."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

from asgiref.sync import sync_to_async
from channels.db import DatabaseSyncToAsync
from django.db import connections

P = ParamSpec("P")
R = TypeVar("R")


def db(func: Callable[P, R]) -> Callable[P, Coroutine[Any, Any, R]]:
    """Run ``func`` in a worker thread with Django's connection housekeeping.

    Not thread-sensitive: concurrent streams write in parallel instead of queueing on
    one thread. The caller's context (the tenant scope) goes along to the thread. The
    connection goes back to the pool when ``func`` returns.
    """
    return DatabaseSyncToAsync(func, thread_sensitive=False)  # type: ignore[return-value]


def on_request_thread(func: Callable[P, R]) -> Callable[P, Coroutine[Any, Any, R]]:
    """Run ``func`` on the HTTP request's own thread, with the connection its middleware
    already uses.

    An async view's own lookups go here, not through ``db``: a request that keeps its
    thread's connection while it waits for another from the pool holds two, and enough
    such requests at once take the whole pool and wait for each other until the pool
    times out.
    """
    return sync_to_async(func, thread_sensitive=True)


def _close_connections() -> None:
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close()  # pooled: handed back to the pool


async def release_request_connections() -> None:
    """Hand back the connections of this request's own thread.

    Under ASGI, a request's synchronous work (its middleware, ``sync_to_async`` calls)
    runs on a thread of its own, whose connection Django closes only when the response
    ends: after the last byte of a stream. Called before a long wait (a stream, its first
    token), so a stream holds no connection while it streams.
    """
    await sync_to_async(_close_connections, thread_sensitive=True)()


async def streamed_without_connection(body: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """``body``, after handing back what the request's middleware opened on its way out."""
    await release_request_connections()
    async for chunk in body:
        yield chunk
