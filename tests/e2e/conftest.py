"""Browser tests: Spark served by a real Daphne (HTTP + WebSockets), driven by Playwright
on Debian's Chromium (``/usr/bin/chromium``; never ``playwright install``).

The server is a subprocess on an ephemeral port with its own SQLite file, migrated and
seeded with the demo, the embedded in-memory channel layer, and a slow demo stream so
that "reload mid-answer" really happens mid-answer.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = ROOT / "test-results"
DEMO_PASSWORD = "spark-demo-2026"  # the seeded demo accounts' password (README)


@dataclass(frozen=True)
class LiveServer:
    url: str
    env: dict[str, str]

    def manage(self, *args: str) -> str:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        ).stdout


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_up(url: str, process: subprocess.Popen[bytes], deadline: float) -> None:
    """Poll /healthz until it answers; between tries, wait on the process (it may die)."""
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        try:
            returncode = process.wait(timeout=0.1)
        except subprocess.TimeoutExpired:
            continue
        raise RuntimeError(f"Daphne exited with {returncode}")
    raise RuntimeError("Daphne did not come up in time")


@pytest.fixture(scope="session")
def spark_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)")
    if not (ROOT / "static/build/chat.js").exists():
        pytest.fail("The front-end is not built: run `make assets` (make test does).")
    workdir = tmp_path_factory.mktemp("live")
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "PYTEST_XDIST_WORKER")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="spark.settings.dev",
        DJANGO_DEBUG="false",
        DATABASE_URL=f"sqlite:///{workdir / 'live.sqlite3'}",
        MEDIA_ROOT=str(workdir / "media"),
        SPARK_DEMO_STREAM_DELAY_MS="90",
        SPARK_STREAM_PERSIST_SECONDS="0.3",
        LOG_LEVEL="WARNING",
    )
    port = _free_port()
    server = LiveServer(url=f"http://127.0.0.1:{port}", env=env)
    server.manage("migrate", "--noinput")
    server.manage("seed_demo")
    log = (workdir / "daphne.log").open("wb")
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "daphne"),
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            "spark.asgi:application",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_until_up(server.url, process, time.monotonic() + 60)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        instance = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield instance
        await instance.close()


async def sign_in(page: Any, server: LiveServer, email: str, next_path: str) -> None:
    """Sign in through the real form, landing on ``next_path``."""
    await page.goto(f"{server.url}{next_path}")
    await page.fill("input[name=login]", email)
    await page.fill("input[name=password]", DEMO_PASSWORD)
    await page.click("form[action$='/login/'] button[type=submit]")
    await page.wait_for_url(f"**{next_path.split('?')[0]}**")


def screenshot_path(name: str) -> str:
    SCREENSHOTS.mkdir(exist_ok=True)
    return str(SCREENSHOTS / f"{name}.png")
