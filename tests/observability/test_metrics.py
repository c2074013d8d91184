"""/metrics: Prometheus's format, Spark's own metrics, closed to everyone not configured."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from django.db import connection
from django.test import Client
from kombu import Connection
from prometheus_client.parser import text_string_to_metric_families

from accounts.models import Tenant, User
from tests.factories import ApiKeyFactory
from tests.live_server import live_server

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "metrics-scrape-token-7f3a"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape, by name and labels (parsed by prometheus_client)."""
    found: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(
    scrape: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str
) -> float:
    wanted = set(labels.items())
    return sum(v for (n, ls), v in scrape.items() if n == name and wanted <= set(ls))


def test_metrics_answer_nobody_when_no_address_or_token_is_configured(
    client: Client, settings: Any
) -> None:
    settings.SPARK_METRICS_ALLOWED_IPS = []
    settings.SPARK_METRICS_TOKEN = ""
    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert b"spark_" not in response.content


@pytest.mark.django_db
def test_metrics_open_to_a_configured_address_only(client: Client, settings: Any) -> None:
    settings.SPARK_METRICS_ALLOWED_IPS = ["10.1.2.0/24"]
    settings.SPARK_TRUSTED_PROXIES = []
    allowed = client.get("/metrics", REMOTE_ADDR="10.1.2.7")
    assert allowed.status_code == 200
    assert allowed["Content-Type"].startswith("text/plain")
    assert "spark_streams_active" in allowed.content.decode()
    outside = client.get("/metrics", REMOTE_ADDR="203.0.113.9")
    assert outside.status_code == 404
    # A forwarding header from a peer that is not a trusted proxy names nobody.
    spoofed = client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="10.1.2.7")
    assert spoofed.status_code == 404


@pytest.mark.django_db
def test_metrics_open_to_the_bearer_token_and_refuse_a_wrong_one(
    client: Client, settings: Any
) -> None:
    settings.SPARK_METRICS_ALLOWED_IPS = []
    settings.SPARK_METRICS_TOKEN = TOKEN
    good = client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert good.status_code == 200
    wrong = client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer nope")
    assert wrong.status_code == 403
    assert wrong.json()["code"] == "forbidden"
    assert b"spark_" not in wrong.content
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_one_answer_moves_spark_metrics_with_bounded_labels(
    user: User, public_tenant: Tenant, settings: Any
) -> None:
    settings.SPARK_METRICS_TOKEN = TOKEN
    server = live_server()
    headers = {"Authorization": f"Bearer {TOKEN}"}

    def scrape() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        response = httpx.get(f"{server.url}/metrics", headers=headers, timeout=30)
        assert response.status_code == 200
        return samples(response.text)

    before = scrape()
    _key, raw = ApiKeyFactory.create(user=user, name="metrics client")
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key=raw, max_retries=0)
    completion = client.chat.completions.create(
        model="demo", messages=[{"role": "user", "content": "Count this answer"}]
    )
    assert completion.choices[0].message.content
    after = scrape()

    kind = {"tenant_kind": "public", "channel": "openai"}
    admitted = "spark_messages_total"
    assert (
        value(after, admitted, outcome="admitted", **kind)
        - value(before, admitted, outcome="admitted", **kind)
        == 1
    )
    ttft = "spark_stream_ttft_seconds_count"
    assert value(after, ttft, model="demo", **kind) - value(before, ttft, model="demo", **kind) == 1
    done = "spark_stream_duration_seconds_count"
    assert (
        value(after, done, status="complete", model="demo", **kind)
        - value(before, done, status="complete", model="demo", **kind)
        == 1
    )
    assert value(after, "spark_streams_active", **kind) == 0
    assert value(after, "spark_ledger_settlements_total", outcome="settled") >= 1
    # django-prometheus: requests, latency and database.
    assert value(after, "django_http_requests_total_by_method_total", method="POST") >= 1
    assert value(after, "django_db_execute_total") > 0
    assert ("spark_holds_open", ()) in after
    assert after[("spark_state_up", (("part", "database"),))] == 1
    # Never a user, a tenant id or what was said, in any label.
    label_values = {v for (_n, labels) in after for (_k, v) in labels}
    forbidden = {
        user.email,
        "Count this answer",
        raw,
        str(user.uuid) if hasattr(user, "uuid") else raw,
    }
    assert not forbidden & label_values
    assert not any("@" in v or "Count this" in v for v in label_values)


