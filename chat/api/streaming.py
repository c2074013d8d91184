"""The chat endpoints that need the server's event loop: send, regenerate, cancel, events.

A turn runs as its own task on the web process's loop (``chat.runner.turn_start``), so
these are async views. ``AsyncAPIView`` keeps them DRF classes for the OpenAPI schema
(drf-spectacular reads their ``extend_schema``) while Django serves them as coroutines:
authentication is the middleware's (session or bearer API key), CSRF is checked for
session requests, and every error is the API's ``{"code", "message", "details"?}``.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import orjson
from asgiref.sync import sync_to_async
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions as drf_exceptions
from rest_framework.authentication import CSRFCheck
from rest_framework.views import APIView

from accounts.models import User
from chat import selectors
from chat.api.serializers import (
    ExchangeSerializer,
    MessageSendSerializer,
    MessageSerializer,
    RegenerateSerializer,
    message_context,
)
from chat.api.sse import (
    SSE_HEADERS,
    AnswerFeed,
    is_terminal,
    parse_last_event_id,
    sse_frame,
    stream_frames,
)
from chat.api.sse_schema import SSE_EVENT_SCHEMA
from chat.api.views import MESSAGES_BEFORE_PARAM, MESSAGES_LIMIT_PARAM, message_list_response
from chat.models import Conversation, Message
from chat.pipeline import Turn
from chat.runner import TurnOutcome, generation_cancel, turn_start
from spark.common.api_errors import _validation_message
from spark.common.asyncdb import db, release_request_connections, streamed_without_connection
from spark.common.exceptions import ApplicationError, error_body
from spark.common.net import client_ip
from spark.common.openapi import error_response
from spark.realtime.replay import get_replay_buffer
from spark.tenancy.context import tenant_scope

logger = logging.getLogger(__name__)

Handler = Callable[..., Coroutine[Any, Any, HttpResponseBase]]

SSE_RESPONSE = OpenApiResponse(
    SSE_EVENT_SCHEMA,
    description="`text/event-stream`: the protocol's events (`event: <type>`, `data: <json>`, "
    "`id: <message_id>:<seq>`) until the answer's `message.done` or `message.blocked`.",
)

# What sending (or regenerating) answers: the exchange, the stream, or a refusal's status.
TURN_RESPONSES = {
    (201, "application/json"): ExchangeSerializer,
    (200, "text/event-stream"): SSE_RESPONSE,
    (402, "application/json"): error_response(
        "The payer cannot afford the answer (`insufficient_funds`, …)."
    ),
    (409, "application/json"): error_response(
        "`busy` (an answer is being written), `duplicate_message` (this `client_id` was "
        "sent), `message_blocked` (supervision; `details.category`), `model_unavailable`."
    ),
    (410, "application/json"): error_response("`prompt_unavailable`: the prompt is gone."),
    (423, "application/json"): error_response("`conversation_locked` by supervision."),
}


def api_error(code: str, message: str, status: int, details: Any = None) -> JsonResponse:
    return JsonResponse(error_body(code, message, details), status=status)


class AsyncAPIView(APIView):
    """A DRF view class (for the schema) whose handlers are coroutines Django awaits."""

    streams = False  # whether it can answer with server-sent events

    @classmethod
    def as_view(cls, **initkwargs: Any) -> Any:  # type: ignore[override]
        async def view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            self = cls(**initkwargs)
            self.args, self.kwargs = args, kwargs
            method = (request.method or "").lower()
            handler: Handler | None = getattr(self, method, None)
            if method != "options" and not inspect.iscoroutinefunction(handler):
                response = api_error("method_not_allowed", _("Method not allowed."), 405)
                response["Allow"] = ", ".join(self.allowed_methods)
                return response
            try:
                user = await sync_to_async(_authenticate)(request)
                if method == "options":
                    return self.options_response()
                assert handler is not None
                return await handler(request, user, *args, **kwargs)
            except ApplicationError as error:
                return api_error(error.code, error.message, error.status_code, error.details)
            except Http404:
                return api_error("not_found", _("Not found."), 404)
            except drf_exceptions.ValidationError as error:
                return api_error("invalid", _validation_message(error.detail), 400, error.detail)
            except drf_exceptions.APIException as error:
                code = "not_authenticated" if error.status_code == 401 else str(error.default_code)
                return api_error(code, str(error.detail), error.status_code)

        view.cls = cls  # type: ignore[attr-defined]
        view.initkwargs = initkwargs  # type: ignore[attr-defined]
        view.csrf_exempt = True  # type: ignore[attr-defined]  # checked in _authenticate
        return view

    @property
    def allowed_methods(self) -> list[str]:
        """The methods this view answers: its coroutine handlers, and OPTIONS."""
        return [
            method.upper()
            for method in self.http_method_names
            if method == "options" or inspect.iscoroutinefunction(getattr(self, method, None))
        ]

    def options_response(self) -> JsonResponse:
        """OPTIONS, as DRF's own views answer it: the view's name and media types."""
        renders = ["application/json"]
        if self.streams:
            renders.append("text/event-stream")
        body = {
            "name": self.get_view_name(),
            "description": self.get_view_description(),
            "renders": renders,
            "parses": ["application/json"],
        }
        response = JsonResponse(body)
        response["Allow"] = ", ".join(self.allowed_methods)
        return response


def _authenticate(request: HttpRequest) -> User:
    """The request's user (session or bearer key), with CSRF enforced for sessions."""
    if getattr(request, "api_key_invalid", False):
        raise drf_exceptions.AuthenticationFailed(_("Invalid API key."))
    user = request.user
    if not user.is_authenticated:
        raise drf_exceptions.NotAuthenticated(_("Authentication credentials were not provided."))
    safe = request.method in ("GET", "HEAD", "OPTIONS")
    if not safe and getattr(request, "api_key", None) is None:
        check = CSRFCheck(lambda _request: None)  # type: ignore[arg-type, return-value]
        check.process_request(request)
        reason = check.process_view(request, None, (), {})  # type: ignore[arg-type]
        if reason:
            raise drf_exceptions.PermissionDenied(_("CSRF check failed. Reload the page."))
    return getattr(user, "_wrapped", user)  # type: ignore[return-value]


