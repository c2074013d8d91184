"""Spark's lean streaming adapter for Anthropic's Messages API.

The system prompt goes in the top-level ``system`` field, tool calls are ``tool_use``
blocks, tool results ``tool_result`` blocks in a user turn; the stream is parsed event by
event (message_start, content_block_start/delta/stop, message_delta, message_stop, error).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson

from spark.llm.errors import (
    AuthError,
    BadRequest,
    LLMError,
    ProviderUnavailable,
    RateLimited,
    StreamInterrupted,
)
from spark.llm.providers.http import (
    SSEParser,
    error_for_status,
    list_model_ids,
    release_connection,
    shared_client,
    stream_failure,
    timeout_for,
)
from spark.llm.providers.openai_compat import collect
from spark.llm.types import (
    ChatMessage,
    ChatRequest,
    Completion,
    Credentials,
    FinishReason,
    StreamEnd,
    StreamEvent,
    TextDelta,
    ToolCall,
    ToolCallReady,
    Usage,
    UsageReport,
)

ANTHROPIC_VERSION = "2023-06-01"
DEFAULT_MAX_TOKENS = 4096

STOP_REASONS: dict[str, FinishReason] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}


def _arguments(raw: str) -> Any:
    try:
        return orjson.loads(raw or "{}")
    except orjson.JSONDecodeError:
        return {"_raw": raw}


def _blocks(message: ChatMessage) -> list[dict[str, Any]]:
    if message.role == "tool":
        return [
            {
                "type": "tool_result",
                "tool_use_id": message.tool_call_id or "",
                "content": message.content,
            }
        ]
    blocks: list[dict[str, Any]] = []
    if message.content:
        blocks.append({"type": "text", "text": message.content})
    for call in message.tool_calls:
        blocks.append(
            {
                "type": "tool_use",
                "id": call.id,
                "name": call.name,
                "input": _arguments(call.arguments),
            }
        )
    return blocks


def anthropic_body(request: ChatRequest) -> dict[str, Any]:
    """The Messages API body: system on top, alternating user/assistant turns of blocks."""
    system = "\n\n".join(m.content for m in request.messages if m.role == "system" and m.content)
    messages: list[dict[str, Any]] = []
    for message in request.messages:
        if message.role == "system":
            continue
        role = "assistant" if message.role == "assistant" else "user"
        blocks = _blocks(message)
        if not blocks:
            continue
        if messages and messages[-1]["role"] == role:
            messages[-1]["content"].extend(blocks)  # Anthropic wants turns to alternate
        else:
            messages.append({"role": role, "content": blocks})
    body: dict[str, Any] = {
        "model": request.model,
        "messages": messages,
        "max_tokens": request.max_tokens or DEFAULT_MAX_TOKENS,
    }
    if system:
        body["system"] = system
    if request.tools:
        body["tools"] = [
            {"name": t.name, "description": t.description, "input_schema": t.parameters}
            for t in request.tools
        ]
    if request.temperature is not None:
        body["temperature"] = request.temperature
    return body


def _error_from_event(error: dict[str, Any], *, provider: str) -> LLMError:
    kind = str(error.get("type", ""))
    message = str(error.get("message", kind or "error"))
    if kind == "rate_limit_error":
        return RateLimited(message, provider=provider)
    if kind in ("authentication_error", "permission_error"):
        return AuthError(message, provider=provider)
    if kind in ("invalid_request_error", "not_found_error", "request_too_large"):
        return BadRequest(message, provider=provider)
    return ProviderUnavailable(message, provider=provider)


class AnthropicAdapter:
    """Streams Anthropic's Messages API."""

    def __init__(
        self, name: str = "anthropic", *, connect_timeout: float = 10.0, max_connections: int = 500
    ) -> None:
        self.name = name
        self.connect_timeout = connect_timeout
        self.max_connections = max_connections

    def _headers(self, credentials: Credentials) -> dict[str, str]:
        return {
            "Content-Type": "application/json",
            "Accept": "text/event-stream",
            "anthropic-version": ANTHROPIC_VERSION,
            "x-api-key": credentials.api_key or "",
        }

    def _url(self, credentials: Credentials, path: str) -> str:
        base = (credentials.base_url or "https://api.anthropic.com").rstrip("/")
        return base.removesuffix("/v1") + path

    async def stream(
        self, request: ChatRequest, credentials: Credentials
    ) -> AsyncIterator[StreamEvent]:
        body = anthropic_body(request)
        body["stream"] = True
        client = shared_client(max_connections=self.max_connections)
        started = False
        try:
            async with client.stream(
                "POST",
                self._url(credentials, "/v1/messages"),
                content=orjson.dumps(body),
                headers=self._headers(credentials),
                timeout=timeout_for(request.timeout, self.connect_timeout),
            ) as response:
                if response.status_code >= 400:
                    raw = await response.aread()
                    raise error_for_status(
                        response.status_code, raw, response.headers, provider=self.name
                    )
                parser = SSEParser()
                tools: dict[int, list[Any]] = {}  # block index -> [id, name, [json parts]]
                input_tokens = cached = output_tokens = 0
                finish: FinishReason = "stop"
                stopped = False
                chunks = response.aiter_bytes()
                async for chunk in chunks:
                    for _event, data in parser.feed(chunk):
                        payload = orjson.loads(data)
                        kind = payload.get("type")
                        if kind == "content_block_delta":
                            delta = payload.get("delta") or {}
                            if delta.get("type") == "text_delta":
                                if delta.get("text"):
                                    started = True
                                    yield TextDelta(delta["text"])
                            elif delta.get("type") == "input_json_delta":
                                tool = tools.get(payload.get("index", 0))
                                if tool is not None:
                                    tool[2].append(delta.get("partial_json", ""))
                        elif kind == "content_block_start":
                            block = payload.get("content_block") or {}
                            if block.get("type") == "tool_use":
                                tools[payload.get("index", 0)] = [
                                    block.get("id", ""),
                                    block.get("name", ""),
                                    [],
                                ]
                        elif kind == "content_block_stop":
                            tool = tools.pop(payload.get("index", 0), None)
                            if tool is not None:
                                started = True
                                call = ToolCall(
                                    id=tool[0], name=tool[1], arguments="".join(tool[2]) or "{}"
                                )
                                yield ToolCallReady(call)
                        elif kind == "message_start":
                            usage = (payload.get("message") or {}).get("usage") or {}
                            cached = int(usage.get("cache_read_input_tokens") or 0)
                            input_tokens = (
                                int(usage.get("input_tokens") or 0)
                                + cached
                                + int(usage.get("cache_creation_input_tokens") or 0)
                            )
                            output_tokens = int(usage.get("output_tokens") or 0)
                        elif kind == "message_delta":
                            reason = (payload.get("delta") or {}).get("stop_reason")
                            if reason:
                                finish = STOP_REASONS.get(reason, "stop")
                            usage = payload.get("usage") or {}
                            if usage.get("output_tokens") is not None:
                                output_tokens = int(usage["output_tokens"])
                        elif kind == "message_stop":
                            stopped = True
                        elif kind == "error":
                            error = _error_from_event(
                                payload.get("error") or {}, provider=self.name
                            )
                            if started:
                                raise StreamInterrupted(error.message, provider=self.name)
                            raise error
                    if stopped:
                        break
                if not stopped:
                    raise StreamInterrupted(
                        "The provider closed the stream before it finished.", provider=self.name
                    )
                await release_connection(chunks)
                yield UsageReport(
                    Usage(
                        input_tokens=input_tokens, output_tokens=output_tokens, cached_tokens=cached
                    )
                )
                yield StreamEnd(finish)
        except LLMError:
            raise
        except (httpx.HTTPError, orjson.JSONDecodeError) as error:
            raise stream_failure(error, started=started, provider=self.name) from error

    async def complete(self, request: ChatRequest, credentials: Credentials) -> Completion:
        return await collect(self.stream(request, credentials), request.model)

    async def list_models(self, credentials: Credentials, *, timeout: float = 15.0) -> list[str]:
        """The models the key may use: a cheap call that proves a key works."""
        return await list_model_ids(
            self._url(credentials, "/v1/models"),
            self._headers(credentials),
            provider=self.name,
            timeout=timeout_for(timeout, self.connect_timeout),
            max_connections=self.max_connections,
        )
