"""The litellm adapter: every provider litellm knows, for calls the lean adapters skip.

``complete()`` for every provider (evaluators), streaming for providers forced onto
litellm (``SPARK_LLM_FORCE_LITELLM``), token counting and image generation. litellm is
imported on first use, never while Django loads, and with its remote price map off: the
suite and air-gapped installs have no internet.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator
from types import ModuleType
from typing import Any

from spark.llm.errors import (
    AuthError,
    BadRequest,
    ContentBlocked,
    LLMError,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
    StreamInterrupted,
)
from spark.llm.providers.openai_compat import FINISH_REASONS, openai_body
from spark.llm.types import (
    ChatMessage,
    ChatRequest,
    Completion,
    Credentials,
    FinishReason,
    GeneratedImage,
    StreamEnd,
    StreamEvent,
    TextDelta,
    ToolCall,
    ToolCallReady,
    Usage,
    UsageReport,
)

# litellm's model prefix per Spark provider. Gemini goes through Google's OpenAI-compatible
# endpoint (the base URL of the provider), like the lean adapter.
ROUTES = {
    "openai": "openai",
    "anthropic": "anthropic",
    "gemini": "openai",
    "xai": "xai",
    "openrouter": "openrouter",
    "openai_compatible": "openai",
}

OFFLINE_ENVIRONMENT = {
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "LITELLM_OFFLINE_MODE": "true",
    "HF_HUB_OFFLINE": "1",
}

_lock = threading.Lock()
_litellm: ModuleType | None = None
_loader: threading.Thread | None = None


def load_litellm() -> ModuleType:
    """Import and configure litellm once (~2.5 s, ~200 MiB), offline."""
    global _litellm
    if _litellm is not None:
        return _litellm
    with _lock:
        if _litellm is None:
            for name, value in OFFLINE_ENVIRONMENT.items():
                os.environ.setdefault(name, value)
            import litellm

            litellm.suppress_debug_info = True
            litellm.telemetry = False
            litellm.drop_params = True  # e.g. temperature for models that refuse it
            _litellm = litellm
    return _litellm


def load_litellm_in_background() -> None:
    """Start importing litellm in a thread, so the first token count does not stall a
    request for seconds (counts are approximate until it has loaded)."""
    global _loader
    with _lock:
        if _litellm is not None or _loader is not None:
            return
        _loader = threading.Thread(target=load_litellm, name="litellm-import", daemon=True)
        _loader.start()


def litellm_loaded() -> bool:
    return _litellm is not None


def litellm_model(provider: str, model: str) -> str:
    try:
        return f"{ROUTES[provider]}/{model}"
    except KeyError:
        raise BadRequest(f"litellm has no route for {provider!r}.", provider=provider) from None


def _kwargs(request: ChatRequest, credentials: Credentials) -> dict[str, Any]:
    """litellm's arguments: the Chat Completions body, routed, with the key and no retries."""
    kwargs = openai_body(request)
    kwargs.update(
        model=litellm_model(request.provider, request.model),
        api_key=credentials.api_key or "no-key",
        timeout=request.timeout,
        num_retries=0,
        max_retries=0,
    )
    if credentials.base_url:
        kwargs["api_base"] = credentials.base_url
    return kwargs


def _retry_after(error: Exception) -> float | None:
    for headers in (
        getattr(error, "litellm_response_headers", None),
        getattr(getattr(error, "response", None), "headers", None),
    ):
        if headers:
            for name in ("retry-after", "Retry-After"):
                value = headers.get(name)
                if value:
                    try:
                        return float(value)
                    except ValueError:
                        return None
    return None


def map_error(error: Exception, *, provider: str, started: bool = False) -> LLMError:
    """litellm's (OpenAI-SDK-shaped) exceptions as the gateway's typed errors."""
    litellm = load_litellm()
    message = str(getattr(error, "message", "") or error)
    if started:
        return StreamInterrupted(message, provider=provider)
    original = getattr(error, "original_exception", None)
    if type(error).__name__ == "MidStreamFallbackError" and isinstance(original, Exception):
        error = original  # litellm wraps failures inside a stream; the cause is what counts
    status = getattr(error, "status_code", None)
    if isinstance(error, litellm.ContentPolicyViolationError):
        return ContentBlocked(message, provider=provider, status=status)
    if isinstance(error, (litellm.AuthenticationError, litellm.PermissionDeniedError)):
        return AuthError(message, provider=provider, status=status)
    if isinstance(error, litellm.RateLimitError):
        return RateLimited(message, provider=provider, retry_after=_retry_after(error))
    if isinstance(error, litellm.Timeout):
        return ProviderTimeout(message, provider=provider, status=status)
    if isinstance(
        error,
        (litellm.BadRequestError, litellm.NotFoundError, litellm.UnprocessableEntityError),
    ):
        return BadRequest(message, provider=provider, status=status)
    return ProviderUnavailable(message, provider=provider, status=status)


def _usage(usage: Any) -> Usage:
    details = getattr(usage, "prompt_tokens_details", None)
    reasoning = getattr(usage, "completion_tokens_details", None)
    return Usage(
        input_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
        output_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
        cached_tokens=int(getattr(details, "cached_tokens", 0) or 0),
        reasoning_tokens=int(getattr(reasoning, "reasoning_tokens", 0) or 0),
    )


