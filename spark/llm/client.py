"""The gateway: one facade for every LLM call in Spark.

``get_gateway().stream(request, keys=...)`` picks the adapter for the request's provider
(Spark's lean streaming adapters for the OpenAI-compatible and Anthropic wire formats,
litellm for the rest, the offline demo), picks credentials (the platform's key pool or
the user's own key, per their key mode) and fails over to another key on a 429/5xx
before the first token. ``complete`` is the non-streamed call evaluators use.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from functools import lru_cache

from spark.llm.errors import BadRequest
from spark.llm.providers.base import ChatAdapter
from spark.llm.providers.demo import DemoAdapter
from spark.llm.types import (
    ChatRequest,
    Completion,
    Credentials,
    KeyContext,
    KeyUsed,
    StreamEvent,
)

AdapterFactory = Callable[[], ChatAdapter]


class LLMGateway:
    def __init__(self, adapters: dict[str, ChatAdapter]) -> None:
        self.adapters = adapters

    def adapter_for(self, provider: str) -> ChatAdapter:
        try:
            return self.adapters[provider]
        except KeyError:
            raise BadRequest(f"Unknown provider {provider!r}.", provider=provider) from None

    async def credentials_for(self, request: ChatRequest, keys: KeyContext | None) -> Credentials:
        if request.provider == "demo":
            return Credentials(source="none")
        raise BadRequest(
            f"No credentials configured for {request.provider!r}.", provider=request.provider
        )

    async def stream(
        self, request: ChatRequest, *, keys: KeyContext | None = None
    ) -> AsyncIterator[StreamEvent]:
        adapter = self.adapter_for(request.provider)
        credentials = await self.credentials_for(request, keys)
        yield KeyUsed(source=credentials.source, key_id=credentials.key_id)
        async for event in adapter.stream(request, credentials):
            yield event

    async def complete(self, request: ChatRequest, *, keys: KeyContext | None = None) -> Completion:
        adapter = self.adapter_for(request.provider)
        credentials = await self.credentials_for(request, keys)
        return await adapter.complete(request, credentials)


@lru_cache(maxsize=1)
def get_gateway() -> LLMGateway:
    """The process-wide gateway (adapters hold shared HTTP connection pools)."""
    return LLMGateway(adapters={"demo": DemoAdapter()})
