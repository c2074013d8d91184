"""Frozen request/response types of the LLM gateway. Every adapter speaks these."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Role = Literal["system", "user", "assistant", "tool"]
FinishReason = Literal["stop", "tool_calls", "length", "content_filter", "error"]


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A complete tool call requested by the model. ``arguments`` is a JSON string."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True, slots=True)
class ChatMessage:
    role: Role
    content: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None  # for role="tool": which call this answers
    name: str | None = None


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A tool offered to the model: a name, a description and a JSON-schema for arguments."""

    name: str
    description: str
    parameters: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Credentials:
    """How to reach a provider for one call: the key and, for compatible servers, a URL."""

    api_key: str | None = None
    base_url: str | None = None
    key_id: str | None = None  # which pool key or BYOK key this is (for health scoring)
    source: Literal["platform", "user", "none"] = "platform"


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """One chat call. ``provider`` is a catalogue provider (openai, anthropic, gemini, xai,
    openrouter, openai_compatible, demo); ``model`` the provider's model id."""

    provider: str
    model: str
    messages: tuple[ChatMessage, ...]
    tools: tuple[ToolSpec, ...] = ()
    temperature: float | None = None
    max_tokens: int | None = None
    response_format: dict[str, Any] | None = None  # e.g. {"type": "json_object"}
    timeout: float = 120.0
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    reasoning_tokens: int = 0


# --- stream events ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TextDelta:
    text: str


@dataclass(frozen=True, slots=True)
class ToolCallReady:
    """A tool call whose arguments have fully arrived."""

    call: ToolCall


@dataclass(frozen=True, slots=True)
class UsageReport:
    usage: Usage


@dataclass(frozen=True, slots=True)
class StreamEnd:
    finish_reason: FinishReason


@dataclass(frozen=True, slots=True)
class KeyUsed:
    """Which key the gateway settled on (emitted once, before the first delta): billing
    charges no provider cost for the user's own key."""

    source: Literal["platform", "user", "none"]
    key_id: str | None = None


StreamEvent = TextDelta | ToolCallReady | UsageReport | StreamEnd | KeyUsed


KeyMode = Literal["own_only", "system_only", "prefer_own"]


@dataclass(frozen=True, slots=True)
class KeyContext:
    """Whose keys a call may use: the user's own (BYOK) and/or the platform's."""

    user_id: int | None = None
    mode: KeyMode = "system_only"


@dataclass(frozen=True, slots=True)
class Completion:
    """A whole (non-streamed) answer."""

    text: str
    tool_calls: tuple[ToolCall, ...] = ()
    usage: Usage = Usage()
    finish_reason: FinishReason = "stop"
    model: str = ""
    key_source: Literal["platform", "user", "none"] = "platform"  # whose key answered


@dataclass(frozen=True, slots=True)
class GeneratedImage:
    """An image made by a provider: its bytes, or a URL where the provider keeps it."""

    data: bytes | None = None
    url: str | None = None
    revised_prompt: str = ""
    key_source: Literal["platform", "user", "none"] = "platform"  # whose key made it
