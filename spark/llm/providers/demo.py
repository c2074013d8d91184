"""The offline ``demo`` provider: a fresh install answers with no keys and no network.

Its reply is clearly labelled, deterministic (derived from the conversation), streamed
word by word, and it calls a tool when the user asks it to, so every part of the send
pipeline can be seen working offline.
"""

from __future__ import annotations

import asyncio
import hashlib
import html as html_lib
import json
import re
from collections.abc import AsyncIterator
from typing import Any

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
    "rationale": "The offline demo evaluator found nothing wrong with this message.",
    "hint": "",
}

# The offline guard's judgement: the well-known shapes of attacks (the ones ``seed_demo``
# suggests trying), checked on the newest user message of the transcript, in this order.
# Ordinary messages match none of them (tests/llm/test_demo_evaluator.py holds it to the
# watchdog's own lists of attacks and ordinary messages).
DEMO_ATTACKS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (category, re.compile(pattern, re.IGNORECASE))
    for category, pattern in (
        (
            "prompt_injection",
            r"\b(?:ignore|disregard|forget|override|bypass)\b[^.!?\n]{0,40}?"
            r"\b(?:previous|prior|above|earlier|all|your|system|original)\s+"
            r"(?:\w+\s+)?(?:instructions?|rules|directions|directives|guidelines|prompts?)\b"
            r"|<\|im_start\|>|\[/?inst\]|\[system[^\]]*\]|###\s*new system prompt",
        ),
        (
            "system_info_extraction",
            r"\b(?:reveal|show|print|repeat|output|display|leak|dump|tell me|give me)\b"
            r"[^.!?\n]{0,40}?\byour\s+(?:\w+\s+)?(?:system\s+prompt|instructions|"
            r"configuration|api\s+keys?|secret\s+keys?|secrets|password)\b",
        ),
        (
            "jailbreak",
            r"\b(?:you\s+are|you're|act\s+as|pretend\s+to\s+be|become)\s+(?:now\s+)?(?:a\s+|an\s+)?"
            r"(?:dan|jailbroken|unrestricted|unfiltered|uncensored)\b"
            r"|\bstands\s+for\s+do\s+anything\s+now\b"
            r"|\byou\s+(?:are|'re)\s+now\s+(?:in|running\s+in)\s+developer\s+mode\b"
            r"|\b(?:chatgpt|ai|assistant|you)\s+with\s+developer\s+mode\b"
            r"|\byou\b[^.!?\n]{0,30}?\b(?:no|without\s+any)\s+(?:restrictions|filters|rules)\b",
        ),
        (
            "malicious_code",
            r"\b(?:write|create|build|code|make|generate)\s+(?:me\s+)?(?:a|an|some)\s+(?:\w+\s+)?"
            r"(?:malware|ransomware|keylogger|botnet|reverse\s+shell)\b"
            r"(?!\s+(?:detection|visuali[sz]ation|checklist|report|trends|analysis))",
        ),
    )
)
_TRANSCRIPT_LINE = re.compile(r"^\[(user|assistant|system|tool)\] ", re.MULTILINE)
_SCREEN_NOTE = re.compile(r"The local screen flagged this message \(rule ([^)\s]+)\)")
# What a screen rule's name says about its category, for a flagged message the demo's own
# patterns do not place (rules are named like "en.dan" or "es.ignora_anteriores").
_RULE_HINTS = (
    ("jailbreak", ("dan", "jailbr", "developer", "persona", "restriction", "filter", "unfilter")),
    ("system_info_extraction", ("prompt", "secret", "config", "leak", "reveal", "key")),
    ("malicious_code", ("malware", "exploit", "shell", "payload", "virus")),
)
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


def _newest_user_message(text: str) -> str:
    """The last ``[user]`` line of an evaluator's transcript (or the whole text without one)."""
    starts = [m for m in _TRANSCRIPT_LINE.finditer(text) if m.group(1) == "user"]
    if not starts:
        return text
    rest = text[starts[-1].end() :]
    following = _TRANSCRIPT_LINE.search(rest)
    end = following.start() if following else rest.find("<<<END TRANSCRIPT")
    return rest[: end if end >= 0 else None].strip()


