"""Tests: the same settings as production code paths, with fast hashing and captured mail."""

import os
import re
import socket

from spark.settings.base import *  # noqa: F403
from spark.settings.components.auth import google_provider_settings

DEBUG = False
SPARK_DEMO_STREAM_DELAY_MS = 0
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http"
# A real host list, as production has (never "*", which would also switch off the
# WebSocket Origin check's host test): Django's test client ("testserver"), the live
# servers on loopback, landing pages on *.pages.localhost (the embedded default's landing
# origin), and tenant domains under the reserved .example TLD, as production lists the
# platform's host, a ".tenants.example.com" wildcard and each custom domain.
ALLOWED_HOSTS = ["testserver", "localhost", ".localhost", "127.0.0.1", "[::1]", ".example"]
CELERY_TASK_ALWAYS_EAGER = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# Google's OAuth endpoints are served by tests/fakes/google_oauth.py on a port chosen
# when each test process starts (allauth reads these URLs once, at import).
_worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or "0"
GOOGLE_FAKE_PORT = _free_port()
GOOGLE_CLIENT_ID = "spark-test-client.apps.googleusercontent.com"
GOOGLE_CLIENT_SECRET = "spark-test-secret"  # noqa: S105 - a fake's credential
GOOGLE_LOGIN_ENABLED = True
SOCIALACCOUNT_PROVIDERS = {
    "google": google_provider_settings(
        GOOGLE_CLIENT_ID, GOOGLE_CLIENT_SECRET, f"http://127.0.0.1:{GOOGLE_FAKE_PORT}"
    )
}

# Argon2 stays the real hasher, with cheap parameters so the suite stays fast.
SPARK_ARGON2_TIME_COST = 1
SPARK_ARGON2_MEMORY_COST = 1024


def worker_redis(redis_url: str, *, worker: int, offset: int) -> tuple[str, str]:
    """One test worker's Redis database and channel-layer prefix.

    Each xdist worker gets its own database, so that a test can flush its cache without
    touching another worker's state, and its own channel-layer prefix: Redis pub/sub
    ignores the database number (a PUBLISH on db 2 reaches a subscriber on db 3), so
    without it every worker's staff socket would hear every other worker's events.
    ``offset`` (SPARK_TEST_REDIS_DB_OFFSET) keeps concurrent test runs on one Redis apart.
    """
    database = offset + worker
    url = re.sub(r"/\d*$", "", redis_url.rstrip("/")) + f"/{database}"
    return url, f"spark-test-{database}"


if REDIS_URL:
    _worker_redis_url, _worker_layer_prefix = worker_redis(
        REDIS_URL,
        worker=int(_worker),
        offset=int(os.environ.get("SPARK_TEST_REDIS_DB_OFFSET", "1")),
    )
    CACHES["default"]["LOCATION"] = _worker_redis_url
    # A worker's cache.clear() empties its database: its resumable streams live there too,
    # never where another worker's (or another run's) clear could reach them.
    SPARK_REPLAY_REDIS_URL = _worker_redis_url
    CHANNEL_LAYERS["default"]["CONFIG"]["hosts"][0]["address"] = _worker_redis_url  # type: ignore[index]
    CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = _worker_layer_prefix  # type: ignore[index]

WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
