"""The OpenAI-compatible API: ``POST /v1/chat/completions`` and ``GET /v1/models``.

Any OpenAI client talks to Spark with a Spark API key. The model is a catalogue model
(``openai-gpt-4o``, ``demo`` ...) or ``prompt:<slug>`` — chatting with a marketplace
prompt. Each call is a conversation of its own (``source=api``, hidden from the chat
sidebar), named in the ``X-Spark-Conversation`` response header; a client that sends
that header back continues the conversation (Spark keeps its history, so only the last
user message is used). Calls run through the same send pipeline as the browser, so
supervision and billing apply to them: the system and developer messages, earlier turns,
tool results and names a client sends are handed to the pipeline as ``Turn.supplied`` (and
the conversation's system prompt), and the pre-watchdog judges them like the message.
Errors carry both Spark's ``{"code", "message"}`` and OpenAI's ``{"error": {...}}``
shapes, so OpenAI SDKs raise readable exceptions.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

import orjson
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from accounts.models import Tenant, User
from chat import services
from chat.models import Conversation
from chat.pipeline import SuppliedText, Turn
from chat.runner import TurnOutcome, turn_start
from chat.selectors import conversation_get_for_user
from chat.streams import TERMINAL, ConversationEvents
from marketplace.models import Prompt
from marketplace.selectors import prompt_catalog, prompt_chat_key, prompt_get_for_chat
from spark.common.asyncdb import (
    on_request_thread,
    release_request_connections,
    streamed_without_connection,
)
from spark.common.exceptions import ApplicationError
from spark.common.net import client_ip
from spark.llm.models import LLMModel
from spark.tenancy.context import tenant_scope

PROMPT_PREFIX = "prompt:"
ROLES = ("system", "developer", "user", "assistant", "tool")
FIRST_EVENT_TIMEOUT = 600.0
OPENAI_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "insufficient_quota",
    403: "permission_error",
    404: "not_found_error",
    409: "invalid_request_error",
    423: "invalid_request_error",
    429: "rate_limit_error",
}


def error_response(status: int, code: str, message: str, param: str | None = None) -> HttpResponse:
    body = {
        "code": code,
        "message": message,
        "error": {
            "message": message,
            "type": OPENAI_ERROR_TYPES.get(status, "api_error"),
            "param": param,
            "code": code,
        },
    }
    return HttpResponse(orjson.dumps(body), status=status, content_type="application/json")


class BadRequest(Exception):
    def __init__(self, message: str, param: str | None = None, code: str = "invalid_request"):
        super().__init__(message)
        self.message, self.param, self.code = message, param, code


@dataclass(frozen=True)
class EarlierTurn:
    """A turn the client says came before: stored as ``role``/``text`` (what the model
    reads), judged as ``parts`` (each piece the client wrote, raw, with what it is)."""

    role: str  # user | assistant (a tool result is stored as user text)
    text: str
    parts: tuple[SuppliedText, ...]


@dataclass(frozen=True)
class CompletionRequest:
    model: str
    history: list[EarlierTurn]
    system: str  # the system and developer messages
    text: str  # the last user message
    stream: bool
    include_usage: bool
    names: tuple[str, ...] = ()  # the messages' ``name`` fields: judged, not passed on


def _content_text(content: Any, index: int, *, optional: bool = False) -> str:
    """A message's text: a string, or OpenAI's list of ``{"type": "text"}`` parts."""
    if isinstance(content, str):
        return content
    if content is None and optional:
        return ""
    if isinstance(content, list):
        texts = []
        for part in content:
            if not isinstance(part, dict) or part.get("type") != "text":
                raise BadRequest(_("Only text content is supported."), f"messages[{index}].content")
            texts.append(str(part.get("text", "")))
        return "".join(texts)
    raise BadRequest(_("Each message needs text content."), f"messages[{index}].content")


def _tool_calls(calls: Any, index: int) -> list[tuple[str, str]]:
    """The tool calls an assistant turn says it made: (function name, arguments)."""
    if calls is None:
        return []
    if not isinstance(calls, list):
        raise BadRequest(_("tool_calls must be a list."), f"messages[{index}].tool_calls")
    found = []
    for call in calls:
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict):
            raise BadRequest(_("Each tool call needs a function."), f"messages[{index}].tool_calls")
        found.append((str(function.get("name") or ""), str(function.get("arguments") or "")))
    return found


def _turn_of(message: dict[str, Any], index: int) -> EarlierTurn:
    """An earlier turn as it is stored; a tool result becomes text the user side gave."""
    role = message["role"]
    if role == "assistant":
        text = _content_text(message.get("content"), index, optional=True)
        calls = _tool_calls(message.get("tool_calls"), index)
        lines = [text] if text else []
        lines += [f"[called {name}({arguments})]" for name, arguments in calls]
        parts = [SuppliedText(role="assistant", content=text)]
        for name, arguments in calls:
            parts += [
                SuppliedText(role="tool_call", content=name),
                SuppliedText(role="tool_call", content=arguments),
            ]
        return EarlierTurn("assistant", "\n".join(lines), tuple(parts))
    text = _content_text(message.get("content"), index)
    if role == "tool":
        tool = message.get("name")
        label = f"Tool result ({tool}):" if isinstance(tool, str) and tool else "Tool result:"
        return EarlierTurn("user", f"{label}\n{text}", (SuppliedText(role="tool", content=text),))
    return EarlierTurn("user", text, (SuppliedText(role="user", content=text),))


def parse_request(raw: bytes) -> CompletionRequest:
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise BadRequest(_("The request body is not valid JSON.")) from None
    if not isinstance(body, dict):
        raise BadRequest(_("The request body must be a JSON object."))
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise BadRequest(_("Say which model to use."), "model")
    if body.get("tools") or body.get("functions"):
        raise BadRequest(
            _("Client-side tools are not supported; prompts run their tools on the server."),
            "tools",
        )
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadRequest(_("Send at least one message."), "messages")
    system_parts: list[str] = []
    turns: list[EarlierTurn] = []
    names: list[str] = []
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in ROLES:
            raise BadRequest(
                _("Each message needs a role: system, developer, user, assistant or tool."),
                f"messages[{index}]",
            )
        if isinstance(message.get("name"), str) and message["name"].strip():
            names.append(message["name"])
        if message["role"] in ("system", "developer"):
            system_parts.append(_content_text(message.get("content"), index))
        else:
            turns.append(_turn_of(message, index))
    last = messages[-1]
    if last["role"] != "user" or not turns[-1].text.strip():
        raise BadRequest(_("The last message must be the user's, with text."), "messages")
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise BadRequest(_("stream must be true or false."), "stream")
    options = body.get("stream_options") or {}
    return CompletionRequest(
        model=model,
        history=turns[:-1],
        system="\n\n".join(part for part in system_parts if part.strip()),
        text=turns[-1].text,
        stream=stream,
        include_usage=bool(isinstance(options, dict) and options.get("include_usage")),
        names=tuple(names),
    )


def _resolve(user: User, tenant: Tenant, name: str) -> tuple[Prompt | None, str | None]:
    """``prompt:<slug>`` → that prompt; anything else → a catalogue model slug."""
    if name.startswith(PROMPT_PREFIX):
        try:
            return prompt_get_for_chat(
                user=user, tenant=tenant, slug_or_uuid=name.removeprefix(PROMPT_PREFIX)
            ), None
        except Http404:
            raise ApplicationError(
                _("No prompt %(name)s.") % {"name": name}, code="model_not_found", status_code=404
            ) from None
    model = LLMModel.objects.filter(is_active=True, slug=name).first()
    if model is None:
        raise ApplicationError(
            _("No model %(name)s. GET /v1/models lists them.") % {"name": name},
            code="model_not_found",
            status_code=404,
        )
    return None, model.slug


CONVERSATION_HEADER = "X-Spark-Conversation"


def continue_conversation(user: User, conversation_uuid: str) -> Conversation:
    """An earlier API conversation of this user (its history is Spark's, not the client's)."""
    try:
        return conversation_get_for_user(user=user, uuid=conversation_uuid)
    except Http404:
        raise ApplicationError(
            _("No conversation %(id)s.") % {"id": conversation_uuid[:40]},
            code="conversation_not_found",
            status_code=404,
        ) from None


def open_conversation(
    user: User, tenant: Tenant, request: CompletionRequest
) -> tuple[Conversation, list[SuppliedText]]:
    """A new API conversation with the client's system text and earlier turns; the turns
    come back as supplied text, which the pipeline judges before they reach the model."""
    prompt, model_slug = _resolve(user, tenant, request.model)
    conversation = services.conversation_create(
        user=user,
        tenant=tenant,
        prompt=prompt,
        model_slug=model_slug,
        source=Conversation.Source.API,
        system_prompt=request.system,
    )
    seeded = (
        services.conversation_seed_history(
            conversation=conversation, messages=[(turn.role, turn.text) for turn in request.history]
        )
        if request.history
        else []
    )
    return conversation, [
        replace(part, message_id=message.pk)
        for turn, message in zip(request.history, seeded, strict=True)
        for part in turn.parts
    ]


def _finish_reason(turn: Turn) -> str:
    if turn.status == "blocked":
        return "content_filter"
    return "length" if turn.error_code == "length" else "stop"


def _usage(input_tokens: int, output_tokens: int) -> dict[str, int]:
    return {
        "prompt_tokens": input_tokens,
        "completion_tokens": output_tokens,
        "total_tokens": input_tokens + output_tokens,
    }


def _refusal(outcome: TurnOutcome) -> HttpResponse:
    return error_response(outcome.http_status, outcome.code, outcome.message)


@csrf_exempt
async def chat_completions(request: HttpRequest) -> HttpResponseBase:
    if request.method != "POST":
        return error_response(405, "method_not_allowed", _("Use POST."))
    if getattr(request, "api_key", None) is None:
        return error_response(401, "invalid_api_key", _("Send a Spark API key as a bearer token."))
    try:
        parsed = parse_request(request.body)
    except BadRequest as error:
        return error_response(400, error.code, error.message, error.param)
    user: User = request.user  # type: ignore[assignment]
    tenant: Tenant = request.tenant  # type: ignore[attr-defined]
    continued = request.headers.get(CONVERSATION_HEADER, "").strip()
    supplied = [SuppliedText(role="name", content=name) for name in parsed.names]
    try:
        if continued:
            conversation = await on_request_thread(continue_conversation)(user, continued)
        else:
            conversation, seeded = await on_request_thread(open_conversation)(user, tenant, parsed)
            supplied = seeded + supplied
    except ApplicationError as error:
        return error_response(error.status_code, error.code, error.message, "model")
    turn = Turn(
        tenant=tenant,
        user=user,
        conversation=conversation,
        channel="openai",
        text=parsed.text,
        client_id=uuid.uuid4().hex,
        client_ip=client_ip(request),
        supplied=supplied,
        discard_if_refused=True,
        conversation_opened=not continued,
    )
    response = await _answer(turn, parsed)
    response[CONVERSATION_HEADER] = str(conversation.uuid)
    return response


async def _answer(turn: Turn, parsed: CompletionRequest) -> HttpResponseBase:
    if parsed.stream:
        return await _stream(turn, parsed)
    task = turn_start(turn)
    await release_request_connections()  # none held while the answer is written
    outcome = await task
    if outcome.code:  # refused, blocked, or an internal error
        return _refusal(outcome)
    if outcome.status in ("failed", "interrupted"):
        # The partial answer is kept in the conversation; the client is told it failed.
        return error_response(502, turn.error_code or "provider_error", turn.error_message)
    body = {
        "id": f"chatcmpl-{turn.assistant_id}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": parsed.model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": turn.text_out},
                "finish_reason": _finish_reason(turn),
            }
        ],
        "usage": _usage(turn.usage.input_tokens, turn.usage.output_tokens),
    }
    return HttpResponse(orjson.dumps(body), content_type="application/json")


async def _stream(turn: Turn, parsed: CompletionRequest) -> HttpResponseBase:
    """Start the turn, wait for its first word (or its refusal), then stream chunks."""
    events = ConversationEvents(turn.conversation.uuid)
    await events.__aenter__()
    task = turn_start(turn)
    # No connection held while the first token comes and the answer streams: the turn
    # writes in short transactions of its own.
    await release_request_connections()
    first: list[dict[str, Any]] = []
    try:
        while True:
            event = await events.next(FIRST_EVENT_TIMEOUT)
            if event["type"] == "message.accepted":
                continue
            first.append(event)
            if event["type"] in ("delta", *TERMINAL):
                break
    except BaseException:
        await events.__aexit__(None, None, None)
        raise
    if first[-1]["type"] != "delta":
        await events.__aexit__(None, None, None)
        outcome = await task
        if outcome.code:
            return _refusal(outcome)
        if not turn.text_out and turn.error_code:
            return error_response(502, turn.error_code, turn.error_message)

    response = StreamingHttpResponse(
        streamed_without_connection(_chunks(turn, parsed, events, first)),
        content_type="text/event-stream",
    )
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response


def _sse(payload: dict[str, Any] | str) -> bytes:
    data = payload if isinstance(payload, str) else orjson.dumps(payload).decode()
    return f"data: {data}\n\n".encode()


def _replacement(base: dict[str, Any], blocked: dict[str, Any]) -> bytes:
    """The output guard stopped the answer after some of it was streamed: a chunk whose
    content is the refusal (after a blank line) and whose ``spark`` field tells clients
    that can to replace the text received so far with ``spark.content``."""
    return _sse(
        {
            **base,
            "choices": [
                {
                    "index": 0,
                    "delta": {"content": "\n\n" + blocked["reason"]},
                    "finish_reason": None,
                }
            ],
            "spark": {
                "event": "message.blocked",
                "stage": "output",
                "category": blocked["category"],
                "replace": True,
                "content": blocked["reason"],
            },
        }
    )


async def _chunks(
    turn: Turn, parsed: CompletionRequest, events: ConversationEvents, first: list[dict[str, Any]]
) -> AsyncIterator[bytes]:
    base = {
        "id": f"chatcmpl-{turn.assistant_id}",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": parsed.model,
    }

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        return _sse({**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})

    with tenant_scope(turn.tenant):
        try:
            yield chunk({"role": "assistant", "content": ""})
            pending = list(first)
            done: dict[str, Any] | None = None
            while done is None:
                event = pending.pop(0) if pending else await events.next(FIRST_EVENT_TIMEOUT)
                if event.get("message_id") not in (None, turn.assistant_id):
                    continue
                if event["type"] == "delta":
                    yield chunk({"content": event["text"]})
                elif event["type"] == "error":
                    yield _sse(
                        {
                            "error": {
                                "message": event["message"],
                                "type": "api_error",
                                "code": event["code"],
                                "param": None,
                            }
                        }
                    )
                elif event["type"] in TERMINAL:
                    done = event
            if done["type"] == "message.blocked" and done.get("stage") == "output":
                yield _replacement(base, done)
            usage = done.get("usage", {})
            finish = (
                "content_filter"
                if done["type"] == "message.blocked"
                else ("length" if turn.error_code == "length" else "stop")
            )
            yield chunk({}, finish)
            if parsed.include_usage:
                yield _sse(
                    {
                        **base,
                        "choices": [],
                        "usage": _usage(
                            usage.get("input_tokens", 0), usage.get("output_tokens", 0)
                        ),
                    }
                )
            yield _sse("[DONE]")
        finally:
            await events.__aexit__(None, None, None)


async def models(request: HttpRequest) -> HttpResponse:
    """The catalogue's active models, and the prompts the key's user may chat with."""
    if request.method != "GET":
        return error_response(405, "method_not_allowed", _("Use GET."))
    if getattr(request, "api_key", None) is None:
        return error_response(401, "invalid_api_key", _("Send a Spark API key as a bearer token."))
    user: User = request.user  # type: ignore[assignment]
    tenant: Tenant = request.tenant  # type: ignore[attr-defined]
    data = await on_request_thread(_model_list)(user, tenant)
    return HttpResponse(
        orjson.dumps({"object": "list", "data": data}), content_type="application/json"
    )


def _model_list(user: User, tenant: Tenant) -> list[dict[str, Any]]:
    created = int(time.time())
    rows: list[dict[str, Any]] = [
        {"id": model.slug, "object": "model", "created": created, "owned_by": model.provider}
        for model in LLMModel.objects.filter(is_active=True).order_by("position", "display_name")
    ]
    for prompt in prompt_catalog(user=user, tenant=tenant):
        rows.append(
            {
                "id": PROMPT_PREFIX + prompt_chat_key(prompt=prompt, tenant=tenant),
                "object": "model",
                "created": created,
                "owned_by": "spark-prompt",
            }
        )
    return rows