def demo_verdict(messages: tuple[ChatMessage, ...]) -> dict[str, object]:
    """The offline evaluator's answer: deterministic, and useful enough to watch the
    watchdog work. The guard blocks the newest user message when it has the shape of a
    known attack, or when the local screen flagged it; everything else goes through. The
    post-watchdog (``event_type``) always finds the exchange in order."""
    asked = _last(messages, "user")
    text = asked.content if asked is not None else ""
    newest = _newest_user_message(text)
    category = next((name for name, pattern in DEMO_ATTACKS if pattern.search(newest)), None)
    note = _SCREEN_NOTE.search(text)
    if category is None and note is not None:
        rule = note.group(1).lower()
        category = next(
            (name for name, hints in _RULE_HINTS if any(h in rule for h in hints)),
            "prompt_injection",
        )
    if category is None:
        return dict(DEMO_VERDICT)
    why = f" (the local screen's rule {note.group(1)})" if note is not None else ""
    return {
        **DEMO_VERDICT,
        "verdict": "block",
        "category": category,
        "severity": "redirect",
        "confidence": 0.9,
        "rationale": (
            f"The offline demo guard recognised a known {category.replace('_', ' ')} pattern{why}."
        ),
    }


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
        if request.metadata.get("spark_task") == "landing_page":
            # The landing-page wizard (marketplace.wizard): a real page for the answers.
            text = json.dumps(demo_landing_page(request.messages))
            usage = Usage(input_tokens=input_tokens, output_tokens=_count_tokens(text))
            return Completion(text=text, usage=usage, model=request.model)
        if request.response_format is not None:
            # Evaluators (the watchdog) ask for JSON: the offline demo's deterministic verdict.
            text = json.dumps(demo_verdict(request.messages))
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


# --- the landing-page wizard's offline designer ------------------------------------------------

# Per style: the page's fonts, shapes and layout. Colours come from the creator's answers.
_STYLE_CSS = {
    "minimal": (
        "body{font-family:system-ui,sans-serif;background:%(bg)s;color:%(text)s}"
        ".hero{max-width:40rem;margin:0 auto;padding:6rem 1.5rem 3rem;text-align:left}"
        ".hero h1{font-weight:300;font-size:2.6rem;letter-spacing:-.02em;margin:0 0 1rem}"
        ".cta{display:inline-block;padding:.7rem 1.4rem;border:2px solid %(accent)s;"
        "color:%(accent)s;text-decoration:none;border-radius:4px}"
        ".points{max-width:40rem;margin:0 auto;padding:0 1.5rem 4rem;list-style:none}"
        ".points li{padding:.9rem 0;border-top:1px solid rgba(127,127,127,.3)}"
    ),
    "bold": (
        "body{font-family:Impact,'Arial Black',sans-serif;background:%(bg)s;color:%(text)s}"
        ".hero{background:%(accent)s;color:%(on_accent)s;padding:5rem 1.5rem;text-align:center}"
        ".hero h1{font-size:3.6rem;text-transform:uppercase;line-height:1;margin:0 0 1rem}"
        ".cta{display:inline-block;padding:1rem 2.2rem;background:%(on_accent)s;"
        "color:%(accent)s;font-size:1.3rem;text-decoration:none;text-transform:uppercase}"
        ".points{display:grid;grid-template-columns:repeat(auto-fit,minmax(14rem,1fr));gap:1rem;"
        "max-width:60rem;margin:2rem auto;padding:0 1.5rem;list-style:none}"
        ".points li{padding:1.5rem;border:4px solid %(accent)s;font-size:1.2rem}"
    ),
    "editorial": (
        "body{font-family:Georgia,'Times New Roman',serif;background:%(bg)s;color:%(text)s}"
        ".hero{max-width:46rem;margin:0 auto;padding:4rem 1.5rem 2rem;"
        "border-bottom:3px double %(accent)s}"
        ".hero h1{font-size:3rem;font-style:italic;margin:0 0 .5rem}"
        ".hero p{font-size:1.25rem;line-height:1.7}"
        ".cta{color:%(accent)s;font-variant:small-caps;font-size:1.2rem}"
        ".points{max-width:46rem;margin:2rem auto;padding:0 1.5rem;columns:2;column-gap:2rem}"
    ),
    "playful": (
        "body{font-family:'Comic Sans MS','Trebuchet MS',sans-serif;background:%(bg)s;"
        "color:%(text)s}"
        ".hero{max-width:44rem;margin:2rem auto;padding:3rem 1.5rem;text-align:center;"
        "border-radius:2rem;background:rgba(127,127,127,.08)}"
        ".hero h1{font-size:2.8rem;margin:0 0 1rem}"
        ".cta{display:inline-block;padding:.9rem 2rem;border-radius:999px;"
        "background:%(accent)s;color:%(on_accent)s;text-decoration:none;"
        "box-shadow:0 6px 0 rgba(0,0,0,.2)}"
        ".points{display:flex;flex-wrap:wrap;justify-content:center;gap:.8rem;padding:1rem;"
        "list-style:none}"
        ".points li{padding:.7rem 1.2rem;border-radius:1.2rem;border:2px dashed %(accent)s}"
    ),
}
_HEADLINES = {
    "minimal": "{name}.",
    "bold": "Meet {name}",
    "editorial": "The case for {name}",
    "playful": "Say hi to {name}!",
}
_CTA = {"en": "Start chatting", "es": "Empieza a chatear"}
_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")


