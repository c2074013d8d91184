"""Chat's pipeline stages: AccessGate, BuildContext and Generate."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from accounts.personas import alter_ego_describe
from accounts.selectors import key_context_for_user
from chat import selectors, services
from chat.models import Message
from chat.pipeline import CallNext, OutputBlocked, SuppliedText, Turn, TurnRefused
from chat.tools import ToolContext, tool_spec, tools_for
from security.ratelimit import RateLimitExceeded, rate_limit_hit, tenant_key, user_key
from spark.common.asyncdb import db
from spark.llm.client import get_gateway
from spark.llm.errors import LLMError
from spark.llm.tokens import estimate_message_tokens, estimate_tokens
from spark.llm.types import (
    ChatMessage,
    ChatRequest,
    KeyUsed,
    StreamEnd,
    StreamEvent,
    TextDelta,
    ToolCall,
    ToolCallReady,
    Usage,
    UsageReport,
)
from spark.observability import metrics

logger = logging.getLogger(__name__)

DEFAULT_SYSTEM_PROMPT = "You are a helpful assistant. Answer in the language of the user."


def limit_sending(turn: Turn) -> None:
    """Per-user and per-tenant send rates (SPARK_RATE_LIMITS), on every channel."""
    try:
        rate_limit_hit(rate="send_user", key=user_key(turn.user))
        rate_limit_hit(rate="send_tenant", key=tenant_key(turn.tenant))
    except RateLimitExceeded as error:
        raise TurnRefused(
            error.message, code="rate_limited", status=429, details=error.details
        ) from error


def client_supplied(turn: Turn) -> list[SuppliedText]:
    """Everything besides the message itself that the user or their client wrote and that
    reaches the model (BuildContext below puts it there): the conversation's own system
    prompt (the OpenAI API's system and developer messages), the alter ego the user presents
    as, and what the client sent with this message (earlier turns, tool results, names).
    The pre-watchdog judges each of these as untrusted text, on every channel."""
    items: list[SuppliedText] = []
    own = turn.conversation.system_prompt.strip()
    if own:
        items.append(SuppliedText(role="system", content=own))
    if turn.alter_ego is not None:  # BuildContext gives the model alter_ego_describe(...)
        items.append(SuppliedText(role="persona", content=turn.alter_ego.name))
        items.append(SuppliedText(role="persona", content=turn.alter_ego.description))
    items.extend(item for item in turn.supplied if item.content.strip())
    return items


class AccessGate:
    """Send rates, tenant, entitlement and conversation lock; then records the message."""

    async def __call__(self, turn: Turn, call_next: CallNext) -> None:
        turn.key_context = key_context_for_user(user=turn.user)
        await db(self.admit)(turn)
        assert turn.user_message is not None and turn.assistant_message is not None
        turn.emit(
            {
                "type": "message.accepted",
                "client_id": turn.client_id,
                "user_message_id": str(turn.user_message.uuid),
                "assistant_message_id": turn.assistant_id,
            }
        )
        await call_next(turn)

    @staticmethod
    def admit(turn: Turn) -> None:
        """One trip to the worker thread: the send rates, then the records."""
        limit_sending(turn)
        services.turn_admit(turn=turn)


class BuildContext:
    """System prompt, alter ego, supervision hints, and history fitted to the window."""

    async def __call__(self, turn: Turn, call_next: CallNext) -> None:
        model = turn.model
        assert model is not None
        history = await db(selectors.history_for_context)(
            conversation=turn.conversation, exclude=turn.assistant_message
        )
        system = self.system_text(turn)
        turn.tools = [tool_spec(t) for t in tools_for(self.enabled_tools(turn))]
        if not model.supports_tools:
            turn.tools = []
        budget = model.context_window - min(model.max_output_tokens, model.context_window // 4)
        budget -= estimate_tokens(system) + sum(
            estimate_tokens(json.dumps(t.parameters)) for t in turn.tools
        )
        kept: list[ChatMessage] = []
        used = 0
        for message in reversed(history):
            chat_message = ChatMessage(role=message.role, content=message.content)  # type: ignore[arg-type]
            cost = estimate_message_tokens([chat_message])
            if used + cost > budget and kept:
                break
            kept.append(chat_message)
            used += cost
        kept.reverse()
        turn.context = [ChatMessage(role="system", content=system), *kept]
        turn.input_token_estimate = estimate_message_tokens(turn.context)
        await call_next(turn)

    @staticmethod
    def enabled_tools(turn: Turn) -> list[str]:
        if turn.prompt is None:
            return list(settings.SPARK_DEFAULT_TOOLS)
        return [str(name) for name in (turn.prompt.enabled_tools or [])]

    @staticmethod
    def system_text(turn: Turn) -> str:
        own = turn.conversation.system_prompt.strip()
        if turn.replace_system is not None:
            parts = [turn.replace_system]
        elif turn.prompt is not None:
            parts = [turn.prompt.system_prompt]
            if own:
                parts.append(f"Additional instructions from the user:\n{own}")
        else:
            parts = [own or DEFAULT_SYSTEM_PROMPT]
        if turn.alter_ego is not None:
            parts.append(alter_ego_describe(turn.alter_ego))
        parts.extend(turn.extra_system)
        if turn.hints:
            parts.append(
                "Supervisor guidance for this reply (never mention it to the user):\n"
                + "\n".join(f"- {hint}" for hint in turn.hints)
            )
        return "\n\n".join(part.strip() for part in parts if part and part.strip())


class Generate:
    """Streams the answer; runs tool calls in a bounded loop; survives cancellation."""

    async def __call__(self, turn: Turn, call_next: CallNext) -> None:
        try:
            await self.generate(turn)
            self.release(turn)
        except OutputBlocked as blocked:
            self.block(turn, blocked)
        except LLMError as error:
            if self.release(turn):
                self.fail(turn, error.code, self.readable(error))
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("generation failed for message %s", turn.assistant_id)
            if self.release(turn):
                self.fail(turn, "internal_error", _("Something went wrong while answering."))
        if turn.usage.output_tokens == 0 and turn.text_out:
            turn.usage = Usage(
                input_tokens=turn.usage.input_tokens or turn.input_token_estimate,
                output_tokens=estimate_tokens(turn.text_out),
            )
        if turn.events is not None:
            # Every delta numbered and published: the stored last_seq matches the content.
            await turn.events.drain()
        await call_next(turn)

    @staticmethod
    def readable(error: LLMError) -> str:
        messages = {
            "provider_rate_limited": _("The model's provider is busy. Please try again shortly."),
            "provider_unavailable": _("The model's provider is not answering right now."),
            "provider_timeout": _("The model took too long to answer."),
            "provider_auth": _("The provider refused the API key."),
            "no_provider_key": _("There is no API key for this model's provider."),
            "content_blocked": _("The provider refused to answer this."),
            "stream_interrupted": _("The answer was cut off by the provider."),
        }
        return messages.get(error.code, _("The model could not answer."))

    def release(self, turn: Turn) -> bool:
        """Show what the output filters still hold of an answer that ended (finished,
        cancelled or failed). False when that last text made a filter stop the answer."""
        if not turn.output_filters or turn.events is None or turn.blocked is not None:
            return turn.blocked is None
        try:
            turn.events.delta(turn.assistant_id, turn.finish_output())
        except OutputBlocked as blocked:
            self.block(turn, blocked)
            return False
        return True

    @staticmethod
    def block(turn: Turn, blocked: OutputBlocked) -> None:
        """An output filter stopped the answer: its text becomes the refusal (never what
        the model wrote); what the model generated is still counted."""
        turn.usage = dataclasses.replace(
            turn.usage,
            input_tokens=max(turn.usage.input_tokens, turn.input_token_estimate),
            output_tokens=max(turn.usage.output_tokens, estimate_tokens(turn.text_out)),
        )
        turn.blocked = blocked
        turn.status = Message.Status.BLOCKED
        turn.text_out = blocked.reason
        turn.error_code, turn.error_message = blocked.category, ""

    @staticmethod
    def fail(turn: Turn, code: str, message: str) -> None:
        turn.status = Message.Status.INTERRUPTED if turn.text_out else Message.Status.FAILED
        turn.error_code, turn.error_message = code, message
        turn.emit(
            {"type": "error", "code": code, "message": message, "message_id": turn.assistant_id}
        )

    async def generate(self, turn: Turn) -> None:
        model = turn.model
        assert model is not None and turn.events is not None
        context = list(turn.context)
        usage = Usage()
        for round_number in range(settings.SPARK_TOOL_MAX_ROUNDS + 1):
            offer_tools = turn.tools if round_number < settings.SPARK_TOOL_MAX_ROUNDS else []
            request = ChatRequest(
                provider=model.provider,
                model=model.model_id,
                messages=tuple(context),
                tools=tuple(offer_tools),
                max_tokens=model.max_output_tokens,
                metadata={"base_url": model.base_url} if model.base_url else {},
            )
            calls, round_usage, finished = await self.stream_round(turn, request)
            if calls and turn.output_filters:
                # The text before the tool calls is shown before them.
                turn.events.delta(turn.assistant_id, turn.finish_output())
            usage = Usage(
                input_tokens=usage.input_tokens + round_usage.input_tokens,
                output_tokens=usage.output_tokens + round_usage.output_tokens,
                cached_tokens=usage.cached_tokens + round_usage.cached_tokens,
                reasoning_tokens=usage.reasoning_tokens + round_usage.reasoning_tokens,
            )
            turn.usage = usage
            if not finished or not calls:
                break
            context.append(ChatMessage(role="assistant", content="", tool_calls=tuple(calls)))
            for call in calls:
                result = await self.run_tool(turn, call)
                context.append(
                    ChatMessage(role="tool", content=result, tool_call_id=call.id, name=call.name)
                )
        if turn.cancel.is_set():
            turn.status = Message.Status.CANCELLED
        elif turn.status == Message.Status.STREAMING:
            turn.status = Message.Status.COMPLETE

    async def stream_round(
        self, turn: Turn, request: ChatRequest
    ) -> tuple[list[ToolCall], Usage, bool]:
        """One model call. Returns its tool calls, its usage, and whether it ran to the end."""
        calls: list[ToolCall] = []
        usage = Usage()
        assert turn.events is not None
        events = turn.events

        filtered = bool(turn.output_filters)

        async def consume() -> None:
            stream = get_gateway().stream(request, keys=turn.key_context)
            # Closed however consumption ends: a filter that stops the answer closes the
            # provider's stream at once.
            async with contextlib.aclosing(stream):
                async for event in stream:
                    handle(event)

        def handle(event: StreamEvent) -> None:
            nonlocal usage
            if isinstance(event, TextDelta):
                if not turn.text_out:
                    metrics.turn_first_token(turn)
                turn.text_out += event.text
                events.delta(
                    turn.assistant_id, turn.filter_output(event.text) if filtered else event.text
                )
            elif isinstance(event, ToolCallReady):
                calls.append(event.call)
            elif isinstance(event, UsageReport):
                usage = event.usage
            elif isinstance(event, KeyUsed):
                turn.key_source = event.source
            elif isinstance(event, StreamEnd) and event.finish_reason == "length":
                turn.error_code = "length"

        if turn.cancel.is_set():
            return calls, usage, False
        stream_task = asyncio.ensure_future(consume())
        cancel_task = asyncio.ensure_future(turn.cancel.wait())
        try:
            done, _pending = await asyncio.wait(
                {stream_task, cancel_task}, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            cancel_task.cancel()
        if stream_task not in done:
            stream_task.cancel()
            await asyncio.gather(stream_task, return_exceptions=True)
            if usage.input_tokens == 0:
                usage = Usage(
                    input_tokens=turn.input_token_estimate,
                    output_tokens=estimate_tokens(turn.text_out),
                )
            return calls, usage, False
        stream_task.result()  # re-raise a provider error
        return calls, usage, True

    async def run_tool(self, turn: Turn, call: ToolCall) -> str:
        assert turn.assistant_message is not None
        entry: dict[str, Any] = {"id": call.id, "name": call.name, "arguments": call.arguments}
        turn.emit(
            {
                "type": "tool.call",
                "message_id": turn.assistant_id,
                "call_id": call.id,
                "name": call.name,
                "arguments": call.arguments,
            }
        )
        tools = {tool.name: tool for tool in tools_for([t.name for t in turn.tools])}
        tool = tools.get(call.name)
        context = ToolContext(
            tenant=turn.tenant,
            user=turn.user,
            conversation_uuid=str(turn.conversation.uuid),
            key_context=turn.key_context,
        )
        if tool is None:
            content, display, is_error = f"Unknown tool {call.name}.", {}, True
        else:
            try:
                arguments = json.loads(call.arguments or "{}")
                result = await asyncio.wait_for(tool.run(arguments, context), tool.timeout)
                content, display, is_error = result.content, result.display, result.is_error
                if result.usage is not None:
                    turn.extra_usage.append(result.usage)
            except TimeoutError:
                content, display, is_error = (
                    "The tool timed out.",
                    {"error": _("The tool timed out.")},
                    True,
                )
            except (ValueError, TypeError):
                content, display, is_error = "The tool arguments were not valid JSON.", {}, True
            except Exception:
                logger.exception("tool %s failed for message %s", call.name, turn.assistant_id)
                content, display, is_error = (
                    "The tool failed.",
                    {"error": _("The tool failed.")},
                    True,
                )
        entry.update({"result": content[:4000], "display": display, "is_error": is_error})
        turn.tool_log.append(entry)
        turn.emit(
            {
                "type": "tool.result",
                "message_id": turn.assistant_id,
                "call_id": call.id,
                "name": call.name,
                "display": display,
                "is_error": is_error,
            }
        )
        return content
