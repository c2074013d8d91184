"""Database connections: SQLite keeps each thread's connection, PostgreSQL pools on demand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.common.test_production_settings import manage

SHOW = (
    "import json; from django.conf import settings; d = settings.DATABASES['default']; "
    "print(json.dumps({'max_age': d['CONN_MAX_AGE'], 'options': d.get('OPTIONS', {})}))"
)


def _database(env: dict[str, str]) -> dict[str, object]:
    result = manage(
        "shell", "-c", SHOW, env={"DJANGO_SETTINGS_MODULE": "spark.settings.dev", **env}
    )
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def test_sqlite_keeps_its_connections(tmp_path: Path) -> None:
    database = _database({"DATABASE_URL": f"sqlite:///{tmp_path / 'spark.sqlite3'}"})
    assert database["max_age"] is None  # not a new file handle for every database trip


@pytest.mark.parametrize(
    ("env", "max_age", "pooled"),
    [
        ({}, 0, False),
        ({"DATABASE_CONN_MAX_AGE": "60"}, 60, False),
        ({"DATABASE_POOL": "true"}, 0, True),
    ],
)
def test_postgres_connections_as_configured(
    env: dict[str, str], max_age: int, pooled: bool
) -> None:
    database = _database({"DATABASE_URL": "postgres://spark@db.internal:5432/spark", **env})
    assert database["max_age"] == max_age
    assert ("pool" in database["options"]) is pooled  # type: ignore[operator]
