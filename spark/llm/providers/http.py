"""What the lean adapters share: one pooled httpx client per event loop, an incremental
SSE parser, and the mapping of HTTP failures to the gateway's typed errors."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson

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

_clients: dict[asyncio.AbstractEventLoop, httpx.AsyncClient] = {}

DEFAULT_MAX_CONNECTIONS = 500


def shared_client(*, max_connections: int = DEFAULT_MAX_CONNECTIONS) -> httpx.AsyncClient:
    """The process's HTTP client for the running event loop (connections are reused).

    httpx clients belong to one event loop; Daphne runs one, while tests and
    ``async_to_sync`` make others, so there is one client per live loop.
    """
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None or client.is_closed:
        for stale in [other for other in _clients if other.is_closed()]:
            del _clients[stale]
        client = httpx.AsyncClient(
            limits=httpx.Limits(
                max_connections=max_connections,
                max_keepalive_connections=max_connections,
                keepalive_expiry=30,
            ),
            follow_redirects=False,
        )
        _clients[loop] = client
    return client


async def close_shared_client() -> None:
    """Close the running loop's client (tests and benchmarks call this before the loop ends)."""
    client = _clients.pop(asyncio.get_running_loop(), None)
    if client is not None:
        await client.aclose()


# After a stream's last event, what may be left to read (the chunked body's terminator,
# trailing blank lines) and how long to wait for it before giving the connection up.
DRAIN_MAX_BYTES = 64 * 1024
DRAIN_TIMEOUT_SECONDS = 0.5


async def release_connection(chunks: AsyncIterator[bytes]) -> None:
    """Read the rest of a stream whose last event has arrived, so that its connection goes
    back to the pool instead of being closed (the next call to the provider then skips the
    TCP and TLS handshakes). A server that keeps sending, or stays silent, after its last
    event only costs the connection: it is closed when the response is."""

    async def drain() -> None:
        read = 0
        async for chunk in chunks:
            read += len(chunk)
            if read > DRAIN_MAX_BYTES:
                return

    with contextlib.suppress(TimeoutError, httpx.HTTPError):
        await asyncio.wait_for(drain(), DRAIN_TIMEOUT_SECONDS)


def timeout_for(read_timeout: float, connect_timeout: float) -> httpx.Timeout:
    """``read_timeout`` bounds every silence: the wait for the first token and between chunks."""
    return httpx.Timeout(connect=connect_timeout, read=read_timeout, write=30.0, pool=30.0)


class SSEParser:
    """Incremental Server-Sent Events parser: feed bytes as they arrive, get whole events.

    Yields ``(event, data)`` with ``event`` the ``event:`` field (``b""`` when absent) and
    ``data`` the joined ``data:`` lines. Comments and unknown fields are skipped.
    """

    __slots__ = ("_buffer", "_data", "_event")

    def __init__(self) -> None:
        self._buffer = b""
        self._event = b""
        self._data: list[bytes] = []

    def feed(self, chunk: bytes) -> list[tuple[bytes, bytes]]:
        buffer = self._buffer + chunk
        if b"\r" in buffer:
            buffer = buffer.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        lines = buffer.split(b"\n")
        self._buffer = lines.pop()  # the unfinished line (b"" when the chunk ended a line)
        events: list[tuple[bytes, bytes]] = []
        for line in lines:
            if not line:
                if self._data:
                    events.append((self._event, b"\n".join(self._data)))
                self._event, self._data = b"", []
            elif line.startswith(b"data:"):
                value = line[5:]
                self._data.append(value[1:] if value.startswith(b" ") else value)
            elif line.startswith(b"event:"):
                self._event = line[6:].strip()
        return events


def retry_after_seconds(headers: httpx.Headers) -> float | None:
    """Retry-After (seconds) or retry-after-ms, when the provider sent one."""
    value = headers.get("retry-after-ms")
    if value:
        try:
            return float(value) / 1000
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value:
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _error_message(body: bytes) -> tuple[str, str]:
    """The provider's error message and type/code from an OpenAI- or Anthropic-style body."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body[:300].decode(errors="replace"), ""
    error: Any = data.get("error", data) if isinstance(data, dict) else data
    if isinstance(error, dict):
        kind = str(error.get("code") or error.get("type") or "")
        return str(error.get("message") or kind or "error"), kind
    return str(error)[:300], ""


CONTENT_FILTER_CODES = {"content_filter", "content_policy_violation"}


def error_for_status(
    status: int, body: bytes, headers: httpx.Headers, *, provider: str
) -> LLMError:
    """The typed error for a provider's non-2xx answer."""
    message, kind = _error_message(body)
    if status in (401, 403):
        return AuthError(message, provider=provider, status=status)
    if status == 429:
        return RateLimited(
            message, provider=provider, status=status, retry_after=retry_after_seconds(headers)
        )
    if status == 408:
        return ProviderTimeout(message, provider=provider, status=status)
    if status >= 500:
        return ProviderUnavailable(message, provider=provider, status=status)
    if kind in CONTENT_FILTER_CODES:
        return ContentBlocked(message, provider=provider, status=status)
    return BadRequest(message, provider=provider, status=status)


def error_for_transport(error: httpx.HTTPError, *, provider: str) -> LLMError:
    """The typed error for a failure to reach the provider (before any output)."""
    if isinstance(error, httpx.TimeoutException):
        return ProviderTimeout(
            f"The provider did not answer in time ({error!r}).", provider=provider
        )
    return ProviderUnavailable(f"Could not reach the provider ({error!r}).", provider=provider)


def stream_failure(
    error: httpx.HTTPError | orjson.JSONDecodeError, *, started: bool, provider: str
) -> LLMError:
    """The typed error for a stream that broke: an interruption once output has been
    yielded (the partial answer is kept), else the failure to start."""
    if started:
        if isinstance(error, httpx.TimeoutException):
            message = "The provider stopped sending in the middle of the answer."
        else:
            message = f"The connection to the provider broke mid-answer ({error!r})."
        return StreamInterrupted(message, provider=provider)
    if isinstance(error, httpx.TimeoutException):
        return ProviderTimeout("The provider did not start answering in time.", provider=provider)
    if isinstance(error, httpx.HTTPError):
        return error_for_transport(error, provider=provider)
    return StreamInterrupted("The provider sent malformed data.", provider=provider)


async def list_model_ids(
    url: str,
    headers: dict[str, str],
    *,
    provider: str,
    timeout: httpx.Timeout,
    max_connections: int = DEFAULT_MAX_CONNECTIONS,
) -> list[str]:
    """The ``id`` of each model a ``GET /models`` answers (OpenAI and Anthropic shapes)."""
    client = shared_client(max_connections=max_connections)
    try:
        response = await client.get(url, headers=headers, timeout=timeout)
    except httpx.HTTPError as error:
        raise error_for_transport(error, provider=provider) from error
    if response.status_code >= 400:
        raise error_for_status(
            response.status_code, response.content, response.headers, provider=provider
        )
    return [str(m.get("id")) for m in orjson.loads(response.content).get("data", [])]
