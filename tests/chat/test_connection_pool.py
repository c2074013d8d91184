"""A stream holds no database connection: more streams than pooled connections all finish.

A real Daphne process (``tests/web_process.py``) runs with a pool of two connections and
two worker threads; fifteen answers stream at once over the three channels (the
WebSocket, the REST send with server-sent events, the OpenAI-compatible API). On
PostgreSQL the pool is psycopg's, as in production; on SQLite (no pool) the same streams
run on the same two threads.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from accounts.models import Tenant, User
from spark.llm.models import LLMModel
from tests.chat.conftest import make_conversation
from tests.factories import ApiKeyFactory, create_user
from tests.fakes.llm import FakeOpenAI, Reply
from tests.web_process import web_process

pytestmark = pytest.mark.django_db(transaction=True)

POOL_SIZE = 2
THREADS = 2
STREAMS_PER_CHANNEL = 5
WORDS = [f"word{i}" for i in range(12)]
DEADLINE = 60.0


def _clients(tenant: Tenant, count: int) -> list[tuple[str, str]]:
    """``count`` users, each with an API key and a conversation on the fake's model."""
    clients = []
    for number in range(count):
        user: User = create_user(tenant=tenant, email=f"stream{number}@pool.example")
        _key, raw = ApiKeyFactory.create(user=user)
        conversation = make_conversation(user, tenant, model_slug="pool-gpt")
        clients.append((raw, str(conversation.uuid)))
    return clients


def _pool_env(fake: FakeOpenAI) -> dict[str, str]:
    return {
        "DATABASE_POOL": "true",
        "DATABASE_POOL_MIN": "1",
        "DATABASE_POOL_MAX": str(POOL_SIZE),
        "DATABASE_POOL_TIMEOUT": "3",
        "ASGI_THREADS": str(THREADS),
        "SPARK_OPENAI_BASE_URL": f"{fake.base_url}/v1",
        "OPENAI_API_KEYS": "sk-pool-test-1",
        "SPARK_RATE_SEND_USER": "100000/m",
        "SPARK_RATE_SEND_TENANT": "100000/m",
        "SPARK_RATE_API_KEY": "100000/m",
    }


async def _over_websocket(base: str, key: str, conversation: str) -> str:
    url = base.replace("http://", "ws://") + f"/ws/chat/{conversation}/"
    async with connect(url, additional_headers={"Authorization": f"Bearer {key}"}) as socket:
        await socket.send(
            json.dumps({"type": "message.send", "client_id": uuid.uuid4().hex, "text": "Hi"})
        )
        text = ""
        async for raw in socket:
            frame = json.loads(raw)
            if frame["type"] == "delta":
                text += frame["text"]
            elif frame["type"] == "error":
                return f"error {frame['code']}"
            elif frame["type"] == "message.done":
                return text
    return "closed"


async def _over_sse(client: httpx.AsyncClient, base: str, key: str, conversation: str) -> str:
    async with client.stream(
        "POST",
        f"{base}/api/v1/conversations/{conversation}/messages/",
        headers={"Authorization": f"Bearer {key}"},
        json={"text": "Hi", "client_id": uuid.uuid4().hex, "stream": True},
    ) as response:
        if response.status_code != 200:
            return f"status {response.status_code}: {(await response.aread())[:200]!r}"
        text, event = "", ""
        async for line in response.aiter_lines():
            if line.startswith("event: "):
                event = line.removeprefix("event: ")
            elif line.startswith("data: ") and event == "delta":
                text += json.loads(line.removeprefix("data: "))["text"]
            elif line.startswith("data: ") and event == "message.done":
                return text
    return "ended without message.done"


async def _over_openai(client: httpx.AsyncClient, base: str, key: str) -> str:
    async with client.stream(
        "POST",
        f"{base}/v1/chat/completions",
        headers={"Authorization": f"Bearer {key}"},
        json={"model": "pool-gpt", "stream": True, "messages": [{"role": "user", "content": "Hi"}]},
    ) as response:
        if response.status_code != 200:
            return f"status {response.status_code}: {(await response.aread())[:200]!r}"
        text = ""
        async for line in response.aiter_lines():
            if line == "data: [DONE]":
                return text
            if line.startswith("data: "):
                chunk = json.loads(line.removeprefix("data: "))
                for choice in chunk.get("choices", []):
                    text += choice["delta"].get("content") or ""
    return "ended without [DONE]"


async def _all_channels(base: str, clients: list[tuple[str, str]]) -> list[Any]:
    n = STREAMS_PER_CHANNEL
    limits = httpx.Limits(max_connections=4 * n)
    async with httpx.AsyncClient(timeout=DEADLINE, limits=limits) as client:
        calls = [_over_websocket(base, key, conv) for key, conv in clients[:n]]
        calls += [_over_sse(client, base, key, conv) for key, conv in clients[n : 2 * n]]
        calls += [_over_openai(client, base, key) for key, _conv in clients[2 * n :]]
        results = await asyncio.wait_for(asyncio.gather(*calls, return_exceptions=True), DEADLINE)
    return [repr(r) if isinstance(r, BaseException) else r for r in results]


def test_more_concurrent_streams_than_pooled_connections_all_finish_on_every_channel(
    public_tenant: Tenant, fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    # Given a model answered slowly by the fake (about a second a stream) and a web
    # process with fewer database connections than streams about to run
    LLMModel.objects.create(
        slug="pool-gpt", provider="openai", model_id="gpt-pool", display_name="Pool GPT"
    )
    fake_openai.set_default(Reply(" ".join(WORDS), first_token_delay=0.3, token_interval=0.05))
    fake_openai.record = False
    clients = _clients(public_tenant, 3 * STREAMS_PER_CHANNEL)
    with web_process(_pool_env(fake_openai), tmp_path / "web.log") as web:
        # When fifteen answers stream at once: five per channel
        results = asyncio.run(_all_channels(web.url, clients))
        log = web.log_text()
    # Then every one of them arrives whole, none refused or timed out
    expected = " ".join(WORDS)
    assert results == [expected] * len(results), log[-3000:]
    assert "couldn't get a connection" not in log
    assert "Traceback" not in log
