"""The send pipeline: every user message, from every channel, goes through here.

Stages are listed in ``SPARK_PIPELINE`` (like middleware). Each is a class whose
instances are ``async def __call__(self, turn, call_next)``; a stage may change the turn,
refuse it (raise ``TurnRefused``/``TurnBlocked``), or call ``await call_next(turn)`` to
go on. Chat ships AccessGate, BuildContext and Generate; billing and the watchdog plug
their stages in through the setting, without changes to chat. A stage that must read the
answer as it streams appends an ``OutputFilter`` to ``turn.output_filters``: Generate
publishes only what the filters release, and stops the answer when one raises
``OutputBlocked`` (docs/pipeline.md).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from spark.llm.types import ChatMessage, KeyContext, ToolSpec, Usage

if TYPE_CHECKING:
    from accounts.models import AlterEgo, Tenant, User
    from chat.events import TurnEvents
    from chat.models import Conversation, Message
    from marketplace.models import Prompt
    from spark.llm.models import LLMModel

CallNext = Callable[["Turn"], Awaitable[None]]


class Stage(Protocol):
    async def __call__(self, turn: Turn, call_next: CallNext) -> None: ...


class TurnRefused(Exception):
    """A stage will not let this turn go on (locked, no funds, no access...).

    Transports answer with ``status`` and ``{"code", "message", "details"?}``; on the
    socket it is an ``error`` frame.
    """

    def __init__(self, message: str, *, code: str, status: int = 400, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.details = details


class TurnBlocked(Exception):
    """The message must not reach the model (the watchdog's verdict).

    The user sees ``reason`` (a polite, translated refusal); ``message.blocked`` on the
    socket, HTTP 409 on the API. The conversation keeps working.
    """

    def __init__(self, reason: str, *, category: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.category = category


class OutputBlocked(TurnBlocked):
    """An output filter stopped the answer while it streamed (``stage`` "output").

    Generate stops the model at once; nothing the filter held back is shown; the answer's
    text becomes ``reason`` and clients replace what they showed of it
    (``message.blocked`` with ``stage`` "output").
    """

    def __init__(self, reason: str, *, category: str, rule: str = "") -> None:
        super().__init__(reason, category=category)
        self.rule = rule


class OutputFilter(Protocol):
    """Reads the answer as it streams, before any client sees it (a stage installs one in
    ``turn.output_filters``; the watchdog's output guard is one)."""

    def feed(self, text: str) -> str:
        """A delta in; the text that may be shown now out (it may hold some back).
        Raises ``OutputBlocked`` to stop the answer."""
        ...

    def finish(self) -> str:
        """The stream (or a tool round of it) ended: what it still holds, to show."""
        ...


@dataclass(frozen=True)
class ExtraUsage:
    """Model usage a stage caused beside the answer (an evaluator, a tool), for billing."""

    kind: str  # e.g. "evaluator", "tool:generate_image"
    model_slug: str
    usage: Usage
    key_source: str = "platform"
    reference: str = ""  # what caused it (an event id), for idempotency
    # A tool use priced per use in the catalogue (``spark.llm.models.ToolPrice``), not by
    # tokens: the tool and its variant ("generate_image", "1024x1024/medium").
    tool: str = ""
    variant: str = ""


@dataclass(frozen=True)
class SuppliedText:
    """Text a client sent along with its message that reaches the model (or that it named
    for it): untrusted, so stages that judge input judge it like the message itself.

    ``role``: ``system`` (system and developer messages), ``persona`` (the alter ego the
    user presents as), ``user``/``assistant`` (earlier turns the client says were said),
    ``tool_call`` (a function name or arguments an assistant turn says it called),
    ``tool`` (a tool result it sends), ``name`` (a participant's ``name``). Each piece is
    the client's raw text, as it wrote it.
    """

    role: str
    content: str
    message_id: int | None = None  # the row an earlier turn was stored as


@dataclass
class Turn:
    """Everything about one user message on its way through the pipeline."""

    # who, where, what
    tenant: Tenant
    user: User
    conversation: Conversation
    channel: str  # websocket | rest | sse | openai | whatsapp | voice
    text: str
    client_id: str = ""
    attachments: list[dict[str, Any]] = field(default_factory=list)
    regenerate: Message | None = None  # answer this user message again
    edit_of: Message | None = None  # this text replaces that user message
    client_ip: str = ""
    # earlier turns, tool results and names the client sent with this message (the
    # OpenAI-compatible API); chat.stages.client_supplied adds what it stored before
    supplied: list[SuppliedText] = field(default_factory=list)
    # An API request (REST, the OpenAI-compatible API): if the turn is refused, what it
    # wrote is removed (the browser keeps a refused message, marked not sent, to resend).
    discard_if_refused: bool = False
    conversation_opened: bool = False  # this request opened the conversation

    # resolved by AccessGate
    prompt: Prompt | None = None
    model: LLMModel | None = None
    alter_ego: AlterEgo | None = None
    user_message: Message | None = None
    assistant_message: Message | None = None
    key_context: KeyContext = field(default_factory=KeyContext)

    # prepared by stages before Generate
    hints: list[str] = field(default_factory=list)  # supervision hints for the model only
    extra_system: list[str] = field(default_factory=list)
    replace_system: str | None = None  # a stage answering in the assistant's persona
    context: list[ChatMessage] = field(default_factory=list)
    tools: list[ToolSpec] = field(default_factory=list)
    input_token_estimate: int = 0
    output_filters: list[OutputFilter] = field(default_factory=list)

    # results of Generate
    text_out: str = ""
    tool_log: list[dict[str, Any]] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    key_source: str = "platform"
    status: str = "streaming"
    error_code: str = ""
    error_message: str = ""
    cost_micros: int = 0
    # What the cost is made of (chat.costs.CostPart dicts), set by billing with it.
    cost_parts: list[dict[str, Any]] = field(default_factory=list)
    extra_usage: list[ExtraUsage] = field(default_factory=list)
    blocked: OutputBlocked | None = None  # an output filter stopped the answer

    # plumbing
    events: TurnEvents | None = None
    cancel: asyncio.Event = field(default_factory=asyncio.Event)
    state: dict[str, Any] = field(default_factory=dict)  # stage-owned data, keyed by stage
    completion_written: bool = False

    def emit(self, event: dict[str, Any]) -> None:
        if self.events is not None:
            self.events.emit(event)

    def filter_output(self, text: str) -> str:
        """``text`` through the output filters: what may be shown now."""
        for output_filter in self.output_filters:
            text = output_filter.feed(text)
        return text

    def finish_output(self) -> str:
        """Everything the output filters still hold, once the stream (or a round) ended."""
        text = ""
        for output_filter in self.output_filters:
            text = output_filter.feed(text) + output_filter.finish()
        return text

    @property
    def assistant_id(self) -> str:
        return str(self.assistant_message.uuid) if self.assistant_message else ""


@lru_cache(maxsize=4)
def load_stages(paths: tuple[str, ...]) -> tuple[Stage, ...]:
    return tuple(import_string(path)() for path in paths)


def pipeline_stages() -> tuple[Stage, ...]:
    return load_stages(tuple(settings.SPARK_PIPELINE))


async def run_stages(turn: Turn, stages: tuple[Stage, ...] | None = None) -> None:
    """Run the turn through the stages, in order."""
    chain = stages if stages is not None else pipeline_stages()

    async def call(index: int, current: Turn) -> None:
        if index < len(chain):
            await chain[index](current, lambda t: call(index + 1, t))

    await call(0, turn)
