"""The offline ``demo`` provider: a fresh install answers with no keys and no network.

Its reply is clearly labelled, deterministic (derived from the conversation), streamed
word by word, and it calls a tool when the user asks it to, so every part of the send
pipeline can be seen working offline.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator

from spark.llm.types import (
    ChatMessage,
    ChatRequest,
    Completion,
    Credentials,
    StreamEnd,
    StreamEvent,
    TextDelta,
    ToolCall,
    ToolCallReady,
    Usage,
    UsageReport,
)

LABEL = "**Demo model** (offline, no AI)"
DEMO_VERDICT = {
    "verdict": "allow",
    "event_type": "none",
    "category": "none",
    "severity": "info",
    "confidence": 1.0,
    "rationale": "The offline demo evaluator lets every message through.",
    "hint": "",
}
TOOL_TRIGGERS = {"search": "web_search", "image": "generate_image", "draw": "generate_image"}


def _count_tokens(text: str) -> int:
    """A rough token count (the demo has no tokenizer): about 4 characters a token."""
    return max(1, (len(text) + 3) // 4) if text else 0


def _last(messages: tuple[ChatMessage, ...], role: str) -> ChatMessage | None:
    return next((m for m in reversed(messages) if m.role == role), None)


def _requested_tool(request: ChatRequest) -> ToolCall | None:
    """A tool call when the user asks for one (``search ...``, ``draw ...``) and it is offered."""
    offered = {tool.name for tool in request.tools}
    last = request.messages[-1] if request.messages else None
    if last is None or last.role != "user":
        return None  # after a tool result, the demo answers in words
    words = last.content.strip().split(maxsplit=1)
    if not words:
        return None
    tool = TOOL_TRIGGERS.get(words[0].lower().rstrip(":"))
    if tool is None or tool not in offered:
        return None
    argument = words[1] if len(words) > 1 else last.content
    key = "query" if tool == "web_search" else "prompt"
    digest = hashlib.sha256(last.content.encode()).hexdigest()[:12]
    return ToolCall(id=f"call_demo_{digest}", name=tool, arguments=json.dumps({key: argument}))


def _clip(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters at a word boundary, marked with "…"."""
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    if not text[limit - 1].isspace() and " " in head:
        head = head.rsplit(maxsplit=1)[0]
    return head.rstrip(" ,;:(") + "…"


def demo_reply(messages: tuple[ChatMessage, ...]) -> str:
    """The deterministic answer for a conversation."""
    system = _last(messages, "system")
    user = _last(messages, "user")
    tool = _last(messages, "tool")
    turns = sum(1 for m in messages if m.role == "user")
    asked = (user.content.strip() if user else "") or "(nothing)"
    lines = [
        f"{LABEL} — turn {turns}.",
        "",
        f"You said: “{_clip(asked, 400)}”",
    ]
    if tool is not None and tool.content:
        lines += ["", f"The tool answered: {_clip(tool.content, 400)}"]
    if system is not None and system.content.strip():
        # Never the text itself: a prompt's instructions are its creator's (and carry the
        # output guard's canary).
        words = len(system.content.split())
        lines += ["", f"I received a system prompt of {words} words; I keep it to myself."]
    lines += [
        "",
        "Here is a list, a table and some code, so you can see how answers render:",
        "",
        f"- {len(asked.split())} words in your message",
        f"- {len(messages)} messages in the context",
        "",
        "| what | value |",
        "| --- | --- |",
        f"| characters | {len(asked)} |",
        f"| fingerprint | `{hashlib.sha256(asked.encode()).hexdigest()[:8]}` |",
        "",
        "```python",
        f"print({asked[:40]!r})",
        "```",
        "",
        "Add a provider key (OpenAI, Anthropic, Gemini, xAI, OpenRouter or a local server) "
        "to talk to a real model.",
    ]
    return "\n".join(lines)


def _chunks(text: str) -> list[str]:
    """Word-sized pieces, keeping whitespace, like a real stream."""
    pieces, current = [], ""
    for char in text:
        current += char
        if char in " \n":
            pieces.append(current)
            current = ""
    if current:
        pieces.append(current)
    return pieces


class DemoAdapter:
    name = "demo"

    def __init__(self, *, delay: float | None = None) -> None:
        self._delay = delay

    @property
    def delay(self) -> float:
        """Seconds between streamed words (SPARK_DEMO_STREAM_DELAY_MS unless fixed)."""
        if self._delay is not None:
            return self._delay
        from django.conf import settings

        return float(getattr(settings, "SPARK_DEMO_STREAM_DELAY_MS", 15)) / 1000

    async def stream(
        self, request: ChatRequest, credentials: Credentials
    ) -> AsyncIterator[StreamEvent]:
        input_tokens = sum(_count_tokens(m.content) for m in request.messages)
        call = _requested_tool(request)
        if call is not None:
            await asyncio.sleep(self.delay)
            yield ToolCallReady(call=call)
            yield UsageReport(
                Usage(input_tokens=input_tokens, output_tokens=_count_tokens(call.arguments))
            )
            yield StreamEnd(finish_reason="tool_calls")
            return
        text = demo_reply(request.messages)
        delay = self.delay
        for piece in _chunks(text):
            if delay:
                await asyncio.sleep(delay)
            yield TextDelta(piece)
        yield UsageReport(Usage(input_tokens=input_tokens, output_tokens=_count_tokens(text)))
        yield StreamEnd(finish_reason="stop")

    async def complete(self, request: ChatRequest, credentials: Credentials) -> Completion:
        call = _requested_tool(request)
        input_tokens = sum(_count_tokens(m.content) for m in request.messages)
        if request.response_format is not None:
            # Evaluators (the watchdog) ask for JSON: the offline demo always lets things pass.
            text = json.dumps(DEMO_VERDICT)
            usage = Usage(input_tokens=input_tokens, output_tokens=_count_tokens(text))
            return Completion(text=text, usage=usage, model=request.model)
        if call is not None:
            usage = Usage(input_tokens=input_tokens, output_tokens=_count_tokens(call.arguments))
            return Completion(
                text="",
                tool_calls=(call,),
                usage=usage,
                finish_reason="tool_calls",
                model=request.model,
            )
        text = demo_reply(request.messages)
        usage = Usage(input_tokens=input_tokens, output_tokens=_count_tokens(text))
        return Completion(text=text, usage=usage, model=request.model)