@pytest.mark.django_db
def test_queue_depth_reads_the_broker(settings: Any, client: Client) -> None:
    """Each Celery queue's waiting tasks, asked of the broker (Redis in production)."""
    from django.conf import settings as live

    redis_location = live.CACHES["default"]["LOCATION"]
    broker = redis_location if str(redis_location).startswith("redis") else "memory://"
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = broker
    settings.SPARK_METRICS_TOKEN = TOKEN
    with Connection(broker) as conn:
        queue = conn.SimpleQueue("watchdog")
        queue.clear()
        for number in range(3):
            queue.put({"n": number})
        try:
            response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
            scrape = samples(response.content.decode())
        finally:
            queue.clear()
            queue.close()
    assert scrape[("spark_celery_queue_depth", (("queue", "watchdog"),))] == 3
    assert scrape[("spark_celery_queue_depth", (("queue", "media"),))] == 0
    assert scrape[("spark_state_up", (("part", "broker"),))] == 1


def _database_url() -> str:
    config = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{config['NAME']}"
    host = config.get("HOST") or "127.0.0.1"
    return f"postgres://{config['USER']}@{host}:{config.get('PORT') or 5432}/{config['NAME']}"


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.django_db(transaction=True)
def test_a_prefork_worker_serves_its_task_outcomes_on_its_own_metrics(tmp_path: Path) -> None:
    """A real Celery worker (prefork pool, multiprocess mode): the child's task outcome
    reaches the main process's /metrics, behind the same token."""
    port = _free_port()
    broker_dir = tmp_path / "broker"
    (broker_dir).mkdir()
    multiproc = tmp_path / "prom"
    multiproc.mkdir()
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "spark.settings.test",
        "DATABASE_URL": _database_url(),
        "PROMETHEUS_MULTIPROC_DIR": str(multiproc),
        "SPARK_WORKER_METRICS_PORT": str(port),
        "SPARK_METRICS_TOKEN": TOKEN,
        "SPARK_WORKER_PROBE_BROKER_DIR": str(broker_dir),
    }
    environment.pop("PYTEST_XDIST_WORKER", None)
    broker = "filesystem://"
    transport = {"data_folder_in": str(broker_dir), "data_folder_out": str(broker_dir)}
    script = (
        "import os, sys\n"
        "from spark.celery import app\n"
        "d = os.environ['SPARK_WORKER_PROBE_BROKER_DIR']\n"
        "app.conf.task_always_eager = False\n"
        "app.conf.broker_url = 'filesystem://'\n"
        "app.conf.broker_transport_options = {'data_folder_in': d, 'data_folder_out': d}\n"
        "app.worker_main(['worker', '--pool', 'prefork', '--concurrency', '1',"
        " '--queues', 'default', '--loglevel', 'WARNING', '--without-heartbeat',"
        " '--without-gossip', '--without-mingle'])\n"
    )
    worker = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        from celery import Celery

        sender = Celery("probe", broker=broker)
        sender.conf.broker_transport_options = transport
        sender.send_task("security.tasks.audit_purge", queue="default")
        url = f"http://127.0.0.1:{port}/metrics"
        deadline = time.monotonic() + 90
        scrape: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
        while time.monotonic() < deadline:
            assert worker.poll() is None, worker.stdout.read() if worker.stdout else ""
            try:
                response = httpx.get(url, headers={"Authorization": f"Bearer {TOKEN}"})
            except httpx.TransportError:
                time.sleep(0.2)  # the worker is still starting
                continue
            scrape = samples(response.text)
            if value(scrape, "spark_celery_tasks_total", task="security.tasks.audit_purge"):
                break
            time.sleep(0.2)
        assert (
            value(
                scrape,
                "spark_celery_tasks_total",
                task="security.tasks.audit_purge",
                outcome="success",
            )
            == 1
        )
        assert (
            value(scrape, "spark_celery_task_seconds_count", task="security.tasks.audit_purge") == 1
        )
        assert httpx.get(url).status_code == 404
        assert httpx.get(url, headers={"Authorization": "Bearer wrong"}).status_code == 403
    finally:
        worker.terminate()
        worker.wait(timeout=30)
