"""Driving turns in watchdog tests: over the WebSocket, or through the runner directly (the
path REST/SSE and the OpenAI-compatible API take: they map ``TurnOutcome``)."""

from __future__ import annotations

import itertools
from typing import Any

from channels.db import database_sync_to_async as sync_to_async
from channels.testing import WebsocketCommunicator

from accounts.models import User
from chat import selectors as chat_selectors
from chat.models import Conversation, Message
from chat.pipeline import Turn
from chat.runner import TurnOutcome, run_turn
from spark.tenancy.context import tenant_scope, unscoped
from tests.chat.conftest import session_cookie, ws_connect
from tests.chat.wire import Frame, is_terminal, receive_until, send, send_frame
from watchdog.models import Supervision, WatchdogEvent

_ids = itertools.count(1)


async def socket_for(user: User, conversation: Conversation) -> WebsocketCommunicator:
    cookie = await sync_to_async(session_cookie)(user)
    communicator, connected, close_code = await ws_connect(
        f"/ws/chat/{conversation.uuid}/", cookie=cookie
    )
    assert connected and close_code is None
    return communicator


async def say(communicator: WebsocketCommunicator, text: str) -> list[Frame]:
    """Send a message and read until its answer ends (done or blocked) or it is refused.

    Frames about other turns of the conversation (every socket on it sees them) are
    skipped: the list holds this message's frames only."""
    client_id = f"c{next(_ids)}"
    await send(communicator, send_frame(text, client_id=client_id))
    mine: list[Frame] = []
    answer: str | None = None
    while True:
        [frame] = await receive_until(communicator, lambda f: True)
        if frame["type"] == "message.accepted" and frame["client_id"] == client_id:
            answer = frame["assistant_message_id"]
        elif frame.get("client_id") != client_id and (
            answer is None or frame.get("message_id") != answer
        ):
            continue
        mine.append(frame)
        if is_terminal(frame) or (frame["type"] == "error" and "message_id" not in frame):
            return mine


async def receive_until_all(communicator: WebsocketCommunicator, wanted: set[str]) -> list[Frame]:
    """Frames until one of each wanted kind arrived (a frame's kind: its error code, else
    its type), whatever their order."""
    frames: list[Frame] = []
    missing = set(wanted)
    while missing:
        [frame] = await receive_until(communicator, lambda f: True)
        frames.append(frame)
        missing.discard(frame.get("code") or frame["type"])
    return frames


@sync_to_async
def _load(user: User, conversation: Conversation) -> tuple[Conversation, Any]:
    tenant = conversation.tenant
    with tenant_scope(tenant):
        return chat_selectors.conversation_get_for_user(user=user, uuid=conversation.uuid), tenant


async def run_text(
    user: User, conversation: Conversation, text: str, *, channel: str = "rest"
) -> tuple[Turn, TurnOutcome]:
    """One turn through ``chat.runner.run_turn`` (what the REST and OpenAI views call)."""
    loaded, tenant = await _load(user, conversation)
    turn = Turn(
        tenant=tenant,
        user=user,
        conversation=loaded,
        channel=channel,
        text=text,
        client_id=f"r{next(_ids)}",
    )
    return turn, await run_turn(turn)


@sync_to_async
def events_of(conversation: Conversation) -> list[WatchdogEvent]:
    with unscoped():
        return list(WatchdogEvent.objects.filter(conversation_id=conversation.pk).order_by("id"))


@sync_to_async
def supervision_of(conversation: Conversation) -> Supervision | None:
    with unscoped():
        return Supervision.objects.filter(conversation_id=conversation.pk).first()


@sync_to_async
def messages_of(conversation: Conversation) -> list[Message]:
    with unscoped():
        return list(Message.objects.filter(conversation_id=conversation.pk).order_by("id"))


@sync_to_async
def reload(conversation: Conversation) -> Conversation:
    with unscoped():
        return Conversation.objects.get(pk=conversation.pk)


def chat_calls(fake: Any) -> list[Any]:
    return list(fake.model_calls)


def system_of(call: Any) -> str:
    """The system prompt a chat model received (Anthropic's top-level ``system``)."""
    system = call.json.get("system", "")
    if isinstance(system, list):
        return "".join(block.get("text", "") for block in system)
    return str(system)


@sync_to_async
def on_own_keys_only(user: User, provider: str, api_key: str) -> None:
    """The user brings a key for ``provider`` and uses only their own keys."""
    from accounts import services as account_services

    with unscoped():
        account_services.provider_key_add(user=user, provider=provider, api_key=api_key)
        user.llm_key_mode = "own_only"
        user.save(update_fields=["llm_key_mode"])