def _html_text(text: str) -> str:
    return html_lib.escape(text, quote=True)


def _on(colour: str) -> str:
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return "#111111" if (0.299 * r + 0.587 * g + 0.114 * b) > 150 else "#ffffff"


def demo_landing_page(messages: tuple[ChatMessage, ...]) -> dict[str, str]:
    """The offline wizard's page: deterministic for the answers, distinct per style."""
    user = _last(messages, "user")
    try:
        answers = json.loads(user.content) if user is not None else {}
    except ValueError:
        answers = {}
    answers = answers if isinstance(answers, dict) else {}
    about = answers.get("prompt")
    prompt: dict[str, Any] = about if isinstance(about, dict) else {}
    style = str(answers.get("style") or "")
    style = style if style in _STYLE_CSS else "minimal"
    name = str(prompt.get("name") or "Your assistant")[:80]
    description = str(prompt.get("description") or "")[:300]
    brief = str(answers.get("brief") or "")[:600]
    languages = [str(code) for code in answers.get("languages") or ["en"]][:4]
    colours = {
        key: value if isinstance(value, str) and _HEX.match(value) else default
        for key, value, default in (
            ("accent", answers.get("accent_colour"), "#5b4bdb"),
            ("text", answers.get("text_colour"), "#1d1d27"),
            ("bg", answers.get("background_colour"), "#ffffff"),
        )
    }
    colours["on_accent"] = _on(colours["accent"])
    points = [str(s)[:120] for s in prompt.get("conversation_starters") or []][:4] or [
        sentence.strip() for sentence in re.split(r"(?<=[.!?])\s+", brief) if sentence.strip()
    ][:4]
    items = "".join(f"<li>{_html_text(point)}</li>" for point in points)
    cta = _CTA.get(languages[0], _CTA["en"])
    others = "".join(
        f'<p lang="{_html_text(code)}"><a href="{{{{ spark.start_url }}}}">'
        f"{_html_text(_CTA.get(code, _CTA['en']))}</a></p>"
        for code in languages[1:]
    )
    headline = _HEADLINES[style].format(name=name)
    html = (
        f'<header class="hero demo-{style}"><h1>{_html_text(headline)}</h1>'
        f"<p>{_html_text(description or brief)}</p>"
        f'<p><a class="cta" href="{{{{ spark.start_url }}}}">{_html_text(cta)}</a></p></header>'
        f'<section><ul class="points">{items}</ul>{others}</section>'
        f"<footer><p><small>{_html_text(brief)}</small></p></footer>"
    )
    return {
        "title": headline[:120],
        "description": (description or brief)[:300],
        "html": html,
        "css": _STYLE_CSS[style] % colours,
    }
