"""Protocol-faithful fakes of the OpenAI and Anthropic HTTP APIs, for tests and benchmarks.

Each fake is a real HTTP server on 127.0.0.1 (an ephemeral port) run by aiohttp on its
own event loop in a background thread, so sync tests, async tests and benchmarks all talk
to it over the wire, and Spark's adapters, litellm and vendor SDKs run for real.

Scripting (see docs/llm.md for the full guide)::

    fake_openai.script(Reply("Hello there"))              # the next model call answers this
    fake_openai.script(RateLimit(retry_after=2), key="sk-a")  # only a call made with key sk-a
    fake_openai.script(ToolCallReply("web_search", {"query": "cats"}))
    fake_openai.default = Reply("fallback")               # when nothing scripted matches
    fake_openai.script(Comply(chunk_chars=3))             # echoes the call's system prompt
    fake_openai.requests / .model_calls / .keys_used      # what the fake received

A *model call* is a request to a generation endpoint (``/chat/completions``,
``/v1/messages``, ``/images/generations``): each one takes the first scripted behaviour
whose ``key`` matches the call's API key (or is ``None``), else the default. ``/models``
lists models and never consumes a behaviour.
"""

from __future__ import annotations

import abc
import asyncio
import base64
import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Self

from aiohttp import web

# --- behaviours ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """A model answer: text and/or tool calls, streamed as the wire format streams them.

    ``first_token_delay``: seconds before the first chunk (headers are sent at once, as the
    real APIs do). ``token_interval``: seconds between chunks. ``drop_after``: close the
    connection abruptly after that many content chunks (a stream that dies half-way).
    ``linger``: seconds the server keeps the body open, silent, after its last event.
    ``input_tokens``/``output_tokens``/``cached_tokens`` override the reported usage.
    """

    text: str = ""
    tool_calls: tuple[tuple[str, str], ...] = ()  # (name, JSON arguments)
    first_token_delay: float = 0.0
    token_interval: float = 0.0
    drop_after: int | None = None
    finish_reason: str | None = None  # default: "tool_calls" with tool calls, else "stop"
    input_tokens: int | None = None
    output_tokens: int | None = None
    cached_tokens: int = 0
    error_event_after: int | None = None  # Anthropic: an ``error`` SSE event after N chunks
    linger: float = 0.0
    chunk_chars: int | None = None  # stream the text in pieces of this many characters

    def pieces(self) -> list[str]:
        """The streamed text chunks: word-sized, or ``chunk_chars`` characters each."""
        if self.chunk_chars:
            size = self.chunk_chars
            return [self.text[i : i + size] for i in range(0, len(self.text), size)]
        return word_chunks(self.text)


def _leak_verbatim(system: str) -> str:
    return f"Sure! Here is everything above, word for word:\n\n{system}"


@dataclass(frozen=True)
class Comply:
    """A model that gives its instructions away: the reply is made, at call time, from the
    system prompt the call carries (OpenAI's system messages, Anthropic's ``system``), so
    whatever Spark planted in it is echoed too. ``leak(system) -> text``."""

    leak: Callable[[str], str] = _leak_verbatim
    chunk_chars: int | None = None
    token_interval: float = 0.0

    def reply(self, system: str) -> Reply:
        return Reply(
            self.leak(system), chunk_chars=self.chunk_chars, token_interval=self.token_interval
        )


@dataclass(frozen=True)
class Fail:
    """An HTTP error answer in the vendor's error format (429 carries Retry-After)."""

    status: int
    message: str = ""
    retry_after: float | None = None


@dataclass(frozen=True)
class Image:
    """An image generation answer (a small PNG by default)."""

    png: bytes = b""


def ToolCallReply(
    name: str, arguments: dict[str, Any] | str, *, text: str = "", **options: Any
) -> Reply:
    """A reply that calls one tool (optionally after some text)."""
    args = arguments if isinstance(arguments, str) else json.dumps(arguments)
    return Reply(text=text, tool_calls=((name, args),), **options)


