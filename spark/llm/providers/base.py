"""The adapter protocol every provider implements."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from spark.llm.types import ChatRequest, Completion, Credentials, StreamEvent


class ChatAdapter(Protocol):
    """Streams and completes chat requests for one wire format.

    ``stream`` yields ``TextDelta``/``ToolCallReady``/``UsageReport`` events and ends with
    one ``StreamEnd``; it raises a ``spark.llm.errors.LLMError`` subclass on failure
    (before the first event: the gateway may fail over to another key).
    """

    name: str

    def stream(
        self, request: ChatRequest, credentials: Credentials
    ) -> AsyncIterator[StreamEvent]: ...

    async def complete(self, request: ChatRequest, credentials: Credentials) -> Completion: ...
