"""Database: SQLite file by default, PostgreSQL (psycopg 3) from DATABASE_URL.

Connections, threads and processes are sized together (docs/operations.md, "Sizing"):
a web process runs its ORM calls on ``ASGI_THREADS`` worker threads, each holding a
connection only for one short transaction (streams hold none while they stream), so its
pool needs those threads plus a few for the request threads' short lookups; every
process of every instance opens its own pool. ``spark.common.checks`` warns at start-up
(and refuses, for a pool smaller than the thread count) when they do not fit.
"""

import os

from spark.settings.components import BASE_DIR, env

# The worker threads of a web process: Daphne sizes the loop's executor from ASGI_THREADS;
# without it asyncio's default applies (the CPU count + 4, at most 32).
SPARK_ASGI_THREADS = env.int("ASGI_THREADS", default=min(32, (os.cpu_count() or 1) + 4))
# Web processes across all instances that share this database (docker-compose's
# WEB_PROCESSES per instance times the instances), for the connection-budget check.
SPARK_WEB_PROCESSES = env.int("SPARK_WEB_PROCESSES", default=1)
# Connections a pool keeps beyond its worker threads: the per-request threads' short
# lookups (session, API key, tenant) and the WebSocket middleware's thread.
SPARK_POOL_HEADROOM = 4

DATABASE_URL = env.str("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")

DATABASES = {"default": env.db_url_config(DATABASE_URL)}

if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    if env.bool("DATABASE_POOL", default=False):
        # psycopg's pool; Django forbids combining it with persistent connections.
        DATABASES["default"]["OPTIONS"] = {
            "pool": {
                "min_size": env.int("DATABASE_POOL_MIN", default=2),
                "max_size": env.int(
                    "DATABASE_POOL_MAX", default=SPARK_ASGI_THREADS + SPARK_POOL_HEADROOM
                ),
                # Seconds a request waits for a free connection before it is answered
                # 503 with Retry-After (never a 500 after psycopg's default 30 s).
                "timeout": env.float("DATABASE_POOL_TIMEOUT", default=3.0),
            }
        }
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        # A health check is a query on every checkout; pooled connections are recycled
        # by the pool itself (max_lifetime, max_idle) instead.
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
    else:
        DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=0)
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
else:
    # SQLite keeps each worker thread's connection: opening the file again for every
    # database trip of the send pipeline costs ~0.7 ms a trip and buys nothing (there is
    # no server to hand connections back to).
    DATABASES["default"]["CONN_MAX_AGE"] = None
    # SQLite under an ASGI server: wait for the write lock instead of failing at once.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update({"timeout": 20, "transaction_mode": "IMMEDIATE"})

DATABASE_IS_POSTGRES = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