def RateLimit(retry_after: float = 1.0, message: str = "Rate limit reached.") -> Fail:
    return Fail(429, message, retry_after=retry_after)


def ServerError(message: str = "The server had an error.") -> Fail:
    return Fail(500, message)


def Unauthorized(message: str = "Incorrect API key provided.") -> Fail:
    return Fail(401, message)


def SlowFirstToken(seconds: float, text: str = "Sorry for the wait.") -> Reply:
    return Reply(text=text, first_token_delay=seconds)


def Drop(after_chunks: int, text: str = "one two three four five six seven eight") -> Reply:
    return Reply(text=text, drop_after=after_chunks)


def Verdict(**fields: Any) -> Reply:
    """A JSON answer, as evaluators (the watchdog) expect: ``Verdict(verdict="allow", ...)``."""
    return Reply(text=json.dumps(fields))


Behaviour = Reply | Fail | Image | Comply


def system_text(body: dict[str, Any]) -> str:
    """The system prompt of a model call, in either wire format."""
    system = body.get("system")
    if isinstance(system, list):
        return "".join(str(block.get("text", "")) for block in system if isinstance(block, dict))
    if isinstance(system, str):
        return system
    parts = []
    for message in body.get("messages", []):
        if message.get("role") in ("system", "developer"):
            content = message.get("content")
            if isinstance(content, list):
                content = "".join(str(part.get("text", "")) for part in content)
            parts.append(str(content))
    return "\n\n".join(parts)


# A 1x1 transparent PNG.
TINY_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


def word_chunks(text: str) -> list[str]:
    """Word-sized pieces keeping whitespace: each one is a streamed chunk (and a token)."""
    pieces, current = [], ""
    for char in text:
        current += char
        if char in " \n":
            pieces.append(current)
            current = ""
    if current:
        pieces.append(current)
    return pieces


def _argument_chunks(arguments: str, size: int = 7) -> list[str]:
    return [arguments[i : i + size] for i in range(0, len(arguments), size)] or [""]


def estimate_tokens(body: dict[str, Any]) -> int:
    """The fake's input token count: about four characters a token, deterministic."""
    text = json.dumps(body.get("messages", []), ensure_ascii=False)
    text += json.dumps(body.get("system", ""), ensure_ascii=False)
    return max(1, len(text) // 4)


# --- requests -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    json: Any
    api_key: str | None
    peer: str = ""  # the client's address and port: one per TCP connection
    at: float = field(default_factory=time.monotonic)

    @property
    def is_model_call(self) -> bool:
        return self.method == "POST" and self.path.endswith(MODEL_CALL_SUFFIXES)


MODEL_CALL_SUFFIXES = ("/chat/completions", "/v1/messages", "/images/generations")


# --- the server ---------------------------------------------------------------------------


class _LoopThread:
    """An asyncio loop in a daemon thread, shared by every fake of the process."""

    _instance: _LoopThread | None = None
    _lock = threading.Lock()

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="llm-fakes", daemon=True)
        self.thread.start()

    @classmethod
    def get(cls) -> _LoopThread:
        with cls._lock:
            if cls._instance is None:
                cls._instance = _LoopThread()
            return cls._instance

    def run(self, coro: Any, timeout: float = 30) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)


