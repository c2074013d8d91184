"""Start-up checks: database connections, worker threads and processes fit together.

A web process runs its ORM calls on ``ASGI_THREADS`` threads, each holding a pooled
connection for one short transaction at a time, plus the per-request threads' short
lookups. A pool smaller than the thread count makes threads queue for connections under
load until the pool's timeout answers 503s: refused (an error). Less than
``SPARK_POOL_HEADROOM`` spare connections, a pool timeout long enough to hang clients, or
every process's pool together exceeding PostgreSQL's ``max_connections``: warned about.
Run by ``manage.py check`` and ``migrate``, and by ``spark.asgi`` when Daphne starts.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

logger = logging.getLogger(__name__)

# PostgreSQL connections kept for what is not a web process: Celery workers and beat,
# migrations, an operator's psql (superuser_reserved_connections is on top).
NON_WEB_CONNECTIONS = 20
LONGEST_POOL_TIMEOUT = 10.0


def _pool() -> dict[str, Any] | None:
    database = settings.DATABASES["default"]
    if not database["ENGINE"].endswith(".postgresql"):  # django_prometheus wraps engines
        return None
    pool = database.get("OPTIONS", {}).get("pool")
    if pool is True:
        return {}
    return pool if isinstance(pool, dict) else None


def capacity_messages(*, query_server: bool = False) -> list[checks.CheckMessage]:
    """What is wrong with the connection budget (``query_server``: ask PostgreSQL for its
    ``max_connections``)."""
    database = settings.DATABASES["default"]
    threads = settings.SPARK_ASGI_THREADS
    messages: list[checks.CheckMessage] = []
    if not database["ENGINE"].endswith(".postgresql"):  # django_prometheus wraps engines
        return messages
    pool = _pool()
    if pool is None:
        if database.get("CONN_MAX_AGE"):
            messages.append(
                checks.Warning(
                    "Persistent database connections (DATABASE_CONN_MAX_AGE) under ASGI: every "
                    "request runs on a thread of its own, whose connection is never reused.",
                    hint="Use DATABASE_POOL=true with DATABASE_CONN_MAX_AGE unset.",
                    id="spark.W101",
                )
            )
        return messages
    max_size = int(pool.get("max_size", pool.get("min_size", 4)))
    if max_size < threads:
        messages.append(
            checks.Error(
                f"DATABASE_POOL_MAX ({max_size}) is smaller than ASGI_THREADS ({threads}): "
                "under load worker threads wait for connections until requests fail.",
                hint=f"Set DATABASE_POOL_MAX to at least {threads + settings.SPARK_POOL_HEADROOM}"
                " or lower ASGI_THREADS (docs/operations.md, Sizing).",
                id="spark.E102",
            )
        )
    elif max_size < threads + settings.SPARK_POOL_HEADROOM:
        messages.append(
            checks.Warning(
                f"DATABASE_POOL_MAX ({max_size}) leaves fewer than "
                f"{settings.SPARK_POOL_HEADROOM} connections beyond ASGI_THREADS ({threads}) "
                "for the requests' own lookups.",
                hint=f"Set DATABASE_POOL_MAX to {threads + settings.SPARK_POOL_HEADROOM}.",
                id="spark.W103",
            )
        )
    timeout = float(pool.get("timeout", 30.0))
    if timeout > LONGEST_POOL_TIMEOUT:
        messages.append(
            checks.Warning(
                f"DATABASE_POOL_TIMEOUT is {timeout:g} s: an overloaded database keeps clients "
                "waiting that long before they are told to retry (503).",
                hint=f"Keep it at {LONGEST_POOL_TIMEOUT:g} s or less (3 s by default).",
                id="spark.W104",
            )
        )
    if query_server:
        budget = settings.SPARK_WEB_PROCESSES * max_size + NON_WEB_CONNECTIONS
        server_max = _server_max_connections()
        if server_max is not None and budget > server_max:
            messages.append(
                checks.Warning(
                    f"{settings.SPARK_WEB_PROCESSES} web processes x {max_size} pooled "
                    f"connections + {NON_WEB_CONNECTIONS} for workers is {budget}, more than "
                    f"PostgreSQL's max_connections ({server_max}).",
                    hint="Lower DATABASE_POOL_MAX or SPARK_WEB_PROCESSES, raise "
                    "max_connections, or put PgBouncer in front of PostgreSQL.",
                    id="spark.W105",
                )
            )
    return messages


def _server_max_connections() -> int | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SHOW max_connections")
            row = cursor.fetchone()
    except Exception:  # an unreachable server is /readyz's business, not this check's
        logger.warning("could not read PostgreSQL's max_connections", exc_info=True)
        return None
    return int(row[0]) if row else None


@checks.register()
def check_connection_budget(
    app_configs: Any = None, databases: Any = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """PostgreSQL is asked only when the command names databases (``migrate``,
    ``check --database default``)."""
    return capacity_messages(query_server=bool(databases))


def enforce_at_startup() -> None:
    """Daphne runs no system checks: log the warnings, refuse to start on an error."""
    messages = capacity_messages(query_server=False)
    for message in messages:
        if message.is_serious():
            raise ImproperlyConfigured(f"{message.msg} {message.hint} ({message.id})")
        logger.warning("%s %s (%s)", message.msg, message.hint, message.id)
