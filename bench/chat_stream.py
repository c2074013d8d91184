"""Benchmark: what Spark adds to a streamed answer, against the provider called directly.

    .venv/bin/python -m bench.chat_stream          # ~2 minutes; a SQLite file
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/spark_bench DATABASE_POOL=true \
        REDIS_URL=redis://127.0.0.1:6379/9 .venv/bin/python -m bench.chat_stream

A fake OpenAI server (tests/fakes/serve.py, its own process) answers every call with the
same reply after a fixed first-token delay, one word per chunk at a fixed interval.
Spark runs as a real Daphne process (the production server) on the embedded channel layer
(or Redis with REDIS_URL). For N = 1, 50, 200 concurrent clients, each a user of its own
(with its own API key) on its own conversation and WebSocket, every client sends one
message; in the same run, N clients
stream the same reply from the fake directly. Each N runs twice: a burst (every client
sends at the same instant) and a steady flow (arrivals spaced over one answer's duration,
so about N answers are in flight). Reported: Spark's added time-to-first-token
(p50, p99 of Spark minus the same percentile direct), added total time, messages per
second, deltas lost or out of order (must be 0), errors, and the web process's peak memory.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import httpx

from bench.common import percentile, start_ready_process

ROOT = Path(__file__).resolve().parents[1]
ROUND_TIMEOUT = 120.0  # seconds a round may take before its silent clients count as errors
PYTHON = sys.executable

SETUP = """
import json, sys
import django
django.setup()
from accounts import services as accounts
from accounts.models import Tenant
from chat import services as chat
from spark.llm.models import LLMModel
from spark.tenancy.context import tenant_scope, unscoped
count = int(sys.argv[1])
tenant = Tenant.objects.get(kind="public")
LLMModel.objects.create(slug="bench-gpt", provider="openai", model_id="gpt-bench",
                        display_name="Bench GPT", max_output_tokens=512)
clients = []
for number in range(count):
    with unscoped():
        user = accounts.user_create(email=f"bench{number}@spark.local", tenant=tenant,
                                    email_verified=True)
        key = accounts.api_key_create(user=user, name="bench").raw_key
    with tenant_scope(tenant):
        conversation = chat.conversation_create(user=user, tenant=tenant, model_slug="bench-gpt")
    clients.append({"key": key, "conversation": str(conversation.uuid)})