class FakeLLMServer(abc.ABC):
    """Base of the fakes: scripting, recording, lifecycle. Subclasses speak a wire format."""

    kind = "base"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._script: list[tuple[str | None, Behaviour]] = []
        self._key_defaults: dict[str, Behaviour] = {}
        self.default: Behaviour = Reply("Hello from the fake model.")
        self.requests: list[RecordedRequest] = []
        self.valid_keys: set[str] | None = None  # None: any non-empty key is accepted
        self.require_key = True  # False: keyless calls pass too (a local Ollama or vLLM)
        self.record = True  # False: keep no request log (long benchmark runs)
        self.models = ["fake-model"]
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.active_streams = 0

    # lifecycle
    def start(self) -> Self:
        loops = _LoopThread.get()
        loops.run(self._start())
        return self

    async def _start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, backlog=1024)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    def stop(self) -> None:
        if self._runner is not None:
            _LoopThread.get().run(self._runner.cleanup())
            self._runner = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # scripting
    def script(self, *behaviours: Behaviour, key: str | None = None) -> None:
        """Queue behaviours for the next model calls (only calls made with ``key`` if given)."""
        with self._lock:
            self._script.extend((key, behaviour) for behaviour in behaviours)

    def set_default(self, behaviour: Behaviour, *, key: str | None = None) -> None:
        """What a model call gets when nothing scripted matches (per key, or for all)."""
        with self._lock:
            if key is None:
                self.default = behaviour
            else:
                self._key_defaults[key] = behaviour

    def reset(self) -> None:
        with self._lock:
            self._script.clear()
            self._key_defaults.clear()
            self.default = Reply("Hello from the fake model.")
            self.requests.clear()
            self.valid_keys = None
            self.require_key = True
            self.models = ["fake-model"]
            self.record = True

    @property
    def pending(self) -> int:
        """How many scripted behaviours are still waiting for a call."""
        with self._lock:
            return len(self._script)

    def _next_behaviour(self, api_key: str | None) -> Behaviour:
        with self._lock:
            for index, (key, behaviour) in enumerate(self._script):
                if key is None or key == api_key:
                    del self._script[index]
                    return behaviour
            if api_key is not None and api_key in self._key_defaults:
                return self._key_defaults[api_key]
            return self.default

    # what was received
    @property
    def model_calls(self) -> list[RecordedRequest]:
        return [r for r in list(self.requests) if r.is_model_call]

    @property
    def keys_used(self) -> list[str | None]:
        return [r.api_key for r in self.model_calls]

    # HTTP
    @abc.abstractmethod
    def _api_key(self, request: web.Request) -> str | None:
        """The credential the request carries, read the vendor's way."""

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        recorded = RecordedRequest(
            method=request.method,
            path=request.path,
            headers={k.lower(): v for k, v in request.headers.items()},
            json=body,
            api_key=self._api_key(request),
            peer=str(request.transport.get_extra_info("peername") if request.transport else ""),
        )
        if self.record:
            self.requests.append(recorded)
        return await self.handle(request, recorded)

    @abc.abstractmethod
    async def handle(self, request: web.Request, recorded: RecordedRequest) -> web.StreamResponse:
        """Answer one request in the vendor's wire format."""

    def _key_refused(self, api_key: str | None) -> bool:
        if not api_key:
            return self.require_key
        return self.valid_keys is not None and api_key not in self.valid_keys

    async def _stream(
        self,
        request: web.Request,
        reply: Reply,
        frames: Iterator[tuple[bytes, bool]],
    ) -> web.StreamResponse:
        """Send SSE frames; each ``(frame, is_content)``. Honours delays and drops."""
        response = web.StreamResponse(
            status=200,
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"},
        )
        await response.prepare(request)
        self.active_streams += 1
        try:
            sent_content = 0
            first = True
            for frame, is_content in frames:
                if is_content:
                    if first and reply.first_token_delay:
                        await asyncio.sleep(reply.first_token_delay)
                    elif not first and reply.token_interval:
                        await asyncio.sleep(reply.token_interval)
                    first = False
                    if reply.drop_after is not None and sent_content >= reply.drop_after:
                        assert request.transport is not None
                        request.transport.abort()
                        return response
                    sent_content += 1
                await response.write(frame)
            if reply.linger:
                await asyncio.sleep(reply.linger)
            await response.write_eof()
        finally:
            self.active_streams -= 1
        return response

    def new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):06d}"


def sse(data: Any, event: str | None = None) -> bytes:
    payload = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {payload}\n\n".encode()


