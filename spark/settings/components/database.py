"""Database: SQLite file by default, PostgreSQL (psycopg 3) from DATABASE_URL."""

from spark.settings.components import BASE_DIR, env

DATABASE_URL = env.str("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")

DATABASES = {"default": env.db_url_config(DATABASE_URL)}

if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    if env.bool("DATABASE_POOL", default=False):
        # psycopg's pool; Django forbids combining it with persistent connections.
        DATABASES["default"]["OPTIONS"] = {
            "pool": {
                "min_size": env.int("DATABASE_POOL_MIN", default=2),
                "max_size": env.int("DATABASE_POOL_MAX", default=20),
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