def _json_body(request: HttpRequest) -> dict[str, Any]:
    if not request.body:
        return {}
    try:
        data = orjson.loads(request.body)
    except orjson.JSONDecodeError:
        raise ApplicationError(_("The body is not valid JSON."), code="parse_error") from None
    if not isinstance(data, dict):
        raise ApplicationError(_("The body must be a JSON object."), code="parse_error")
    return data


async def _conversation(user: User, conversation_id: Any) -> Conversation:
    return await sync_to_async(selectors.conversation_get_for_user)(user=user, uuid=conversation_id)


def _refusal_response(outcome: TurnOutcome) -> JsonResponse:
    details = outcome.details
    if outcome.code == "message_blocked":
        details = {"category": outcome.category}
    return api_error(outcome.code, outcome.message, outcome.http_status, details)


def _exchange_data(turn: Turn) -> dict[str, Any]:
    assert turn.user_message is not None and turn.assistant_message is not None
    messages = list(
        Message.objects.filter(pk__in=[turn.user_message.pk, turn.assistant_message.pk])
    )
    by_pk = {m.pk: m for m in messages}
    exchange = {
        "user_message": by_pk[turn.user_message.pk],
        "assistant_message": by_pk[turn.assistant_message.pk],
    }
    return dict(ExchangeSerializer(exchange, context=message_context(messages)).data)


async def run_and_answer(turn: Turn, *, stream: bool) -> HttpResponseBase:
    """Start the turn; answer with the exchange (201), a refusal, or an SSE stream."""
    tenant = turn.tenant
    if not stream:
        with tenant_scope(tenant):
            task = turn_start(turn)
        await release_request_connections()  # none held while the answer is written
        # Shielded: a client that goes away must not cancel the answer.
        outcome = await asyncio.shield(task)
        if outcome.status in ("refused", Message.Status.BLOCKED) or turn.assistant_message is None:
            return _refusal_response(outcome)
        with tenant_scope(tenant):
            data = await sync_to_async(_exchange_data)(turn)
        return JsonResponse(data, status=201)

    feed = AnswerFeed(turn.conversation.uuid)
    feed.client_id = turn.client_id
    await feed.subscribe()  # before the turn starts: no event can be missed
    with tenant_scope(tenant):
        task = turn_start(turn)
    # The turn writes in short transactions of its own; this request holds no connection
    # while it waits for the answer and streams it.
    await release_request_connections()
    # Wait for the first event about this message: a refusal is answered with its status.
    first: list[dict[str, Any]] = []
    while not first:
        frames = await feed.receive(1.0)
        if frames:
            first = await feed.select(frames)
        elif frames is None and task.done():
            break  # every event of a finished turn was already delivered
    if not first or (first[0]["type"] == "error" and not feed.following):
        await feed.unsubscribe()
        return _refusal_response(await asyncio.shield(task))

    async def until_idle() -> tuple[list[dict[str, Any]], bool]:
        return [], task.done()

    async def body() -> AsyncIterator[bytes]:
        with tenant_scope(tenant):
            async for chunk in stream_frames(feed, first, until_idle=until_idle):
                yield chunk

    return StreamingHttpResponse(
        streamed_without_connection(body()),
        content_type="text/event-stream",
        headers=SSE_HEADERS,
    )


