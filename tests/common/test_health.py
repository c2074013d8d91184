"""Liveness and readiness probes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]

READYZ_SCRIPT = """
import django, json
django.setup()
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()
response = Client().get("/readyz")
print(json.dumps({"status": response.status_code, "body": response.json()}))
"""


def _readyz_in_process_with(**env: str) -> dict[str, object]:
    """Run /readyz in a fresh process whose services are the given (dead) ones: its
    status, body, and what it logged (``log``)."""
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "spark.settings.test", **env}
    result = subprocess.run(
        [sys.executable, "-c", READYZ_SCRIPT],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    answer: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    answer["log"] = result.stderr
    return answer


def test_healthz_answers_while_the_process_is_up(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_reports_every_part_ready(client: Client) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "cache": "ok", "channel_layer": "ok"},
    }


def test_readyz_names_a_dead_cache_and_channel_layer_with_503(tmp_path: Path) -> None:
    result = _readyz_in_process_with(
        REDIS_URL="redis://127.0.0.1:1/0", DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}"
    )
    assert result["status"] == 503
    body = result["body"]
    assert body["code"] == "not_ready"  # type: ignore[index]
    assert body["details"]["checks"] == {  # type: ignore[index]
        "database": "ok",
        "cache": "failing",
        "channel_layer": "failing",
    }
    assert "cache" in body["message"]  # type: ignore[index]


def test_readyz_names_a_dead_database_with_503() -> None:
    result = _readyz_in_process_with(
        DATABASE_URL="postgres://postgres@127.0.0.1:1/spark", REDIS_URL=""
    )
    assert result["status"] == 503
    checks = result["body"]["details"]["checks"]  # type: ignore[index]
    assert checks == {"database": "failing", "cache": "ok", "channel_layer": "ok"}


def test_readyz_tells_only_the_failing_parts_name_and_logs_the_detail() -> None:
    # Given a database on a host and port that refuse connections
    result = _readyz_in_process_with(
        DATABASE_URL="postgres://spark_probe_user@127.0.0.1:1/spark_secret_db", REDIS_URL=""
    )
    # Then the answer names the part, and nothing of the error (host, user, database)
    assert result["status"] == 503
    assert result["body"] == {
        "code": "not_ready",
        "message": "Not ready: database.",
        "details": {"checks": {"database": "failing", "cache": "ok", "channel_layer": "ok"}},
    }
    # And the operator finds the reason in the log
    log = str(result["log"])
    assert "readiness check database failed" in log
    assert "127.0.0.1" in log and "OperationalError" in log
