"""Production settings refuse to start without secrets, and `check --deploy` is clean."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "spark.settings.prod",
    "DJANGO_SECRET_KEY": "x" * 20 + "-production-secret-key-with-enough-entropy-0123456789",
    "SPARK_PASSWORD_PEPPER": "a-long-random-pepper-value-for-tests",
    "DATABASE_URL": "postgres://spark@db.internal:5432/spark",
    "ALLOWED_HOSTS": "spark.example.com",
    "REDIS_URL": "redis://redis.internal:6379/0",
    "SPARK_ENCRYPTION_KEYS": "UmB9THmx9Gx-u50nvZUWaJibPZMrg1ADTj253LWqsDo=",
}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``manage.py`` in a fresh process with ``env`` over this one's (minus its database and
    production variables, so that only ``env`` decides them)."""
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in PRODUCTION_ENV and not k.startswith("DATABASE_")
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_deploy_is_clean_with_production_settings() -> None:
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_refuses_to_start_without_its_secrets() -> None:
    env = {
        k: v
        for k, v in PRODUCTION_ENV.items()
        if k not in ("DJANGO_SECRET_KEY", "SPARK_PASSWORD_PEPPER")
    }
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY, SPARK_PASSWORD_PEPPER" in result.stderr


def test_production_refuses_to_start_without_encryption_keys() -> None:
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "SPARK_ENCRYPTION_KEYS"}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "SPARK_ENCRYPTION_KEYS" in result.stderr
