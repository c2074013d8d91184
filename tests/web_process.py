"""Spark as production runs it: a Daphne process of its own, on the test database.

``tests/live_server.py`` runs Daphne in a thread of the test process, which shares the
test's settings and its database connections. Tests about the process itself (its
connection pool, its thread count, several instances) need a real one: this starts
``daphne spark.asgi:application`` with the environment a deployment would give it,
pointed at the test database (whose rows the test commits: ``transaction=True``).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]
STARTUP_SECONDS = 60.0


@dataclass(frozen=True)
class WebProcess:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_database_url() -> str:
    """The test database, as a DATABASE_URL another process can open."""
    params = connection.settings_dict
    if connection.vendor == "postgresql":
        user = params.get("USER") or "postgres"
        password = f":{params['PASSWORD']}" if params.get("PASSWORD") else ""
        host = params.get("HOST") or "127.0.0.1"
        port = params.get("PORT") or 5432
        return f"postgres://{user}{password}@{host}:{port}/{params['NAME']}"
    return f"sqlite:///{params['NAME']}"


def web_environment(extra: dict[str, str]) -> dict[str, str]:
    """A web process's environment: the test's database, cache and channel layer."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "spark.settings.dev",
            "DJANGO_DEBUG": "false",
            "DATABASE_URL": test_database_url(),
            "LOG_LEVEL": "WARNING",
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            "LITELLM_OFFLINE_MODE": "true",
            "HF_HUB_OFFLINE": "1",
        }
    )
    if settings.REDIS_URL:
        # The test worker's own Redis database and channel-layer prefix (spark.settings.test).
        env["REDIS_URL"] = settings.CACHES["default"]["LOCATION"]
        env["CHANNEL_LAYER_PREFIX"] = settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"]
    else:
        env.pop("REDIS_URL", None)
    env.update(extra)
    return env


@contextmanager
def web_process(extra_env: dict[str, str], log: Path) -> Iterator[WebProcess]:
    """A Daphne process serving Spark on a loopback port until the block ends."""
    port = free_port()
    daphne = str(Path(sys.executable).parent / "daphne")
    with log.open("wb") as output:
        process = subprocess.Popen(
            [daphne, "-b", "127.0.0.1", "-p", str(port), "spark.asgi:application"],
            cwd=ROOT,
            env=web_environment(extra_env),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    web = WebProcess(url=f"http://127.0.0.1:{port}", process=process, log=log)
    try:
        _wait_until_ready(web)
        yield web
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _wait_until_ready(web: WebProcess) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if web.process.poll() is not None:
            raise RuntimeError(f"the web process exited:\n{web.log_text()}")
        try:
            if httpx.get(f"{web.url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)  # polling a starting process, with a deadline
    raise RuntimeError(f"the web process did not answer in time:\n{web.log_text()}")