class FakeOpenAI(FakeLLMServer):
    """OpenAI's Chat Completions API (and every OpenAI-compatible server: xAI, OpenRouter,
    Gemini's OpenAI endpoint, Ollama, vLLM). Any path prefix is accepted, so a base URL of
    ``{base_url}/v1`` or ``{base_url}/v1beta/openai`` both work."""

    kind = "openai"

    def _api_key(self, request: web.Request) -> str | None:
        auth = request.headers.get("Authorization", "")
        return auth[7:] if auth.startswith("Bearer ") else None

    def _error(self, fail: Fail) -> web.Response:
        kinds = {
            401: ("invalid_request_error", "invalid_api_key"),
            429: ("requests", "rate_limit_exceeded"),
            400: ("invalid_request_error", None),
        }
        kind, code = kinds.get(fail.status, ("server_error", None))
        headers = {}
        if fail.retry_after is not None:
            headers["Retry-After"] = f"{fail.retry_after:g}"
        body = {
            "error": {
                "message": fail.message or "Error",
                "type": kind,
                "param": None,
                "code": code,
            }
        }
        return web.json_response(body, status=fail.status, headers=headers)

    async def handle(self, request: web.Request, recorded: RecordedRequest) -> web.StreamResponse:
        path = request.path
        if request.method == "GET" and path.endswith("/models"):
            if self._key_refused(recorded.api_key):
                return self._error(Unauthorized())
            data = [
                {"id": m, "object": "model", "created": 1_700_000_000, "owned_by": "spark-fake"}
                for m in self.models
            ]
            return web.json_response({"object": "list", "data": data})
        if request.method != "POST" or not path.endswith(MODEL_CALL_SUFFIXES):
            return web.json_response(
                {"error": {"message": "Not found", "type": "invalid_request_error"}}, status=404
            )
        if self._key_refused(recorded.api_key):
            return self._error(Unauthorized())
        body = recorded.json or {}
        behaviour = self._next_behaviour(recorded.api_key)
        if isinstance(behaviour, Fail):
            return self._error(behaviour)
        if isinstance(behaviour, Comply):
            behaviour = behaviour.reply(system_text(body))
        if path.endswith("/images/generations"):
            return await self._image(body, behaviour)
        reply = behaviour if isinstance(behaviour, Reply) else Reply("")
        if body.get("stream"):
            return await self._stream(request, reply, self._chunks(body, reply))
        return await self._complete(request, body, reply)

    async def _image(self, body: dict[str, Any], behaviour: Behaviour) -> web.Response:
        png = behaviour.png if isinstance(behaviour, Image) and behaviour.png else TINY_PNG
        item: dict[str, Any]
        if body.get("response_format") == "url":
            item = {"url": f"{self.base_url}/files/image-{next(self._ids)}.png"}
        else:
            item = {"b64_json": base64.b64encode(png).decode()}
        item["revised_prompt"] = body.get("prompt", "")
        return web.json_response({"created": int(time.time()), "data": [item]})

    def _usage(self, body: dict[str, Any], reply: Reply) -> dict[str, Any]:
        prompt = reply.input_tokens if reply.input_tokens is not None else estimate_tokens(body)
        completion = reply.output_tokens
        if completion is None:
            completion = len(word_chunks(reply.text)) + sum(
                max(1, len(a) // 4) for _, a in reply.tool_calls
            )
        return {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": reply.cached_tokens, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
        }

    def _finish(self, reply: Reply) -> str:
        return reply.finish_reason or ("tool_calls" if reply.tool_calls else "stop")

    def _chunks(self, body: dict[str, Any], reply: Reply) -> Iterator[tuple[bytes, bool]]:
        cid = self.new_id("chatcmpl-fake")
        model = body.get("model", "fake-model")
        created = int(time.time())

        def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
            return sse(
                {
                    "id": cid,
                    "object": "chat.completion.chunk",
                    "created": created,
                    "model": model,
                    "system_fingerprint": "fp_fake",
                    "choices": [
                        {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
                    ],
                }
            )

        yield chunk({"role": "assistant", "content": "", "refusal": None}), False
        for piece in reply.pieces():
            yield chunk({"content": piece}), True
        for index, (name, arguments) in enumerate(reply.tool_calls):
            call_id = self.new_id("call_fake")
            head = {
                "index": index,
                "id": call_id,
                "type": "function",
                "function": {"name": name, "arguments": ""},
            }
            yield chunk({"tool_calls": [head]}), True
            for part in _argument_chunks(arguments):
                yield (
                    chunk({"tool_calls": [{"index": index, "function": {"arguments": part}}]}),
                    True,
                )
        yield chunk({}, self._finish(reply)), False
        if (body.get("stream_options") or {}).get("include_usage"):
            usage = {
                "id": cid,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "system_fingerprint": "fp_fake",
                "choices": [],
                "usage": self._usage(body, reply),
            }
            yield sse(usage), False
        yield sse("[DONE]"), False

    async def _complete(
        self, request: web.Request, body: dict[str, Any], reply: Reply
    ) -> web.StreamResponse:
        if reply.first_token_delay:
            await asyncio.sleep(reply.first_token_delay)
        if reply.drop_after is not None:
            assert request.transport is not None
            request.transport.abort()
            return web.Response()
        message: dict[str, Any] = {
            "role": "assistant",
            "content": reply.text or None,
            "refusal": None,
        }
        if reply.tool_calls:
            message["tool_calls"] = [
                {
                    "id": self.new_id("call_fake"),
                    "type": "function",
                    "function": {"name": name, "arguments": arguments},
                }
                for name, arguments in reply.tool_calls
            ]
        return web.json_response(
            {
                "id": self.new_id("chatcmpl-fake"),
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model", "fake-model"),
                "system_fingerprint": "fp_fake",
                "choices": [
                    {
                        "index": 0,
                        "message": message,
                        "logprobs": None,
                        "finish_reason": self._finish(reply),
                    }
                ],
                "usage": self._usage(body, reply),
            }
        )


class FakeAnthropic(FakeLLMServer):
    """Anthropic's Messages API (``/v1/messages``, streamed and not) and ``/v1/models``."""

    kind = "anthropic"

    def _api_key(self, request: web.Request) -> str | None:
        return request.headers.get("x-api-key")

    def _error(self, fail: Fail) -> web.Response:
        kinds = {
            400: "invalid_request_error",
            401: "authentication_error",
            403: "permission_error",
            404: "not_found_error",
            429: "rate_limit_error",
            529: "overloaded_error",
        }
        headers = {}
        if fail.retry_after is not None:
            headers["retry-after"] = f"{fail.retry_after:g}"
        body = {
            "type": "error",
            "error": {"type": kinds.get(fail.status, "api_error"), "message": fail.message},
        }
        return web.json_response(body, status=fail.status, headers=headers)

    async def handle(self, request: web.Request, recorded: RecordedRequest) -> web.StreamResponse:
        path = request.path
        if request.method == "GET" and path.endswith("/v1/models"):
            if self._key_refused(recorded.api_key):
                return self._error(Unauthorized("invalid x-api-key"))
            data = [
                {
                    "type": "model",
                    "id": m,
                    "display_name": m,
                    "created_at": "2025-01-01T00:00:00Z",
                }
                for m in self.models
            ]
            return web.json_response(
                {
                    "data": data,
                    "has_more": False,
                    "first_id": data[0]["id"],
                    "last_id": data[-1]["id"],
                }
            )
        if request.method != "POST" or not path.endswith("/v1/messages"):
            return self._error(Fail(404, "Not found"))
        if self._key_refused(recorded.api_key):
            return self._error(Unauthorized("invalid x-api-key"))
        if not request.headers.get("anthropic-version"):
            return self._error(Fail(400, "anthropic-version header is required"))
        body = recorded.json or {}
        if "max_tokens" not in body:
            return self._error(Fail(400, "max_tokens: Field required"))
        if any(m.get("role") == "system" for m in body.get("messages", [])):
            return self._error(Fail(400, 'messages: Unexpected role "system".'))
        behaviour = self._next_behaviour(recorded.api_key)
        if isinstance(behaviour, Fail):
            return self._error(behaviour)
        if isinstance(behaviour, Comply):
            behaviour = behaviour.reply(system_text(body))
        reply = behaviour if isinstance(behaviour, Reply) else Reply("")
        if body.get("stream"):
            return await self._stream(request, reply, self._events(body, reply))
        return await self._complete(request, body, reply)

    def _stop_reason(self, reply: Reply) -> str:
        mapping = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use"}
        if reply.finish_reason:
            return mapping.get(reply.finish_reason, reply.finish_reason)
        return "tool_use" if reply.tool_calls else "end_turn"

    def _tokens(self, body: dict[str, Any], reply: Reply) -> tuple[int, int]:
        prompt = reply.input_tokens if reply.input_tokens is not None else estimate_tokens(body)
        completion = reply.output_tokens
        if completion is None:
            completion = len(word_chunks(reply.text)) + sum(
                max(1, len(a) // 4) for _, a in reply.tool_calls
            )
        return prompt, completion

    def _events(self, body: dict[str, Any], reply: Reply) -> Iterator[tuple[bytes, bool]]:
        prompt, completion = self._tokens(body, reply)
        message = {
            "id": self.new_id("msg_fake"),
            "type": "message",
            "role": "assistant",
            "content": [],
            "model": body.get("model", "fake-model"),
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {
                "input_tokens": prompt,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": reply.cached_tokens,
                "output_tokens": 1,
            },
        }
        yield sse({"type": "message_start", "message": message}, "message_start"), False
        index = 0
        sent = 0
        if reply.text:
            start = {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""},
            }
            yield sse(start, "content_block_start"), False
            yield sse({"type": "ping"}, "ping"), False
            for piece in reply.pieces():
                if reply.error_event_after is not None and sent >= reply.error_event_after:
                    error = {
                        "type": "error",
                        "error": {"type": "overloaded_error", "message": "Overloaded"},
                    }
                    yield sse(error, "error"), False
                    return
                delta = {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {"type": "text_delta", "text": piece},
                }
                yield sse(delta, "content_block_delta"), True
                sent += 1
            yield sse({"type": "content_block_stop", "index": 0}, "content_block_stop"), False
            index = 1
        for offset, (name, arguments) in enumerate(reply.tool_calls):
            block = {
                "type": "content_block_start",
                "index": index + offset,
                "content_block": {
                    "type": "tool_use",
                    "id": self.new_id("toolu_fake"),
                    "name": name,
                    "input": {},
                },
            }
            yield sse(block, "content_block_start"), True
            for part in _argument_chunks(arguments):
                delta = {
                    "type": "content_block_delta",
                    "index": index + offset,
                    "delta": {"type": "input_json_delta", "partial_json": part},
                }
                yield sse(delta, "content_block_delta"), True
            yield (
                sse({"type": "content_block_stop", "index": index + offset}, "content_block_stop"),
                False,
            )
        message_delta = {
            "type": "message_delta",
            "delta": {"stop_reason": self._stop_reason(reply), "stop_sequence": None},
            "usage": {"output_tokens": completion},
        }
        yield sse(message_delta, "message_delta"), False
        yield sse({"type": "message_stop"}, "message_stop"), False

    async def _complete(
        self, request: web.Request, body: dict[str, Any], reply: Reply
    ) -> web.StreamResponse:
        if reply.first_token_delay:
            await asyncio.sleep(reply.first_token_delay)
        if reply.drop_after is not None:
            assert request.transport is not None
            request.transport.abort()
            return web.Response()
        prompt, completion = self._tokens(body, reply)
        content: list[dict[str, Any]] = []
        if reply.text:
            content.append({"type": "text", "text": reply.text})
        for name, arguments in reply.tool_calls:
            content.append(
                {
                    "type": "tool_use",
                    "id": self.new_id("toolu_fake"),
                    "name": name,
                    "input": json.loads(arguments),
                }
            )
        return web.json_response(
            {
                "id": self.new_id("msg_fake"),
                "type": "message",
                "role": "assistant",
                "model": body.get("model", "fake-model"),
                "content": content,
                "stop_reason": self._stop_reason(reply),
                "stop_sequence": None,
                "usage": {
                    "input_tokens": prompt,
                    "output_tokens": completion,
                    "cache_creation_input_tokens": 0,
                    "cache_read_input_tokens": reply.cached_tokens,
                },
            }
        )
