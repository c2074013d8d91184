"""Run the gateway from sync tests (their database connection is the test's own)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from asgiref.sync import async_to_sync

from spark.llm.client import LLMGateway, get_gateway
from spark.llm.providers.http import close_shared_client
from spark.llm.types import ChatMessage, ChatRequest, KeyContext, StreamEvent

T = TypeVar("T")


def run(make: Callable[[], Awaitable[T]]) -> T:
    """Await ``make()`` in a fresh event loop, closing the HTTP client before it ends."""

    async def go() -> T:
        try:
            return await make()
        finally:
            await close_shared_client()

    return async_to_sync(go)()


def stream(
    request: ChatRequest, *, keys: KeyContext | None = None, gateway: LLMGateway | None = None
) -> list[StreamEvent]:
    async def collect() -> list[StreamEvent]:
        return [event async for event in (gateway or get_gateway()).stream(request, keys=keys)]

    return run(collect)


def chat(provider: str = "openai", model: str = "gpt-4o", **fields: object) -> ChatRequest:
    values: dict[str, object] = {
        "provider": provider,
        "model": model,
        "messages": (ChatMessage(role="user", content="Hello?"),),
        "timeout": 10.0,
    }
    values.update(fields)
    return ChatRequest(**values)  # type: ignore[arg-type]
