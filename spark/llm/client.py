"""The gateway: one facade for every LLM call in Spark.

``get_gateway().stream(request, keys=...)`` picks the adapter for the request's provider
(Spark's lean streaming adapters for the OpenAI-compatible and Anthropic wire formats,
litellm for the rest and for providers in ``SPARK_LLM_FORCE_LITELLM``, the offline demo),
picks credentials (the platform's key pool or the user's own keys, per their key mode,
healthiest first) and fails over to the next key on a 429, 5xx, timeout, connection error
or refused key **before the first event**; once output has started, errors propagate.
``complete`` is the non-streamed call evaluators use (the lean adapter's collected stream
for the OpenAI-compatible and Anthropic formats, ``SPARK_LLM_LEAN_COMPLETE`` on by default;
litellm for the rest, or for all with it off), ``generate_image``
makes images, ``check_key`` proves a key works and ``count_tokens`` sizes a context.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from functools import lru_cache
from typing import TypeVar

from django.conf import settings

from spark.llm.errors import AuthError, BadRequest, LLMError, ProviderUnavailable, RateLimited
from spark.llm.health import health_board
from spark.llm.keys import provider_base_url, resolve_credentials
from spark.llm.providers.anthropic import AnthropicAdapter
from spark.llm.providers.base import ChatAdapter
from spark.llm.providers.demo import DemoAdapter
from spark.llm.providers.litellm_adapter import (
    ROUTES,
    LiteLLMAdapter,
    count_message_tokens,
    rough_token_count,
)
from spark.llm.providers.openai_compat import OpenAICompatAdapter
from spark.llm.types import (
    ChatMessage,
    ChatRequest,
    Completion,
    Credentials,
    GeneratedImage,
    KeyContext,
    KeyUsed,
    StreamEvent,
)

AdapterFactory = Callable[[], ChatAdapter]
T = TypeVar("T")

# Errors after which another key may succeed (a refused key in a pool must not take the
# provider down for everyone).
FAILOVER_ERRORS = (RateLimited, ProviderUnavailable, AuthError)


def default_adapters() -> dict[str, ChatAdapter]:
    """The streaming adapter of each provider: lean for both wire formats, demo offline."""
    options = {
        "connect_timeout": settings.SPARK_LLM_CONNECT_TIMEOUT,
        "max_connections": settings.SPARK_LLM_MAX_CONNECTIONS,
    }
    return {
        "openai": OpenAICompatAdapter(
            "openai", max_tokens_param="max_completion_tokens", **options
        ),
        "anthropic": AnthropicAdapter("anthropic", **options),
        "gemini": OpenAICompatAdapter("gemini", **options),
        "xai": OpenAICompatAdapter("xai", **options),
        "openrouter": OpenAICompatAdapter(
            "openrouter",
            extra_headers={"X-Title": settings.SPARK_SITE_NAME},
            **options,
        ),
        "openai_compatible": OpenAICompatAdapter("openai_compatible", **options),
        "demo": DemoAdapter(),
    }


def forced_to_litellm(provider: str) -> bool:
    forced = settings.SPARK_LLM_FORCE_LITELLM
    return provider != "demo" and ("*" in forced or provider in forced)


class LLMGateway:
    def __init__(
        self,
        adapters: dict[str, ChatAdapter] | None = None,
        *,
        litellm: LiteLLMAdapter | None = None,
    ) -> None:
        self.adapters = adapters if adapters is not None else default_adapters()
        self.litellm = litellm or LiteLLMAdapter()  # imports litellm only when first called

    def adapter_for(self, provider: str) -> ChatAdapter:
        """The streaming adapter for ``provider``."""
        if provider not in self.adapters and provider not in ROUTES:
            raise BadRequest(f"Unknown provider {provider!r}.", provider=provider)
        if forced_to_litellm(provider) or provider not in self.adapters:
            return self.litellm
        return self.adapters[provider]

    def completer_for(self, provider: str) -> ChatAdapter:
        """The non-streaming adapter: with ``SPARK_LLM_LEAN_COMPLETE`` (the default) the
        provider's streaming adapter, whose ``complete()`` collects the stream (lean for the
        OpenAI-compatible and Anthropic formats, ~4–6 ms less per call than litellm;
        litellm for providers without one or forced onto it); with it off, litellm for
        every real provider. The demo offline."""
        if provider == "demo":
            return self.adapters.get("demo") or DemoAdapter()
        if provider not in ROUTES:
            raise BadRequest(f"Unknown provider {provider!r}.", provider=provider)
        if settings.SPARK_LLM_LEAN_COMPLETE:
            return self.adapter_for(provider)
        return self.litellm

    async def credentials_for(self, request: ChatRequest, keys: KeyContext | None) -> Credentials:
        """The credential the call would try first."""
        return (await resolve_credentials(request, keys))[0]

    async def stream(
        self, request: ChatRequest, *, keys: KeyContext | None = None
    ) -> AsyncGenerator[StreamEvent, None]:
        """``KeyUsed`` first, then the adapter's events. Fails over between keys only
        before the first event."""
        adapter = self.adapter_for(request.provider)
        candidates = await resolve_credentials(request, keys)
        for position, credentials in enumerate(candidates):
            events = adapter.stream(request, credentials)
            started_at = time.monotonic()
            first: StreamEvent | None = None
            try:
                first = await anext(events)
            except StopAsyncIteration:
                first = None
            except LLMError as error:
                health_board.record_failure(credentials.key_id, error)
                if isinstance(error, FAILOVER_ERRORS) and position + 1 < len(candidates):
                    continue
                raise
            health_board.record_success(credentials.key_id, time.monotonic() - started_at)
            yield KeyUsed(source=credentials.source, key_id=credentials.key_id)
            if first is None:
                return
            yield first
            try:
                async for event in events:
                    yield event
            except LLMError as error:
                health_board.record_failure(credentials.key_id, error)
                raise
            finally:
                await events.aclose()  # type: ignore[attr-defined]
            return

    async def _with_failover(
        self,
        request: ChatRequest,
        keys: KeyContext | None,
        call: Callable[[Credentials], Awaitable[T]],
    ) -> tuple[T, Credentials]:
        candidates = await resolve_credentials(request, keys)
        for position, credentials in enumerate(candidates):
            started_at = time.monotonic()
            try:
                result = await call(credentials)
            except LLMError as error:
                health_board.record_failure(credentials.key_id, error)
                if isinstance(error, FAILOVER_ERRORS) and position + 1 < len(candidates):
                    continue
                raise
            health_board.record_success(credentials.key_id, time.monotonic() - started_at)
            return result, credentials
        raise AssertionError("resolve_credentials never returns an empty list")

    async def complete(self, request: ChatRequest, *, keys: KeyContext | None = None) -> Completion:
        """The whole answer at once (evaluators), with the same key choice and failover."""
        adapter = self.completer_for(request.provider)
        completion, credentials = await self._with_failover(
            request, keys, lambda credentials: adapter.complete(request, credentials)
        )
        return dataclasses.replace(completion, key_source=credentials.source)

    async def generate_image(
        self,
        prompt: str,
        *,
        model: str = "gpt-image-1",
        provider: str = "openai",
        keys: KeyContext | None = None,
        size: str | None = None,
        quality: str | None = None,
        timeout: float = 120.0,
    ) -> GeneratedImage:
        """An image for ``prompt`` (bytes, or a URL where the provider keeps it)."""
        if provider not in ROUTES:
            raise BadRequest(f"{provider!r} does not make images.", provider=provider)
        request = ChatRequest(provider=provider, model=model, messages=(), timeout=timeout)
        image, credentials = await self._with_failover(
            request,
            keys,
            lambda credentials: self.litellm.generate_image(
                provider=provider,
                model=model,
                prompt=prompt,
                credentials=credentials,
                size=size,
                quality=quality,
                timeout=timeout,
            ),
        )
        return dataclasses.replace(image, key_source=credentials.source)

    async def check_key(self, provider: str, api_key: str, *, timeout: float = 15.0) -> int:
        """Prove a key works with a cheap real call (listing models); returns how many models
        it may use. Raises the typed error (``AuthError`` for a refused key)."""
        adapter = self.adapters.get(provider)
        if not isinstance(adapter, (OpenAICompatAdapter, AnthropicAdapter)):
            raise BadRequest(f"Keys for {provider!r} cannot be tested.", provider=provider)
        credentials = Credentials(api_key=api_key, base_url=provider_base_url(provider))
        return len(await adapter.list_models(credentials, timeout=timeout))


@lru_cache(maxsize=1)
def get_gateway() -> LLMGateway:
    """The process-wide gateway (adapters hold shared HTTP connection pools)."""
    return LLMGateway()


def count_tokens(model: str, messages: tuple[ChatMessage, ...] | list[ChatMessage]) -> int:
    """Tokens ``messages`` take in ``model``'s context window (the context builder fits
    history with it). Each message's count is cached by content hash, so recounting a
    growing conversation costs only the new messages."""
    if model == "demo":
        return sum(4 + rough_token_count(m.content) for m in messages) + 3
    return count_message_tokens(model, messages)
