"""Counting the SQL of work that runs on worker threads (a turn's ``db()`` calls).

pytest-django's ``django_assert_max_num_queries`` captures the queries of the test
thread's connection only; a turn runs its ORM calls on the event loop's executor threads,
each with a connection of its own. ``counted_queries`` gives the loop a fresh executor,
so every connection its threads open is new, and wraps each one as it is created
(``connection_created``): every statement from any of them is recorded, in order.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any

from django.db import connections
from django.db.backends.signals import connection_created


class QueryLog:
    def __init__(self) -> None:
        self.statements: list[str] = []
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self.statements)

    def record(self, sql: str) -> None:
        with self._lock:
            self.statements.append(sql)

    def wrapper(self) -> Callable[..., Any]:
        def count(execute: Callable[..., Any], sql: str, *args: Any) -> Any:
            self.record(sql)
            return execute(sql, *args)

        return count


@asynccontextmanager
async def counted_queries(threads: int = 4) -> AsyncIterator[QueryLog]:
    log = QueryLog()
    wrapper = log.wrapper()

    def wrap(sender: Any, connection: Any, **kwargs: Any) -> None:
        if wrapper not in connection.execute_wrappers:
            connection.execute_wrappers.append(wrapper)

    def close_thread_connections() -> None:
        connections.close_all()

    loop = asyncio.get_running_loop()
    # The loop outlives the test (pytest-asyncio shares it): its own executor comes back
    # afterwards, or every later run_in_executor(None) of this worker would meet a shut-down
    # executor (a later turn's guard, failing closed, blocked messages without asking it).
    previous = loop._default_executor  # type: ignore[attr-defined]
    executor = ThreadPoolExecutor(threads, thread_name_prefix="counted-db")
    connection_created.connect(wrap, weak=False, dispatch_uid=f"querycount-{id(log)}")
    loop.set_default_executor(executor)
    try:
        yield log
    finally:
        connection_created.disconnect(dispatch_uid=f"querycount-{id(log)}")
        for _ in range(threads):  # each thread's persistent (SQLite) connection
            await loop.run_in_executor(executor, close_thread_connections)
        loop._default_executor = previous  # type: ignore[attr-defined]
        executor.shutdown(wait=True)
