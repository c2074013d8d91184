"""Calling the ORM from async code (the send pipeline, consumers)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

from channels.db import DatabaseSyncToAsync

P = ParamSpec("P")
R = TypeVar("R")


def db(func: Callable[P, R]) -> Callable[P, Coroutine[Any, Any, R]]:
    """Run ``func`` in a worker thread with Django's connection housekeeping.

    Not thread-sensitive: concurrent streams write in parallel instead of queueing on
    one thread. The caller's context (the tenant scope) goes along to the thread.
    """
    return DatabaseSyncToAsync(func, thread_sensitive=False)  # type: ignore[return-value]
