"""Connections, threads and processes are checked together; an overloaded or unreachable
database is answered 503 with Retry-After (HTTP) or an error frame and close code 4503
(sockets), quickly."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.common.test_production_settings import manage
from tests.web_process import free_port, web_process

POSTGRES = "postgres://spark@db.internal:5432/spark"


def _check(env: dict[str, str]) -> tuple[int, str]:
    result = manage("check", env={"DJANGO_SETTINGS_MODULE": "spark.settings.dev", **env})
    return result.returncode, result.stdout + result.stderr


def test_a_pool_smaller_than_the_worker_threads_is_refused() -> None:
    code, output = _check(
        {
            "DATABASE_URL": POSTGRES,
            "DATABASE_POOL": "true",
            "DATABASE_POOL_MAX": "20",
            "ASGI_THREADS": "32",
        }
    )
    assert code == 1
    assert "spark.E102" in output
    assert "DATABASE_POOL_MAX (20) is smaller than ASGI_THREADS (32)" in output


def test_a_pool_without_headroom_or_with_a_long_timeout_is_warned_about() -> None:
    code, output = _check(
        {
            "DATABASE_URL": POSTGRES,
            "DATABASE_POOL": "true",
            "DATABASE_POOL_MAX": "32",
            "ASGI_THREADS": "32",
            "DATABASE_POOL_TIMEOUT": "30",
        }
    )
    assert code == 0
    assert "spark.W103" in output and "spark.W104" in output
    assert "spark.E102" not in output


def test_the_default_pool_fits_the_threads() -> None:
    code, output = _check({"DATABASE_URL": POSTGRES, "DATABASE_POOL": "true", "ASGI_THREADS": "32"})
    assert code == 0
    assert "spark.E102" not in output and "spark.W103" not in output
    assert "spark.W104" not in output


def test_daphne_refuses_to_start_with_a_pool_the_threads_can_starve(tmp_path: Path) -> None:
    env = {
        "DATABASE_URL": POSTGRES,
        "DATABASE_POOL": "true",
        "DATABASE_POOL_MAX": "2",
        "ASGI_THREADS": "8",
    }
    with pytest.raises(RuntimeError) as refused, web_process(env, tmp_path / "web.log"):
        pass
    assert "spark.E102" in str(refused.value)


UNREACHABLE = {
    # Nothing listens there: every connection attempt fails, as with PostgreSQL down or
    # every pooled connection taken.
    "DATABASE_POOL": "true",
    "DATABASE_POOL_MIN": "0",
    "DATABASE_POOL_MAX": "6",
    "DATABASE_POOL_TIMEOUT": "1",
    "ASGI_THREADS": "2",
}


@pytest.fixture
def unreachable_database(tmp_path: Path):  # type: ignore[no-untyped-def]
    env = {**UNREACHABLE, "DATABASE_URL": f"postgres://spark@127.0.0.1:{free_port()}/spark"}
    with web_process(env, tmp_path / "web.log") as web:
        yield web


def test_without_a_database_the_api_answers_503_with_retry_after(unreachable_database) -> None:  # type: ignore[no-untyped-def]
    base = unreachable_database.url
    # A deadline far below psycopg's default 30 s wait: the pool's 1 s timeout decides.
    with httpx.Client(timeout=10) as client:
        api = client.get(f"{base}/api/v1/conversations/", headers={"Accept": "application/json"})
        openai = client.post(
            f"{base}/v1/chat/completions",
            headers={"Authorization": "Bearer spk_abc_def"},
            json={"model": "demo", "messages": [{"role": "user", "content": "Hi"}]},
        )
        page = client.get(f"{base}/", headers={"Accept": "text/html"})
    assert api.status_code == 503
    assert api.headers["Retry-After"] == "5"
    assert api.json() == {
        "code": "service_unavailable",
        "message": "Spark is busy right now. Please try again in a few seconds.",
    }
    assert openai.status_code == 503
    assert openai.headers["Retry-After"] == "5"
    assert openai.json()["error"]["code"] == "service_unavailable"
    assert page.status_code == 503
    assert page.headers["Retry-After"] == "5"
    assert "Busy right now" in page.text
    assert " 500 " not in unreachable_database.log_text()


async def test_without_a_database_a_socket_gets_an_error_frame_and_4503(
    unreachable_database,  # type: ignore[no-untyped-def]
) -> None:
    url = unreachable_database.url.replace("http://", "ws://") + (
        "/ws/chat/6b7f5a3e-5c1e-4c55-9a1a-6c1f3f0f9a11/"
    )
    async with connect(url, additional_headers={"Authorization": "Bearer spk_abc_def"}) as socket:
        frame = json.loads(await socket.recv())
        with pytest.raises(ConnectionClosed) as closed:
            await socket.recv()
    assert frame["type"] == "error"
    assert frame["code"] == "service_unavailable"
    assert frame["retry_after"] == 5
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4503