MESSAGES_PATH = OpenApiParameter(
    "conversation_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The conversation."
)


class MessageListView(AsyncAPIView):
    streams = True  # answers with server-sent events too

    @extend_schema(
        operation_id="conversations_messages_list",
        parameters=[MESSAGES_PATH, MESSAGES_LIMIT_PARAM, MESSAGES_BEFORE_PARAM],
        responses=MessageSerializer(many=True),
        description="The conversation's messages, oldest first (superseded ones left out). "
        "An answer still `streaming` has its text so far and `last_seq`: resume it with "
        "`stream.resume` on the WebSocket or the `events` endpoint. With `limit`, only the "
        "latest messages; page back with `before` (400 `invalid_limit`, `invalid_before`).",
    )
    async def get(self, request: HttpRequest, user: User, conversation_id: str) -> HttpResponseBase:
        response = await sync_to_async(message_list_response)(
            user=user, conversation_id=conversation_id, query=request.GET
        )
        return JsonResponse(response.data, safe=False)

    @extend_schema(
        operation_id="conversations_messages_send",
        parameters=[MESSAGES_PATH],
        request=MessageSendSerializer,
        responses=TURN_RESPONSES,
        description="Send a message. Without `stream`: waits for the answer and returns both "
        "messages (201), or the refusal's status (409 busy, duplicate or blocked — "
        '`code` "message_blocked" with `details.category` —, 423 locked, …). With '
        "`stream: true`: the answer as server-sent events with the protocol's event names.",
    )
    async def post(
        self, request: HttpRequest, user: User, conversation_id: str
    ) -> HttpResponseBase:
        conversation = await _conversation(user, conversation_id)
        serializer = MessageSendSerializer(data=_json_body(request))
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        edit_of = None
        if data.get("edit_of"):
            edit_of = await sync_to_async(selectors.message_to_edit)(
                conversation=conversation, uuid=data["edit_of"]
            )
        turn = Turn(
            tenant=request.tenant,  # type: ignore[attr-defined]
            user=user,
            conversation=conversation,
            channel="sse" if data["stream"] else "rest",
            text=data["text"],
            client_id=data["client_id"],
            edit_of=edit_of,
            client_ip=client_ip(request),
            discard_if_refused=True,
        )
        return await run_and_answer(turn, stream=data["stream"])


class RegenerateView(AsyncAPIView):
    streams = True  # answers with server-sent events too

    @extend_schema(
        operation_id="conversations_messages_regenerate",
        parameters=[
            MESSAGES_PATH,
            OpenApiParameter(
                "message_id",
                OpenApiTypes.UUID,
                OpenApiParameter.PATH,
                description="The answer to write again, or the user message to answer again.",
            ),
        ],
        request=RegenerateSerializer,
        responses=TURN_RESPONSES,
        description="Answer a user message again; the previous answer (and anything after "
        "it) is superseded. Same answers as sending.",
    )
    async def post(
        self, request: HttpRequest, user: User, conversation_id: str, message_id: str
    ) -> HttpResponseBase:
        conversation = await _conversation(user, conversation_id)
        target = await sync_to_async(selectors.message_to_regenerate)(
            conversation=conversation, uuid=message_id
        )
        serializer = RegenerateSerializer(data=_json_body(request))
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        turn = Turn(
            tenant=request.tenant,  # type: ignore[attr-defined]
            user=user,
            conversation=conversation,
            channel="sse" if data["stream"] else "rest",
            text=target.content,
            client_id=data.get("client_id", ""),
            regenerate=target,
            client_ip=client_ip(request),
            discard_if_refused=True,
        )
        return await run_and_answer(turn, stream=data["stream"])


