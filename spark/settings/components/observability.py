"""Observability: who may read /metrics, the worker's metrics server (docs/operations.md)."""

from typing import Any

from spark.settings.components import env

# /metrics answers only these client addresses (IPs or networks, as Spark resolves the
# client: forwarding headers from SPARK_TRUSTED_PROXIES only) or a bearer token; with
# neither set it answers nobody (404).
SPARK_METRICS_ALLOWED_IPS = env.list("SPARK_METRICS_ALLOWED_IPS", default=[])
SPARK_METRICS_TOKEN = env.str("SPARK_METRICS_TOKEN", default="")
# A Celery worker serves its own /metrics on this port when set (0: off).
SPARK_WORKER_METRICS_PORT = env.int("SPARK_WORKER_METRICS_PORT", default=0)
SPARK_WORKER_METRICS_ADDRESS = env.str("SPARK_WORKER_METRICS_ADDRESS", default="127.0.0.1")

_PROMETHEUS_DATABASES = {
    "django.db.backends.postgresql": "django_prometheus.db.backends.postgresql",
    "django.db.backends.sqlite3": "django_prometheus.db.backends.sqlite3",
}


def prometheus_databases(databases: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The same databases through django-prometheus's backends (queries, errors, counted)."""
    return {
        alias: {**config, "ENGINE": _PROMETHEUS_DATABASES.get(config["ENGINE"], config["ENGINE"])}
        for alias, config in databases.items()
    }