print(json.dumps({"clients": clients}))
"""


@dataclass
class Timing:
    ttft: float
    total: float
    ok: bool
    problem: str = ""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_fake(
    words: int, interval: float, first_token: float
) -> tuple[subprocess.Popen[str], str]:
    return start_ready_process(
        [
            PYTHON,
            "-m",
            "tests.fakes.serve",
            "openai",
            "--words",
            str(words),
            "--interval",
            str(interval),
            "--first-token-delay",
            str(first_token),
        ]
    )


def spark_environment(fake_url: str, database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "spark.settings.dev",
            "DJANGO_DEBUG": "false",
            "DATABASE_URL": database_url,
            "SPARK_OPENAI_BASE_URL": f"{fake_url}/v1",
            "OPENAI_API_KEYS": "sk-bench-1",
            "SPARK_RATE_SEND_USER": "1000000/m",
            "SPARK_RATE_SEND_TENANT": "1000000/m",
            "SPARK_RATE_API_KEY": "1000000/m",
            "LOG_LEVEL": "WARNING",
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            "LITELLM_OFFLINE_MODE": "true",
            "HF_HUB_OFFLINE": "1",
        }
    )
    return env


def prepare_database(env: dict[str, str], count: int) -> dict[str, Any]:
    subprocess.run(
        [PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    result = subprocess.run(
        [PYTHON, "-c", SETUP, str(count)],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def start_spark(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [
            str(Path(PYTHON).parent / "daphne"),
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            "spark.asgi:application",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return process, base
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    process.kill()
    raise RuntimeError("Spark did not start")


async def spark_client(
    session: aiohttp.ClientSession,
    base: str,
    key: str,
    conversation: str,
    expected: list[str],
    start: asyncio.Event,
    offset: float,
) -> Timing:
    url = base.replace("http", "ws") + f"/ws/chat/{conversation}/"
    async with session.ws_connect(
        url, headers={"Authorization": f"Bearer {key}", "Origin": base}
    ) as ws:
        await start.wait()
        await asyncio.sleep(offset)  # this client's arrival time in the round
        sent = time.perf_counter()
        await ws.send_str(
            json.dumps(
                {
                    "type": "message.send",
                    "client_id": uuid.uuid4().hex,
                    "text": "Tell me something.",
                }
            )
        )
        first = None
        seqs: list[int] = []
        text = ""
        async for message in ws:
            frame = json.loads(message.data)
            if frame["type"] == "delta":
                first = first or time.perf_counter()
                seqs.append(frame["seq"])
                text += frame["text"]
            elif frame["type"] == "error":
                return Timing(0, 0, False, frame["code"])
            elif frame["type"] == "message.done":
                done = time.perf_counter()
                seqs.append(frame["seq"])
                break
        else:
            return Timing(0, 0, False, "socket closed")
    in_order = seqs == list(range(1, len(seqs) + 1))
    complete = text.split() == expected
    problem = "" if in_order and complete else f"order={in_order} complete={complete}"
    return Timing(first - sent if first else 0, done - sent, in_order and complete, problem)


async def direct_client(
    client: httpx.AsyncClient, fake_url: str, start: asyncio.Event, offset: float
) -> Timing:
    await start.wait()
    await asyncio.sleep(offset)
    sent = time.perf_counter()
    first = None
    async with client.stream(
        "POST",
        f"{fake_url}/v1/chat/completions",
        headers={"Authorization": "Bearer sk-bench-1"},
        json={
            "model": "gpt-bench",
            "stream": True,
            "messages": [{"role": "user", "content": "Tell me something."}],
        },
    ) as response:
        async for line in response.aiter_lines():
            if line.startswith("data: ") and line != "data: [DONE]":
                chunk = json.loads(line[6:])
                if chunk["choices"] and chunk["choices"][0]["delta"].get("content"):
                    first = first or time.perf_counter()
    done = time.perf_counter()
    return Timing(first - sent if first else 0, done - sent, first is not None)


async def run_round(
    count: int,
    base: str,
    fake_url: str,
    setup: dict[str, Any],
    expected: list[str],
    spread: float = 0.0,
) -> dict[str, Any]:
    """``spread`` 0: every client sends at once (a burst). Otherwise arrivals are spaced
    evenly over ``spread`` seconds, so about ``count`` answers are in flight at a time."""
    offsets = [index * spread / count for index in range(count)]
    start = asyncio.Event()
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        tasks = [
            asyncio.create_task(
                spark_client(
                    session, base, client["key"], client["conversation"], expected, start, offset
                )
            )
            for client, offset in zip(setup["clients"][:count], offsets, strict=True)
        ]
        await asyncio.sleep(1.0 + count * 0.01)  # every socket connects before the start
        began = time.perf_counter()
        start.set()
        done, pending = await asyncio.wait(tasks, timeout=ROUND_TIMEOUT)
        for task in pending:
            task.cancel()
        spark: list[Any] = [
            task.result()
            if task in done and not task.exception()
            else (task.exception() if task in done else TimeoutError("no answer in time"))
            for task in tasks
        ]
        wall = time.perf_counter() - began
    start = asyncio.Event()
    limits = httpx.Limits(max_connections=count + 10, max_keepalive_connections=count + 10)
    async with httpx.AsyncClient(limits=limits, timeout=120) as client:
        direct_tasks = [
            asyncio.create_task(direct_client(client, fake_url, start, offset))
            for offset in offsets
        ]
        await asyncio.sleep(0.2)
        start.set()
        direct = await asyncio.gather(*direct_tasks)
    results = [r for r in spark if isinstance(r, Timing)]
    errors = [str(r) for r in spark if not isinstance(r, Timing)] + [
        r.problem for r in results if not r.ok
    ]
    good = [r for r in results if r.ok]
    if not good:
        return {
            "clients": count,
            "spread": spread,
            "errors": len(errors),
            "sample_error": errors[:3],
        }
    s_ttft = [r.ttft for r in good]
    d_ttft = [r.ttft for r in direct]
    s_total = [r.total for r in good]
    d_total = [r.total for r in direct]
    ms = 1000
    return {
        "clients": count,
        "arrivals": "burst" if not spread else f"spread over {spread:.1f} s",
        "added_ttft_p50_ms": round((percentile(s_ttft, 50) - percentile(d_ttft, 50)) * ms, 1),
        "added_ttft_p99_ms": round((percentile(s_ttft, 99) - percentile(d_ttft, 99)) * ms, 1),
        "added_total_p50_ms": round((percentile(s_total, 50) - percentile(d_total, 50)) * ms, 1),
        "added_total_p99_ms": round((percentile(s_total, 99) - percentile(d_total, 99)) * ms, 1),
        "direct_ttft_p50_ms": round(percentile(d_ttft, 50) * ms, 1),
        "messages_per_s": round(len(good) / wall, 1),
        "lost_or_reordered": sum(1 for r in results if not r.ok and "order" in r.problem),
        "errors": len(errors),
        "sample_error": errors[:3],
        "mean_spark_total_s": round(statistics.mean(s_total), 3),
    }


def peak_memory_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", default="1,50,200")
    parser.add_argument("--words", type=int, default=60)
    parser.add_argument("--interval", type=float, default=0.02)
    parser.add_argument("--first-token", type=float, default=0.2)
    options = parser.parse_args()
    counts = [int(c) for c in options.clients.split(",")]
    expected = [f"word{i}" for i in range(options.words)]

    database_url = os.environ.get("DATABASE_URL", "")
    tmp = tempfile.TemporaryDirectory()
    if database_url.startswith("postgres"):
        name = database_url.rsplit("/", 1)[1]
        admin = database_url.rsplit("/", 1)[0] + "/postgres"
        subprocess.run(["psql", admin, "-qc", f"DROP DATABASE IF EXISTS {name}"], check=True)
        subprocess.run(["psql", admin, "-qc", f"CREATE DATABASE {name}"], check=True)
    else:
        database_url = f"sqlite:///{tmp.name}/bench.sqlite3"

    fake, fake_url = start_fake(options.words, options.interval, options.first_token)
    env = spark_environment(fake_url, database_url)
    setup = prepare_database(env, max(counts) + 1)
    spark, base = start_spark(env)
    try:
        # One message first, not measured: the process warms up (imports, connections).
        warm = {"clients": setup["clients"][-1:]}
        asyncio.run(run_round(1, base, fake_url, warm, expected))
        rows = []
        # A steady flow: arrivals spread over one answer's duration keep about N in flight.
        answer_seconds = options.first_token + options.words * options.interval
        for count in counts:
            for spread in (0.0, answer_seconds) if count > 1 else (0.0,):
                row = asyncio.run(run_round(count, base, fake_url, setup, expected, spread))
                rows.append(row)
                print(json.dumps(row), flush=True)
        rows.append({"peak_memory_mib": peak_memory_mib(spark.pid)})
        print(json.dumps(rows[-1]))
        print(
            f"database: {database_url.split('://')[0]}, channel layer: "
            f"{'redis' if os.environ.get('REDIS_URL') else 'in-memory'}"
        )
    finally:
        spark.terminate()
        spark.wait(10)
        assert fake.stdin is not None
        fake.stdin.close()
        fake.wait(10)
        tmp.cleanup()


if __name__ == "__main__":
    main()