class CancelView(AsyncAPIView):
    @extend_schema(
        operation_id="conversations_cancel",
        parameters=[MESSAGES_PATH],
        request=None,
        responses={202: None},
        description="Stop the conversation's running answer, whichever server writes it. The "
        "answer ends with `message.done` and status `cancelled`.",
    )
    async def post(
        self, request: HttpRequest, user: User, conversation_id: str
    ) -> HttpResponseBase:
        conversation = await _conversation(user, conversation_id)
        await generation_cancel(conversation_uuid=conversation.uuid)
        return HttpResponse(status=202)


class EventsView(AsyncAPIView):
    streams = True  # answers with server-sent events too

    @extend_schema(
        operation_id="conversations_events",
        parameters=[
            MESSAGES_PATH,
            OpenApiParameter("message_id", OpenApiTypes.UUID, required=True),
            OpenApiParameter(
                "after_seq",
                {"type": "integer", "minimum": 0},
                description="The last seq you have (0: from the start).",
            ),
            OpenApiParameter(
                "Last-Event-ID",
                str,
                OpenApiParameter.HEADER,
                description="`<message_id>:<seq>`, as EventSource sends it; wins over the "
                "query parameters.",
            ),
        ],
        responses={
            (200, "text/event-stream"): SSE_RESPONSE,
            204: OpenApiResponse(description="Nothing more to send: the answer is over."),
        },
        description="Resume an answer over server-sent events (the fallback for clients "
        "without WebSockets): its buffered events after `after_seq`, then the live ones, "
        "until its terminal event. `error` `resume_expired` when the events are gone "
        "(reload the messages).",
    )
    async def get(self, request: HttpRequest, user: User, conversation_id: str) -> HttpResponseBase:
        conversation = await _conversation(user, conversation_id)
        message_key = request.GET.get("message_id", "")
        after_raw = request.GET.get("after_seq", "0")
        resumed = parse_last_event_id(request.headers.get("Last-Event-ID"))
        if resumed is not None:
            message_key, after_seq = resumed
        elif after_raw.isdigit():
            after_seq = int(after_raw)
        else:
            invalid = _("after_seq must be a whole number, 0 or more.")
            raise ApplicationError(invalid, code="invalid")
        message = await sync_to_async(selectors.message_get_in_conversation)(
            conversation=conversation, uuid=message_key
        )
        message_id = str(message.uuid)
        tenant = request.tenant  # type: ignore[attr-defined]
        feed = AnswerFeed(conversation.uuid)
        await feed.subscribe()
        first = await feed.replay(message_id, after_seq)
        finished = any(is_terminal(frame) for frame in first)
        if not first and message.status != Message.Status.STREAMING:
            await feed.unsubscribe()
            if message.last_seq > after_seq:
                return _expired_stream(message_id)
            return HttpResponse(status=204)

        async def until_idle() -> tuple[list[dict[str, Any]], bool]:
            """An answer left streaming by a dead process never ends by itself."""
            status = await db(_status_of)(message.pk)
            if status == Message.Status.STREAMING:
                return [], False
            extra = await feed.select(
                await _buffered(message_id, feed.following.get(message_id, 0)), replaying=True
            )
            if any(is_terminal(frame) for frame in extra):
                return extra, True
            return [*extra, _expired_event(message_id)], True

        async def body() -> AsyncIterator[bytes]:
            with tenant_scope(tenant):
                async for chunk in stream_frames(
                    feed, first, until_idle=None if finished else until_idle
                ):
                    yield chunk

        return StreamingHttpResponse(
            streamed_without_connection(body()),
            content_type="text/event-stream",
            headers=SSE_HEADERS,
        )


def _status_of(pk: int) -> str | None:
    return Message.objects.filter(pk=pk).values_list("status", flat=True).first()


async def _buffered(message_id: str, after_seq: int) -> list[dict[str, Any]]:
    return await get_replay_buffer().read_after(message_id, after_seq)


def _expired_event(message_id: str) -> dict[str, Any]:
    return {
        "type": "error",
        "code": "resume_expired",
        "message": _("Reload the conversation to see this answer."),
        "message_id": message_id,
    }


def _expired_stream(message_id: str) -> StreamingHttpResponse:
    async def body() -> AsyncIterator[bytes]:
        yield sse_frame(_expired_event(message_id))

    return StreamingHttpResponse(body(), content_type="text/event-stream", headers=SSE_HEADERS)
