"""Token counting for fitting conversations into a model's context window.

``estimate_tokens`` is a cheap estimate (about four characters a token, never zero for
non-empty text) used on hot paths; exact counting belongs to the provider adapters.
"""

from __future__ import annotations

from collections.abc import Iterable

from spark.llm.types import ChatMessage

MESSAGE_OVERHEAD_TOKENS = 4  # role and separators, as OpenAI counts them


def estimate_tokens(text: str) -> int:
    return (len(text) + 3) // 4


def estimate_message_tokens(messages: Iterable[ChatMessage]) -> int:
    total = 0
    for message in messages:
        total += MESSAGE_OVERHEAD_TOKENS + estimate_tokens(message.content)
        for call in message.tool_calls:
            total += estimate_tokens(call.name) + estimate_tokens(call.arguments)
    return total