class LiteLLMAdapter:
    """Chat through ``litellm.acompletion``, mapped to Spark's events and errors."""

    name = "litellm"

    async def stream(
        self, request: ChatRequest, credentials: Credentials
    ) -> AsyncIterator[StreamEvent]:
        litellm = load_litellm()
        kwargs = _kwargs(request, credentials)
        started = False
        tools: dict[int, list[Any]] = {}
        finish: FinishReason | None = None
        usage: Usage | None = None
        try:
            response = await litellm.acompletion(
                stream=True, stream_options={"include_usage": True}, **kwargs
            )
            async for chunk in response:
                for choice in chunk.choices or ():
                    delta = choice.delta
                    content = getattr(delta, "content", None)
                    if content:
                        started = True
                        yield TextDelta(content)
                    for position, fragment in enumerate(getattr(delta, "tool_calls", None) or ()):
                        index = getattr(fragment, "index", None)
                        call = tools.setdefault(position if index is None else index, ["", "", []])
                        if fragment.id:
                            call[0] = fragment.id
                        function = fragment.function
                        if function is not None and function.name:
                            call[1] = function.name
                        if function is not None and function.arguments:
                            call[2].append(function.arguments)
                    if choice.finish_reason:
                        finish = FINISH_REASONS.get(choice.finish_reason, "stop")
                if getattr(chunk, "usage", None) is not None:
                    usage = _usage(chunk.usage)
        except LLMError:
            raise
        except Exception as error:
            raise map_error(error, provider=request.provider, started=started) from error
        for _index, call in sorted(tools.items()):
            yield ToolCallReady(
                ToolCall(id=call[0], name=call[1], arguments="".join(call[2]) or "{}")
            )
        if tools and finish in (None, "stop"):
            finish = "tool_calls"
        if usage is not None:
            yield UsageReport(usage)
        yield StreamEnd(finish or "stop")

    async def complete(self, request: ChatRequest, credentials: Credentials) -> Completion:
        litellm = load_litellm()
        try:
            response = await litellm.acompletion(**_kwargs(request, credentials))
        except Exception as error:
            raise map_error(error, provider=request.provider) from error
        choice = response.choices[0]
        message = choice.message
        calls = tuple(
            ToolCall(id=c.id, name=c.function.name or "", arguments=c.function.arguments or "{}")
            for c in (getattr(message, "tool_calls", None) or ())
        )
        finish = FINISH_REASONS.get(choice.finish_reason or "stop", "stop")
        return Completion(
            text=message.content or "",
            tool_calls=calls,
            usage=_usage(getattr(response, "usage", None)),
            finish_reason=finish,
            model=request.model,
        )

    async def generate_image(
        self,
        *,
        provider: str,
        model: str,
        prompt: str,
        credentials: Credentials,
        size: str | None = None,
        quality: str | None = None,
        timeout: float = 120.0,
    ) -> GeneratedImage:
        litellm = load_litellm()
        kwargs: dict[str, Any] = {
            "model": litellm_model(provider, model),
            "prompt": prompt,
            "api_key": credentials.api_key or "no-key",
            "timeout": timeout,
        }
        if credentials.base_url:
            kwargs["api_base"] = credentials.base_url
        if size:
            kwargs["size"] = size
        if quality:
            kwargs["quality"] = quality
        try:
            response = await litellm.aimage_generation(**kwargs)
        except Exception as error:
            raise map_error(error, provider=provider) from error
        item = response.data[0]
        b64 = getattr(item, "b64_json", None)
        data = None
        if b64:
            import base64

            data = base64.b64decode(b64)
        return GeneratedImage(
            data=data,
            url=getattr(item, "url", None),
            revised_prompt=getattr(item, "revised_prompt", None) or "",
        )


# --- token counting -------------------------------------------------------------------------

_TOKEN_CACHE_SIZE = 50_000
_token_cache: OrderedDict[tuple[str, bytes], int] = OrderedDict()
_token_lock = threading.Lock()
MESSAGE_OVERHEAD = 4  # role and separators, per message (OpenAI's accounting)


def _tokenizer_family(model: str) -> str:
    """Models that share a tokenizer share cache entries."""
    lowered = model.lower()
    if "claude" in lowered:
        return "claude-3-5-sonnet-20241022"
    if lowered.startswith(("gpt-4o", "gpt-4.1", "gpt-5", "o1", "o3", "o4", "chatgpt")):
        return "gpt-4o"
    return "gpt-4"


def rough_token_count(text: str) -> int:
    """The cheap fallback: about four characters a token."""
    return (len(text) + 3) // 4


def count_text_tokens(model: str, text: str) -> int:
    """Tokens in one text for ``model``'s tokenizer, cached by content hash."""
    if not text:
        return 0
    family = _tokenizer_family(model)
    key = (family, hashlib.blake2b(text.encode(), digest_size=16).digest())
    with _token_lock:
        cached = _token_cache.get(key)
        if cached is not None:
            _token_cache.move_to_end(key)
            return cached
    if _litellm is None:
        load_litellm_in_background()
        return rough_token_count(text)  # not cached: exact once litellm has loaded
    try:
        count = int(_litellm.token_counter(model=family, text=text))
    except Exception:  # noqa: BLE001 - a tokenizer problem must never break a chat
        count = rough_token_count(text)
    with _token_lock:
        _token_cache[key] = count
        if len(_token_cache) > _TOKEN_CACHE_SIZE:
            _token_cache.popitem(last=False)
    return count


def count_message_tokens(model: str, messages: tuple[ChatMessage, ...] | list[ChatMessage]) -> int:
    total = 3  # every reply is primed with a few tokens
    for message in messages:
        total += MESSAGE_OVERHEAD + count_text_tokens(model, message.content)
        for call in message.tool_calls:
            total += count_text_tokens(model, call.name) + count_text_tokens(model, call.arguments)
    return total


def local_price_map_size() -> int:
    """How many models litellm's bundled price map knows (proves it loaded offline)."""
    return len(load_litellm().model_cost)
